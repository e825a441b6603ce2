package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/newswatch/newswatch/pkg/topics"
)

// writeSpaceItems writes a small labelled set written for this test:
// launches are "space", harvests are not.
func writeSpaceItems(t *testing.T, path string) {
	t.Helper()
	var b strings.Builder
	for i := range 60 {
		it := map[string]any{"id": fmt.Sprintf("i%d", i), "topics": []string{}}
		if i%3 == 0 {
			it["title"] = fmt.Sprintf("Agency launches satellite number %d into orbit", i)
			it["text"] = "The rocket lifted off at dawn."
			it["topics"] = []string{"space"}
		} else {
			it["title"] = fmt.Sprintf("Farmers bring in harvest number %d", i)
			it["text"] = "The wheat was stored in barns."
		}
		line, _ := json.Marshal(it)
		b.Write(line)
		b.WriteByte('\n')
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

func runTopicsWith(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := runTopics(context.Background(), args, IO{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errOut})
	return code, out.String(), errOut.String()
}

func TestTopicsTrain(t *testing.T) {
	dir := t.TempDir()
	items := filepath.Join(dir, "space.jsonl")
	model := filepath.Join(dir, "space-model.json")
	writeSpaceItems(t, items)
	code, out, errOut := runTopicsWith(t, "train", "--items", items, "--out", model, "--grid=false", "--lambdas", "0.01", "--folds", "3", "--quiet")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"60 items", "space: positives 20", "CV F1", "calibration", "wrote " + model} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	b, err := os.ReadFile(model)
	if err != nil {
		t.Fatal(err)
	}
	m, err := topics.ParseModel(b)
	if err != nil || m.Topics[0].Name != "space" {
		t.Fatalf("written model: %v %+v", err, m)
	}
	// analyze --model merges it over the built-in model.
	code, got, errOut := runAnalyzeWith(t, []string{"--model", model}, `{"id":"s","title":"Agency launches satellite into orbit","text":"The rocket lifted off at dawn."}`+"\n")
	if code != 0 || !strings.Contains(got, `"name":"space"`) {
		t.Errorf("analyze --model: exit %d, out %s, err %s", code, got, errOut)
	}
}

func TestTopicsTrainErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.jsonl")
	if err := os.WriteFile(bad, []byte("{not json\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no subcommand", nil, 2, "usage: newswatch topics train"},
		{"no items", []string{"train", "--out", filepath.Join(dir, "m.json")}, 2, "give --items FILE and --out MODEL"},
		{"missing file", []string{"train", "--items", filepath.Join(dir, "none.jsonl"), "--out", filepath.Join(dir, "m.json")}, 2, "none.jsonl"},
		{"bad line", []string{"train", "--items", bad, "--out", filepath.Join(dir, "m.json")}, 2, "bad.jsonl line 1"},
		{"bad lambda", []string{"train", "--items", bad, "--out", filepath.Join(dir, "m.json"), "--lambdas", "x"}, 2, `--lambdas: "x"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errOut := runTopicsWith(t, tc.args...)
			if code != tc.code || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, errOut, tc.code, tc.want)
			}
		})
	}
}

func TestAnalyzeBadModel(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad-model.json")
	if err := os.WriteFile(bad, []byte(`{"version": 7}`), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := runAnalyzeWith(t, []string{"--model", bad}, "")
	if code != 2 || !strings.Contains(errOut, "analyzer.topic_model_file") || !strings.Contains(errOut, "version 7") {
		t.Errorf("bad model: exit %d, stderr %s", code, errOut)
	}
}

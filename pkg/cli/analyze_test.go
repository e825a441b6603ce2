package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runAnalyzeWith(t *testing.T, args []string, stdin string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := runAnalyze(context.Background(), args, IO{Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errOut})
	return code, out.String(), errOut.String()
}

func TestAnalyze(t *testing.T) {
	bigText := strings.Repeat("The council debated the budget for parks and libraries at length. ", 16000) // ~1 MB
	bigLine, _ := json.Marshal(map[string]string{"id": "big", "title": "Suicide bomber kills 12 at market", "text": bigText})
	tests := []struct {
		name       string
		args       []string
		stdin      string
		wantCode   int
		wantTopics map[string][]string // id -> topic names
		wantErr    []string
	}{
		{
			name: "flags and empty results",
			stdin: `{"id":"a","title":"US approves sale of air defence systems to Poland","text":"The State Department cleared the foreign military sale."}
{"id":"b","title":"Quad bike racing returns","text":"Riders gathered at the dunes."}
`,
			wantTopics: map[string][]string{"a": {"defence-cooperation"}, "b": nil},
		},
		{
			name:       "full events.Article",
			stdin:      `{"schema":"newswatch.article.v1","id":"c","revision":1,"feed":"f","url":"https://example.com/x","canonical_url":"https://example.com/x","title":"Islamic State claims attack on mosque","text":"At least 20 worshippers were killed.","fetched_at":"2026-11-30T00:00:00Z"}` + "\n",
			wantTopics: map[string][]string{"c": {"terrorism"}},
		},
		{
			name:       "bad lines are reported and skipped",
			stdin:      "{\"id\":\"ok\",\"title\":\"Oil prices rise\",\"text\":\"Brent gained.\"}\nnot json\n{\"id\":\"empty\"}\n",
			wantCode:   1,
			wantTopics: map[string][]string{"ok": nil},
			wantErr:    []string{"line 2", "line 3", "2 bad line(s)"},
		},
		{
			name:       "one megabyte line",
			stdin:      string(bigLine) + "\n",
			wantTopics: map[string][]string{"big": {"terrorism"}},
		},
		{
			name:     "unexpected argument",
			args:     []string{"file.jsonl"},
			wantCode: 2,
			wantErr:  []string{"unexpected argument", "stdin"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runAnalyzeWith(t, tc.args, tc.stdin)
			if code != tc.wantCode {
				t.Errorf("exit code %d, want %d; stderr: %s", code, tc.wantCode, errOut)
			}
			for _, w := range tc.wantErr {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr %q lacks %q", errOut, w)
				}
			}
			got := map[string][]string{}
			for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
				if line == "" {
					continue
				}
				var r struct {
					ID     string `json:"id"`
					Topics []struct {
						Name     string            `json:"name"`
						Evidence []json.RawMessage `json:"evidence"`
					} `json:"topics"`
					Entities []json.RawMessage `json:"entities"`
				}
				if err := json.Unmarshal([]byte(line), &r); err != nil {
					t.Fatalf("output line %q: %v", line, err)
				}
				if r.Topics == nil || r.Entities == nil {
					t.Errorf("%s: topics and entities must be arrays, got %s", r.ID, line)
				}
				var ns []string
				for _, tp := range r.Topics {
					if len(tp.Evidence) == 0 {
						t.Errorf("%s: topic %s without evidence", r.ID, tp.Name)
					}
					// The lighter topics of the default taxonomy are
					// pkg/topics' business.
					if tp.Name == "defence-cooperation" || tp.Name == "terrorism" {
						ns = append(ns, tp.Name)
					}
				}
				got[r.ID] = ns
			}
			if len(got) != len(tc.wantTopics) {
				t.Errorf("got results %v, want %v", got, tc.wantTopics)
			}
			for id, want := range tc.wantTopics {
				if strings.Join(got[id], ",") != strings.Join(want, ",") {
					t.Errorf("%s: topics %v, want %v", id, got[id], want)
				}
			}
		})
	}
}

func TestAnalyzeExplain(t *testing.T) {
	for _, flagName := range []string{"-explain", "--explain"} {
		t.Run(flagName, func(t *testing.T) {
			code, out, errOut := runAnalyzeWith(t, []string{flagName}, `{"id":"x","title":"Suicide bomber kills 12 at market","text":"Army holds exercise with new drones."}`+"\n")
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			for _, w := range []string{"x: Suicide bomber kills 12", "defence-cooperation: probability", "terrorism: probability", "FLAGGED", "learned model", "bias", "tx-blocked:defence-cooperation", "in: Suicide bomber kills 12 at market", "in: Army holds exercise with new drones."} {
				if !strings.Contains(out, w) {
					t.Errorf("explanation lacks %q:\n%s", w, out)
				}
			}
		})
	}
}

func TestAnalyzeTaxonomyFile(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(good, []byte("topics:\n  - {name: space, threshold: 1, features: [{name: launch, weight: 1, terms: [satellite*]}]}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, []byte("topics:\n  - {name: space, threshold: 0, features: [{name: launch, weight: 1, terms: [satellite]}]}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runAnalyzeWith(t, []string{"--taxonomy", good}, `{"id":"s","title":"New satellites launched","text":""}`+"\n")
	if code != 0 || !strings.Contains(out, `"name":"space"`) {
		t.Errorf("custom taxonomy: exit %d, out %s, err %s", code, out, errOut)
	}
	code, _, errOut = runAnalyzeWith(t, []string{"-taxonomy", bad}, "")
	if code != 2 || !strings.Contains(errOut, `topic "space"`) || !strings.Contains(errOut, "threshold") {
		t.Errorf("bad taxonomy: exit %d, stderr %s", code, errOut)
	}
	code, _, errOut = runAnalyzeWith(t, []string{"--taxonomy", filepath.Join(dir, "missing.yaml")}, "")
	if code != 2 || !strings.Contains(errOut, "missing.yaml") {
		t.Errorf("missing taxonomy: exit %d, stderr %s", code, errOut)
	}
}

package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/newswatch/newswatch/pkg/wordclust"
)

// writeWink writes a small file in the wink embeddings format: words of two
// groups whose vectors point along different axes, and tokens to skip.
func writeWink(t *testing.T, path string) {
	t.Helper()
	words := []string{",", "army", "bread", "The", "navy", "cheese", "troops", "soup", "2024", "tank", "rice"}
	vectors := map[string][]float64{}
	for i, w := range words {
		v := []float64{0.1, 0.1, 1, 0, float64(i)} // 3 dimensions, norm, index
		switch w {
		case "army", "navy", "troops", "tank":
			v[0] = 1 + float64(i)/10
		case "bread", "cheese", "soup", "rice":
			v[1] = 1 + float64(i)/10
		}
		vectors[w] = v
	}
	// The format wants "dimensions" and "words" before "vectors", and
	// json.Marshal sorts a map's keys, so write the object by hand.
	wb, _ := json.Marshal(words)
	vb, _ := json.Marshal(vectors)
	if err := os.WriteFile(path, []byte(fmt.Sprintf(`{"precision":4,"dimensions":3,"words":%s,"vectors":%s}`, wb, vb)), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestTopicsClusters(t *testing.T) {
	dir := t.TempDir()
	vecs := filepath.Join(dir, "wink.json")
	out := filepath.Join(dir, "clusters.txt.gz")
	writeWink(t, vecs)
	code, stdout, stderr := runTopicsWith(t, "clusters", "--vectors", vecs, "--words", "100", "--k", "2,1", "--seed", "1", "--out", out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"read 8 words of 3 dimensions", "k=2: ", "k=1: ", "iterations", "wrote " + out} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	c, err := wordclust.Parse(f)
	if err != nil {
		t.Fatal(err)
	}
	if c.Len() != 8 || len(c.Comments) != 1 || !strings.Contains(c.Comments[0], "8 words, spherical k-means, seed 1") {
		t.Errorf("%d words, comments %q", c.Len(), c.Comments)
	}
	army, _ := c.Lookup([]byte("army"))
	tank, _ := c.Lookup([]byte("tank"))
	soup, _ := c.Lookup([]byte("soup"))
	if army[0] != tank[0] || army[0] == soup[0] {
		t.Errorf("army %v, tank %v, soup %v: want army with tank, apart from soup", army, tank, soup)
	}
}

func TestTopicsClustersBadInput(t *testing.T) {
	dir := t.TempDir()
	vecs := filepath.Join(dir, "wink.json")
	writeWink(t, vecs)
	notWink := filepath.Join(dir, "list.json")
	if err := os.WriteFile(notWink, []byte(`[1, 2, 3]`), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "c.txt.gz")
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no out", []string{"--vectors", vecs}, "give --vectors FILE"},
		{"missing file", []string{"--vectors", filepath.Join(dir, "nope.json"), "--out", out}, "--vectors: open"},
		{"not wink", []string{"--vectors", notWink, "--out", out}, "not a wink embeddings file"},
		{"k above words", []string{"--vectors", vecs, "--out", out, "--k", "2,9"}, "--k 9 is more clusters than the 8 words read"},
		{"bad k", []string{"--vectors", vecs, "--out", out, "--k", "2,x"}, `--k: "x" is not a number`},
		{"zero words", []string{"--vectors", vecs, "--out", out, "--words", "0"}, "--words 0"},
		{"stray argument", []string{"--vectors", vecs, "--out", out, "extra"}, `unexpected argument "extra"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runTopicsWith(t, append([]string{"clusters"}, tc.args...)...)
			if code != 2 || !strings.Contains(stderr, tc.want) {
				t.Fatalf("exit %d, stderr %q; want exit 2 saying %q", code, stderr, tc.want)
			}
		})
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("a failed run left %s behind (%v)", out, err)
	}
}

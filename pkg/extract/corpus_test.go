package extract_test

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/newswatch/newswatch/pkg/extract"
)

// TestCorpus scores extraction on the trafilatura evaluation corpus the way
// ../shared/eval/score-extraction does, in one process. It runs only when
// NEWSWATCH_EXTRACTION_DEV names the corpus directory (it holds 990 pages).
func TestCorpus(t *testing.T) {
	dir := os.Getenv("NEWSWATCH_EXTRACTION_DEV")
	if dir == "" {
		t.Skip("set NEWSWATCH_EXTRACTION_DEV to the extraction-dev directory")
	}
	f, err := os.Open(filepath.Join(dir, "cases.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	space := regexp.MustCompile(`\s+`)
	norm := func(s string) string { return strings.TrimSpace(space.ReplaceAllString(s, " ")) }
	type worst struct {
		url        string
		miss, keep int
		missed     []string
		kept       []string
	}
	var tp, fp, tn, fn int
	var ws []worst
	ex := extract.New()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var c struct {
			URL, File     string
			With, Without []string
		}
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			t.Fatal(err)
		}
		only := os.Getenv("NEWSWATCH_EXTRACTION_URL")
		if only != "" && !strings.Contains(c.URL, only) {
			continue
		}
		raw := readGz(t, filepath.Join(dir, c.File))
		text := ""
		page, err := extract.DecodeHTML(raw, "")
		if err == nil {
			var res *extract.Result
			if res, err = ex.Extract(page, c.URL); err == nil {
				text = norm(res.Text)
			}
			if only != "" {
				t.Logf("%s\n%s", c.File, res.Text)
			}
		}
		if err != nil && only != "" {
			t.Logf("error: %v", err)
		}
		w := worst{url: c.URL}
		for _, s := range c.With {
			if strings.Contains(text, norm(s)) {
				tp++
			} else {
				fn++
				w.miss++
				w.missed = append(w.missed, s)
			}
		}
		for _, s := range c.Without {
			if strings.Contains(text, norm(s)) {
				fp++
				w.keep++
				w.kept = append(w.kept, s)
			} else {
				tn++
			}
		}
		ws = append(ws, w)
	}
	p := float64(tp) / float64(tp+fp)
	r := float64(tp) / float64(tp+fn)
	f1 := 2 * p * r / (p + r)
	sort.SliceStable(ws, func(i, j int) bool { return ws[i].miss+ws[i].keep > ws[j].miss+ws[j].keep })
	n := 15
	if v := os.Getenv("NEWSWATCH_EXTRACTION_WORST"); v != "" {
		n = len(ws)
	}
	for _, w := range ws[:min(n, len(ws))] {
		if w.miss+w.keep == 0 {
			break
		}
		t.Logf("%2d %2d %s missed=%q kept=%q", w.miss, w.keep, w.url, w.missed, w.kept)
	}
	t.Logf("pages=%d precision=%.3f recall=%.3f f1=%.3f (tp=%d fp=%d fn=%d tn=%d)", len(ws), p, r, f1, tp, fp, fn, tn)
}

func readGz(t testing.TB, path string) []byte {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	g, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(g)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

package extract_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/newswatch/newswatch/pkg/extract"
)

// TestCorpus scores extraction on the trafilatura evaluation corpus the way
// the shared eval score-extraction scorer does, in one process. It runs only when
// NEWSWATCH_EXTRACTION_DEV names the corpus directory (it holds 990 pages);
// NEWSWATCH_EXTRACTION_HALF=a or b scores one fixed half (see TestCorpusGold);
// NEWSWATCH_EXTRACTION_OUT writes each page's segment counts (file, kept
// and missed "with" segments, kept and dropped "without" segments) to a file.
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
		url, file  string
		with, wo   int
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
		if only != "" && !strings.Contains(c.URL, only) || !inHalf(c.File) {
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
		w := worst{url: c.URL, file: c.File, with: len(c.With), wo: len(c.Without)}
		for _, s := range c.With {
			if strings.Contains(text, norm(s)) {
				tp++
			} else {
				fn++
				w.miss++
				w.missed = append(w.missed, s)
				if os.Getenv("NEWSWATCH_EXTRACTION_TRACE") != "" && page != nil {
					t.Logf("MISS %s %q at %s", c.URL, s, tracePath(page, norm(s)))
				}
			}
		}
		for _, s := range c.Without {
			if strings.Contains(text, norm(s)) {
				fp++
				if os.Getenv("NEWSWATCH_EXTRACTION_TRACE") != "" && page != nil {
					t.Logf("KEPT %s %q at %s", c.URL, s, tracePath(page, norm(s)))
				}
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
	if out := os.Getenv("NEWSWATCH_EXTRACTION_OUT"); out != "" {
		var b strings.Builder
		for _, w := range ws {
			fmt.Fprintf(&b, "%s\t%d\t%d\t%d\t%d\n", w.file, w.with-w.miss, w.miss, w.keep, w.wo-w.keep)
		}
		if err := os.WriteFile(out, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
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

// tracePath names the innermost element whose text holds seg, with its
// ancestors, to see why extraction missed or kept it.
func tracePath(page []byte, seg string) string {
	doc, err := html.Parse(bytes.NewReader(page))
	if err != nil {
		return err.Error()
	}
	space := regexp.MustCompile(`\s+`)
	var best *html.Node
	var walk func(n *html.Node)
	var text func(n *html.Node) string
	text = func(n *html.Node) string {
		if n.Type == html.TextNode {
			return n.Data
		}
		if n.Type == html.ElementNode && (n.Data == "script" || n.Data == "style") {
			return ""
		}
		var b strings.Builder
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			b.WriteString(text(c))
		}
		return b.String()
	}
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && strings.Contains(space.ReplaceAllString(text(n), " "), seg) {
			best = n
			for c := n.FirstChild; c != nil; c = c.NextSibling {
				walk(c)
			}
		}
	}
	for c := doc.FirstChild; c != nil; c = c.NextSibling {
		walk(c)
	}
	var parts []string
	for n := best; n != nil && n.Type == html.ElementNode; n = n.Parent {
		p := n.Data
		for _, a := range n.Attr {
			if a.Key == "class" || a.Key == "id" || a.Key == "role" {
				v := a.Val
				if len(v) > 40 {
					v = v[:40]
				}
				p += "[" + a.Key + "=" + v + "]"
			}
		}
		parts = append(parts, p)
		if len(parts) > 7 {
			break
		}
	}
	return strings.Join(parts, " < ")
}

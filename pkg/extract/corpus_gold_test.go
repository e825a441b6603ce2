package extract_test

import (
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"unicode"

	"github.com/newswatch/newswatch/pkg/extract"
)

// TestCorpusGold scores extraction on the Dragnet corpus the way
// the shared eval score-extraction-gold scorer does (4-token shingles, per-page
// precision and recall averaged), in one process. It runs only when
// NEWSWATCH_EXTRACTION_DRAGNET names the extraction-dragnet directory.
// NEWSWATCH_EXTRACTION_HALF=a or b scores one fixed half of the pages, so
// parameters chosen on one half can be confirmed on the other;
// NEWSWATCH_EXTRACTION_OUT writes each page's figures to a file for diffing
// two runs (name, precision, recall, F1, and whether each counts in the mean).
// NEWSWATCH_EXTRACTION_BODY=1 scores only the pages whose gold text marks
// where reader comments start, against the text before the mark: the
// article body alone, as the other corpora score it.
func TestCorpusGold(t *testing.T) {
	dir := os.Getenv("NEWSWATCH_EXTRACTION_DRAGNET")
	if dir == "" {
		t.Skip("set NEWSWATCH_EXTRACTION_DRAGNET to the extraction-dragnet directory")
	}
	names, err := filepath.Glob(filepath.Join(dir, "html", "*.html.gz"))
	if err != nil || len(names) == 0 {
		t.Fatalf("no pages under %s/html: %v", dir, err)
	}
	only := os.Getenv("NEWSWATCH_EXTRACTION_URL")
	bodyOnly := os.Getenv("NEWSWATCH_EXTRACTION_BODY") != ""
	type row struct {
		name    string
		p, r    float64
		hasP    bool
		hasR    bool
		f1      float64
		tp, all float64
	}
	var rows []row
	ex := extract.New()
	for _, path := range names {
		name := strings.TrimSuffix(filepath.Base(path), ".html.gz")
		if !inHalf(name) || only != "" && name != only {
			continue
		}
		raw := readGz(t, path)
		gold := string(readGz(t, filepath.Join(dir, "gold", name+".txt.gz")))
		if bodyOnly {
			// Dragnet's annotators put this line between the article and
			// its reader comments on the pages that have both.
			var found bool
			if gold, _, found = strings.Cut(gold, commentMarker); !found {
				continue
			}
		}
		text := ""
		if page, err := extract.DecodeHTML(raw, ""); err == nil {
			if res, err := ex.Extract(page, "http://dragnet.example/"+name+".html"); err == nil {
				text = res.Text
			}
		}
		if only != "" {
			t.Logf("%s\n%s\n---- gold\n%s", name, text, gold)
		}
		tp, fp, fn := shingleOverlap(gold, text)
		rw := row{name: name}
		rw.p, rw.r = shPrec(tp, fp, fn), shRec(tp, fp, fn)
		rw.hasP, rw.hasR = tp+fp > 0, tp+fn > 0
		if rw.p+rw.r > 0 {
			rw.f1 = 2 * rw.p * rw.r / (rw.p + rw.r)
		}
		rows = append(rows, rw)
	}
	var sp, sr float64
	var np, nr int
	for _, r := range rows {
		if r.hasP {
			sp += r.p
			np++
		}
		if r.hasR {
			sr += r.r
			nr++
		}
	}
	p, r := sp/float64(max(np, 1)), sr/float64(max(nr, 1))
	if out := os.Getenv("NEWSWATCH_EXTRACTION_OUT"); out != "" {
		var b strings.Builder
		for _, r := range rows {
			fmt.Fprintf(&b, "%s\t%.3f\t%.3f\t%.3f\t%t\t%t\n", r.name, r.p, r.r, r.f1, r.hasP, r.hasR)
		}
		if err := os.WriteFile(out, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].f1 < rows[j].f1 })
	for _, r := range rows[:min(15, len(rows))] {
		t.Logf("%s: precision=%.2f recall=%.2f", r.name, r.p, r.r)
	}
	t.Logf("pages=%d precision=%.3f recall=%.3f f1=%.3f", len(rows), p, r, 2*p*r/(p+r))
}

// commentMarker separates the article from its comments in Dragnet's gold.
const commentMarker = "!@#$%^&*()"

// inHalf reports whether a page belongs to the half of the corpus named by
// NEWSWATCH_EXTRACTION_HALF ("a" or "b"); every page when it is unset.
func inHalf(name string) bool {
	half := os.Getenv("NEWSWATCH_EXTRACTION_HALF")
	if half == "" {
		return true
	}
	h := fnv.New32a()
	h.Write([]byte(name))
	return (h.Sum32()%2 == 0) == (half == "a")
}

// shingleOverlap is the scrapinghub benchmark's page score: true and false
// positives and negatives of 4-token shingles, as shares of their sum.
func shingleOverlap(gold, pred string) (tp, fp, fn float64) {
	a, b := shingles(gold), shingles(pred)
	var itp, ifp, ifn int
	for k, x := range a {
		y := b[k]
		itp += min(x, y)
		ifn += max(0, x-y)
	}
	for k, y := range b {
		ifp += max(0, y-a[k])
	}
	s := float64(itp + ifp + ifn)
	if s == 0 {
		return 0, 0, 0
	}
	return float64(itp) / s, float64(ifp) / s, float64(ifn) / s
}

func shingles(s string) map[[4]string]int {
	toks := strings.FieldsFunc(s, func(r rune) bool {
		return !(unicode.IsLetter(r) || unicode.IsNumber(r) || r == '_' || unicode.Is(unicode.Mn, r))
	})
	m := map[[4]string]int{}
	if len(toks) == 0 {
		return m
	}
	if len(toks) < 4 {
		var k [4]string
		copy(k[:], toks)
		m[k]++
		return m
	}
	for i := 0; i+4 <= len(toks); i++ {
		m[[4]string(toks[i:i+4])]++
	}
	return m
}

func shPrec(tp, fp, fn float64) float64 {
	switch {
	case fp == 0 && fn == 0:
		return 1
	case tp == 0 && fp == 0:
		return 0
	}
	return tp / (tp + fp)
}

func shRec(tp, fp, fn float64) float64 {
	switch {
	case fp == 0 && fn == 0:
		return 1
	case tp == 0 && fn == 0:
		return 0
	}
	return tp / (tp + fn)
}

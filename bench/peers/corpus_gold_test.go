package peers_test

import (
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode"

	"github.com/newswatch/newswatch/bench/peers"
)

// TestCorpusGoldBody scores both peers on the article bodies of the Dragnet
// corpus the way pkg/extract's TestCorpusGold does with
// NEWSWATCH_EXTRACTION_BODY=1: the pages whose gold text marks where reader
// comments start, against the text before the mark, with the scrapinghub
// benchmark's metric (4-token shingles, per-page precision and recall
// averaged). It runs only when NEWSWATCH_EXTRACTION_DRAGNET names the
// extraction-dragnet directory.
func TestCorpusGoldBody(t *testing.T) {
	dir := os.Getenv("NEWSWATCH_EXTRACTION_DRAGNET")
	if dir == "" {
		t.Skip("set NEWSWATCH_EXTRACTION_DRAGNET to the extraction-dragnet directory")
	}
	names, err := filepath.Glob(filepath.Join(dir, "html", "*.html.gz"))
	if err != nil || len(names) == 0 {
		t.Fatalf("no pages under %s/html: %v", dir, err)
	}
	type page struct {
		name, gold string
		html       []byte
	}
	var pages []page
	for _, path := range names {
		name := strings.TrimSuffix(filepath.Base(path), ".html.gz")
		gold, _, found := strings.Cut(string(readGz(t, filepath.Join(dir, "gold", name+".txt.gz"))), commentMarker)
		if !found {
			continue
		}
		pages = append(pages, page{name, gold, readGz(t, path)})
	}
	for _, engine := range []string{peers.Trafilatura, peers.Readability} {
		t.Run(engine, func(t *testing.T) {
			var sp, sr float64
			var np, nr int
			for _, p := range pages {
				text := ""
				if res, err := peers.Extract(engine, p.html, "http://dragnet.example/"+p.name+".html"); err == nil {
					text = res.Text
				}
				tp, fp, fn := shingleOverlap(p.gold, text)
				if tp+fp > 0 {
					sp += shPrec(tp, fp, fn)
					np++
				}
				if tp+fn > 0 {
					sr += shRec(tp, fp, fn)
					nr++
				}
			}
			pr, rc := sp/float64(max(np, 1)), sr/float64(max(nr, 1))
			t.Logf("%s pages=%d precision=%.3f recall=%.3f f1=%.3f", engine, len(pages), pr, rc, 2*pr*rc/(pr+rc))
		})
	}
}

// commentMarker separates the article from its comments in Dragnet's gold.
const commentMarker = "!@#$%^&*()"

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

// shingleOverlap is the scrapinghub benchmark's page score, as in
// pkg/extract's corpus test: true and false positives and negatives of
// 4-token shingles, as shares of their sum.
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

package extract_test

import (
	"bytes"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/newswatch/newswatch/pkg/extract"
)

type benchPage struct {
	html []byte
	url  string
}

func benchPages(b *testing.B) ([]benchPage, int) {
	var pages []benchPage
	size := 0
	for _, p := range goldenPages(b) {
		pages = append(pages, benchPage{p.html, p.url})
		size += len(p.html)
	}
	return pages, size
}

// BenchmarkExtract compares extraction with parsing alone on the same real
// news pages (testdata/ and the demo site's seed page): extraction parses,
// reads metadata, cleans, scores and renders, so parse-only is its floor.
func BenchmarkExtract(b *testing.B) {
	pages, size := benchPages(b)
	b.Run("parse-only", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(size))
		for b.Loop() {
			for _, p := range pages {
				if _, err := html.Parse(bytes.NewReader(p.html)); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(float64(b.N*len(pages))/b.Elapsed().Seconds(), "pages/s")
	})
	b.Run("extract", func(b *testing.B) {
		ex := extract.New()
		b.ReportAllocs()
		b.SetBytes(int64(size))
		for b.Loop() {
			for _, p := range pages {
				if _, err := ex.Extract(p.html, p.url); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(float64(b.N*len(pages))/b.Elapsed().Seconds(), "pages/s")
	})
}

// BenchmarkExtractVsParse runs both in one benchmark so their ratio is one
// figure: extraction speed as a fraction of parse-only speed (target >= 0.5).
func BenchmarkExtractVsParse(b *testing.B) {
	pages, _ := benchPages(b)
	ex := extract.New()
	var parse, extr time.Duration
	b.ReportAllocs()
	for b.Loop() {
		t0 := time.Now()
		for _, p := range pages {
			if _, err := html.Parse(bytes.NewReader(p.html)); err != nil {
				b.Fatal(err)
			}
		}
		t1 := time.Now()
		for _, p := range pages {
			if _, err := ex.Extract(p.html, p.url); err != nil {
				b.Fatal(err)
			}
		}
		parse += t1.Sub(t0)
		extr += time.Since(t1)
	}
	n := float64(b.N * len(pages))
	b.ReportMetric(n/parse.Seconds(), "parse-pages/s")
	b.ReportMetric(n/extr.Seconds(), "extract-pages/s")
	b.ReportMetric(parse.Seconds()/extr.Seconds(), "speed-ratio")
}

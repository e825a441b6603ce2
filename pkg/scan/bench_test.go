package scan

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"github.com/newswatch/newswatch/pkg/benchtest"
)

const seedPath = "testdata/livemint-2023-11-11-india-us-2plus2.txt"

// syntheticTerms makes n made-up names of one to three pseudo-words plus
// the seed's real names, the size of a large taxonomy, gazetteer and watch
// list together.
func syntheticTerms(n int) []Term {
	r := rand.New(rand.NewPCG(1, 2))
	word := benchtest.Words(r)
	out := []Term{{Text: "India"}, {Text: "United States"}, {Text: "US"}, {Text: "MQ-9B"},
		{Text: "Quad"}, {Text: "defence"}, {Text: "co-production", Prefix: true}, {Text: "Rajnath Singh"},
		{Text: "Lashkar-e-Taiba"}, {Text: "26/11"}, {Text: "terror", Prefix: true}, {Text: "F-414"}}
	for i := len(out); i < n; i++ {
		parts := make([]string, 1+r.IntN(3))
		for j := range parts {
			parts[j] = word()
		}
		out = append(out, Term{Text: strings.Join(parts, " ")})
	}
	return out
}

func seedText(tb testing.TB) string {
	raw, err := os.ReadFile(seedPath)
	if err != nil {
		tb.Fatalf("seed article: %v", err)
	}
	return string(raw)
}

// BenchmarkScan matches 10,000 terms over about 1 MB of the seed article:
// "scan" over text already normalised (the automaton and the hit list),
// "normalize+scan" including normalisation, "normalize" alone.
func BenchmarkScan(b *testing.B) {
	text := strings.Repeat(seedText(b)+"\n", 100)
	for _, n := range []int{1000, 10000} {
		m, err := Compile(syntheticTerms(n))
		if err != nil {
			b.Fatal(err)
		}
		var d Doc
		d.Normalize("", text)
		hits := make([]Hit, 0, 1<<16)
		b.Run(fmt.Sprintf("terms=%d/scan", n), func(b *testing.B) {
			meter := benchtest.Start()
			for b.Loop() {
				hits = m.Scan(&d, hits[:0])
			}
			meter.ReportMB(b, len(d.Buf))
			b.ReportMetric(float64(len(hits)), "hits/op")
		})
		b.Run(fmt.Sprintf("terms=%d/normalize+scan", n), func(b *testing.B) {
			meter := benchtest.Start()
			for b.Loop() {
				d.Normalize("", text)
				hits = m.Scan(&d, hits[:0])
			}
			meter.ReportMB(b, len(text))
		})
	}
	b.Run("normalize", func(b *testing.B) {
		var d Doc
		meter := benchtest.Start()
		for b.Loop() {
			d.Normalize("", text)
		}
		meter.ReportMB(b, len(text))
	})
}

func TestScanDoesNotAllocate(t *testing.T) {
	text := seedText(t)
	m, err := Compile(syntheticTerms(1000))
	if err != nil {
		t.Fatal(err)
	}
	var d Doc
	d.Normalize("India, US agree", text)
	hits := m.Scan(&d, nil)
	if len(hits) == 0 {
		t.Fatal("no hits in the seed")
	}
	if n := testing.AllocsPerRun(20, func() {
		d.Normalize("India, US agree", text)
		hits = m.Scan(&d, hits[:0])
	}); n != 0 {
		t.Fatalf("normalising and scanning allocated %v times per article", n)
	}
}

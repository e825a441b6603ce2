package query

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/newswatch/newswatch/pkg/scan"
)

var smallScanDicts = [][]string{
	{"Quad"}, {"MQ-9B", "MQ9B"}, {"US", "us", "u s"}, {"a", "a a", "a a a"}, {"India's", "India"},
	{"Zürich", "Київ", "ＭＱ－９Ｂ"}, {"the", "United States", "states", "defence", "2+2", "26/11"}, {"", "?!", "x"},
}

// checkSmallScan fails t unless smallScan finds in d what the automaton
// finds for the same dictionary.
func checkSmallScan(t *testing.T, d *scan.Doc, words []string) {
	t.Helper()
	terms := make([]scan.Term, len(words))
	for i, w := range words {
		terms[i] = scan.Term{Text: w}
	}
	m, err := scan.Compile(terms)
	if err != nil {
		return // a term spanning two lines: Match has no machine then either
	}
	s := newSmallScan(terms)
	if s == nil {
		t.Fatalf("no small scanner for %q", words)
	}
	want := m.Scan(d, nil)
	got := s.scan(d.Buf, nil)
	if !reflect.DeepEqual(got, want) && !(len(got) == 0 && len(want) == 0) {
		t.Fatalf("%q in %q:\nsmall     %v\nautomaton %v", words, d.Buf, got, want)
	}
}

// The small scanner reports exactly the automaton's hits, in its order.
func TestSmallScan(t *testing.T) {
	art, err := os.ReadFile(filepath.Join("testdata", "livemint-2023-11-11-india-us-2plus2.txt"))
	if err != nil {
		t.Fatal(err)
	}
	texts := []string{string(art), strings.ToUpper(string(art)), "a a a a. A a", "US us U.S. u s", "", "Quad",
		"MQ-9B MQ9B MQ 9B mq-9b", "Zu\u0308rich ＭＱ－９Ｂ Київ", "the the\nthe. The"}
	for _, words := range smallScanDicts {
		for _, text := range texts {
			var d scan.Doc
			d.Normalize("Title: "+text[:min(len(text), 40)], text)
			checkSmallScan(t, &d, words)
		}
	}
	if newSmallScan(make([]scan.Term, maxSmallScan+1)) != nil {
		t.Error("a small scanner for more than maxSmallScan patterns")
	}
}

func FuzzSmallScan(f *testing.F) {
	f.Add("India and the US: a a a, MQ-9B.", "a a")
	f.Add("Zu\u0308rich ＭＱ－９Ｂ", "Zürich")
	f.Fuzz(func(t *testing.T, text, word string) {
		var d scan.Doc
		d.Normalize("", text)
		checkSmallScan(t, &d, []string{word})
		for _, words := range smallScanDicts {
			checkSmallScan(t, &d, words)
		}
	})
}

// BenchmarkSmallScan finds one and three terms in a 5 KB article with the
// automaton and with bytes.Index.
func BenchmarkSmallScan(b *testing.B) {
	art, err := os.ReadFile(filepath.Join("testdata", "livemint-2023-11-11-india-us-2plus2.txt"))
	if err != nil {
		b.Fatal(err)
	}
	text := string(art[:min(len(art), 5000)])
	var d scan.Doc
	d.Normalize("", text)
	for _, words := range [][]string{{"Quad"}, {"MQ-9B", "drones", "India"}, {"MQ-9B"}, {"drones"}, {"India"}, {"the"}} {
		terms := make([]scan.Term, len(words))
		for i, w := range words {
			terms[i] = scan.Term{Text: w}
		}
		m, _ := scan.Compile(terms)
		s := newSmallScan(terms)
		var hits []scan.Hit
		b.Run(strings.Join(words, "+")+"/automaton", func(b *testing.B) {
			b.SetBytes(int64(len(d.Buf)))
			for b.Loop() {
				hits = m.Scan(&d, hits[:0])
			}
		})
		b.Run(strings.Join(words, "+")+"/index", func(b *testing.B) {
			b.SetBytes(int64(len(d.Buf)))
			for b.Loop() {
				hits = s.scan(d.Buf, hits[:0])
			}
		})
	}
}

package entities

import (
	"cmp"
	"errors"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/newswatch/newswatch/pkg/scan"
)

// naiveMatch is the obvious definition of Gazetteer.match: every spelling
// tried at every token, verified, then leftmost-longest.
func naiveMatch(t testing.TB, g *Gazetteer, d *scan.Doc) []match {
	var ms []match
	for pi, term := range g.terms {
		key, err := scan.NormalizeTerm(term.Text)
		if err != nil {
			t.Fatalf("term %q: %v", term.Text, err)
		}
		p := &g.pats[pi]
		for i, tok := range d.Tokens {
			end := int(tok.NStart) + len(key)
			last := i + int(p.ntok) - 1
			if end > len(d.Buf) || string(d.Buf[tok.NStart:end]) != key ||
				last >= len(d.Tokens) || int(d.Tokens[last].NEnd) != end || !p.verify(d, i, last) {
				continue
			}
			ms = append(ms, match{entity: p.entity, first: int32(i), last: int32(last),
				nstart: tok.NStart, nend: int32(end), trail: int32(p.trailAt(d, last))})
		}
	}
	slices.SortStableFunc(ms, func(a, b match) int {
		if c := cmp.Compare(a.nstart, b.nstart); c != 0 {
			return c
		}
		return cmp.Compare(b.nend, a.nend)
	})
	var kept []match
	lastEnd := int32(-1)
	for _, m := range ms {
		if m.nstart >= lastEnd {
			kept = append(kept, m)
			lastEnd = m.nend
		}
	}
	return kept
}

func spans(d *scan.Doc, ms []match) []string {
	var out []string
	for _, m := range ms {
		out = append(out, string(d.Buf[m.nstart:m.nend]))
	}
	return out
}

// checkAgainstNaive normalises title and text, matches them with the
// automaton and naively, and fails when the two disagree.
func checkAgainstNaive(t testing.TB, g *Gazetteer, title, text string) {
	var d scan.Doc
	d.Normalize(title, text)
	got := g.match(&d, g.machine.Scan(&d, nil), 0, nil)
	want := naiveMatch(t, g, &d)
	if !slices.Equal(got, want) {
		t.Fatalf("automaton found\n%q\nnaive matching found\n%q", spans(&d, got), spans(&d, want))
	}
}

func TestMatchAgreesWithNaiveMatching(t *testing.T) {
	raw, err := os.ReadFile(seedPath)
	if err != nil {
		t.Fatal(err)
	}
	g := defaultGazetteer(t)
	texts := map[string]string{
		"seed":      string(raw),
		"mid-word":  "thus USA focus LeTter xUS US9 9US Indiana India's naïveUS éUS US\u00e9 (US) -US- US",
		"non-ascii": "«India» •Quad «Quad» Élysée xÉlysée Türkiye’s",
		"prefixes":  "Al-Qaeda in the Indian Subcontinent; Al-Qaeda in the Indian; UN Security; MQ-9B SeaGuardianX",
		"stops":     "U.S. U. S. U.S.A. U.S.'s S. Jaishankar India's Jaishankar",
	}
	for name, text := range texts {
		t.Run(name, func(t *testing.T) { checkAgainstNaive(t, g, "India, US agree", text) })
	}
}

func FuzzMatch(f *testing.F) {
	f.Add("thus USA focus LeT India's Quad’s MQ9B U.S.", "Lashkar")
	f.Add("xÉlysée «Quad» U. S.", "Élysée")
	f.Add("a-b a b a—b a - b", "a-b")
	f.Add("R&AW, R & AW; x.y.", "x.y.")
	f.Fuzz(func(t *testing.T, text, extra string) {
		entries := []Entry{{Name: "Quad", Type: TypeGrouping}, {Name: "US", Type: TypeState, Aliases: []string{"U.S.", "United States"}}}
		if strings.TrimSpace(extra) != "" {
			entries = append(entries, Entry{Name: extra, Type: TypeCompany, Aliases: []string{strings.ToUpper(extra) + "X"}})
		}
		g, err := New(entries)
		if errors.Is(err, ErrDuplicateAlias) {
			return
		}
		if err != nil {
			t.Fatalf("New with %q: %v", extra, err)
		}
		checkAgainstNaive(t, g, "", text)
	})
}

// TestFindDoc checks the analyzer's path: one machine for several
// dictionaries, the gazetteer's hits picked by list, the doc and hits left
// as they were, and the same entities as Find.
func TestFindDoc(t *testing.T) {
	raw, err := os.ReadFile(seedPath)
	if err != nil {
		t.Fatal(err)
	}
	title, text := "India, US agree to co-produce armoured vehicles, expedite MQ-9B drone delivery", string(raw)
	g := defaultGazetteer(t)
	m, err := scan.Compile(
		[]scan.Term{{Text: "defence"}, {Text: "India"}, {Text: "terror", Prefix: true}},
		g.Terms(),
		[]scan.Term{{Text: "US"}, {Text: "MQ-9B"}},
	)
	if err != nil {
		t.Fatal(err)
	}
	var d scan.Doc
	d.Normalize(title, text)
	hits := m.Scan(&d, nil)
	hitsBefore, bufBefore, toksBefore := slices.Clone(hits), slices.Clone(d.Buf), slices.Clone(d.Tokens)

	got := g.FindDoc(&d, hits, 1)
	if want := g.Find(title, text); !reflect.DeepEqual(got, want) {
		t.Errorf("FindDoc differs from Find:\n got %q\nwant %q", summary(got), summary(want))
	}
	if !slices.Equal(hits, hitsBefore) || !slices.Equal(d.Buf, bufBefore) || !slices.Equal(d.Tokens, toksBefore) {
		t.Error("FindDoc modified the doc or the hits")
	}
	// Hits out of order (not from Scan) still find their tokens.
	reversed := slices.Clone(hits)
	slices.Reverse(reversed)
	if again := g.FindDoc(&d, reversed, 1); !reflect.DeepEqual(again, got) {
		t.Errorf("FindDoc on reversed hits differs:\n got %q\nwant %q", summary(again), summary(got))
	}
	if es := g.FindDoc(&d, hits, 2); es != nil {
		t.Errorf("list 2 is not the gazetteer's, found %q", summary(es))
	}
}

func TestFindDocDoesNotAllocatePerMatch(t *testing.T) {
	raw, err := os.ReadFile(seedPath)
	if err != nil {
		t.Fatal(err)
	}
	// Besides the seed, the paths that compare non-ASCII punctuation and
	// case: curly apostrophes, spaced stops, a case-sensitive Türkiye.
	text := string(raw) + "\nAl-Qa’ida and U. S. officials met Türkiye’s and TÜRKIYE’s envoys; the West Bank."
	g := defaultGazetteer(t)
	var d scan.Doc
	d.Normalize("India, US agree", text)
	hits := g.machine.Scan(&d, nil)
	sc := &scratch{}
	sc.matches = g.match(&d, hits, 0, sc.matches) // grow the buffers once
	if len(sc.matches) < 100 {
		t.Fatalf("only %d matches in the seed", len(sc.matches))
	}
	if n := testing.AllocsPerRun(20, func() { sc.matches = g.match(&d, hits, 0, sc.matches[:0]) }); n != 0 {
		t.Errorf("matching allocated %v times per article", n)
	}
	g.findDoc(&d, hits, 0, sc)
	// The result: the entities and one array of mentions.
	if n := testing.AllocsPerRun(20, func() { g.findDoc(&d, hits, 0, sc) }); n > 2 {
		t.Errorf("FindDoc allocated %v times for %d mentions", n, len(sc.matches))
	}
}

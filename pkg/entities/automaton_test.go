package entities

import (
	"cmp"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/newswatch/newswatch/pkg/textnorm"
)

// naiveFind is the obvious definition of Gazetteer.find: every occurrence
// of every pattern, filtered by case and word boundaries, leftmost-longest.
func naiveFind(g *Gazetteer, s string) []match {
	folded := strings.Map(func(r rune) rune {
		if 'A' <= r && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}, s)
	var ms []match
	for _, p := range g.pats {
		key := strings.Map(func(r rune) rune {
			if 'A' <= r && r <= 'Z' {
				return r + 'a' - 'A'
			}
			return r
		}, p.exact)
		for off := 0; ; {
			i := strings.Index(folded[off:], key)
			if i < 0 {
				break
			}
			start, end := off+i, off+i+len(key)
			off = start + 1
			if p.caseSensitive && s[start:end] != p.exact {
				continue
			}
			if p.wordStart && textnorm.WordBefore(s, start) || p.wordEnd && textnorm.WordAfter(s, end) {
				continue
			}
			ms = append(ms, match{entity: p.entity, start: start, end: end, field: 1})
		}
	}
	slices.SortFunc(ms, func(a, b match) int {
		if c := cmp.Compare(a.start, b.start); c != 0 {
			return c
		}
		return cmp.Compare(b.end, a.end)
	})
	var kept []match
	lastEnd := -1
	for _, m := range ms {
		if m.start >= lastEnd {
			kept = append(kept, m)
			lastEnd = m.end
		}
	}
	return kept
}

// sameMatches compares spans; two entities may share a span only if they
// are listed in a different order, which leftmost-longest does not define.
func sameMatches(a, b []match) bool {
	return slices.EqualFunc(a, b, func(x, y match) bool { return x.start == y.start && x.end == y.end })
}

func TestAutomatonAgreesWithNaiveMatching(t *testing.T) {
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
	}
	for name, text := range texts {
		t.Run(name, func(t *testing.T) {
			s := textnorm.Normalize(text, textnorm.CollapseSpace).String()
			got := g.find(s, 1, &scratch{}, nil)
			want := naiveFind(g, s)
			if !sameMatches(got, want) {
				t.Fatalf("automaton found\n%v\nnaive matching found\n%v", spans(s, got), spans(s, want))
			}
		})
	}
}

func spans(s string, ms []match) []string {
	var out []string
	for _, m := range ms {
		out = append(out, s[m.start:m.end])
	}
	return out
}

func FuzzAutomaton(f *testing.F) {
	f.Add("thus USA focus LeT India's Quad’s MQ9B", "Lashkar")
	f.Add("xÉlysée «Quad»", "Élysée")
	f.Add("a-b a b", "a-b")
	f.Fuzz(func(t *testing.T, text, extra string) {
		entries := []Entry{{Name: "Quad", Type: TypeGrouping}, {Name: "US", Type: TypeState, Aliases: []string{"U.S.", "United States"}}}
		if strings.TrimSpace(extra) != "" && !strings.EqualFold(strings.TrimSpace(extra), "quad") {
			entries = append(entries, Entry{Name: extra, Type: TypeCompany})
		}
		g, err := New(entries)
		if err != nil {
			return // duplicate of a fixed alias
		}
		s := textnorm.Normalize(text, textnorm.CollapseSpace).String()
		got := g.find(s, 1, &scratch{}, nil)
		if want := naiveFind(g, s); !sameMatches(got, want) {
			t.Fatalf("automaton %v, naive %v", spans(s, got), spans(s, want))
		}
	})
}

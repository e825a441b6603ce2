package topics

import (
	"errors"
	"math"
	"strings"
	"testing"
	"unicode/utf8"
)

func FuzzClassify(f *testing.F) {
	for _, tc := range headlines {
		f.Add(tc.title, tc.text)
	}
	f.Add("U.S.", "Mr. . . ! ? #39; &quot; \n\n“”‘’—")
	f.Add("", strings.Repeat("terror ", 100))
	c, err := New(DefaultTaxonomy())
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, title, text string) {
		got := c.Classify(title, text)
		checkEvidence(t, got, title, text)
		for _, tp := range got {
			for _, ev := range tp.Evidence {
				if utf8.ValidString(title+text) && !utf8.ValidString(ev.Sentence) {
					t.Errorf("evidence sentence %q is not valid UTF-8", ev.Sentence)
				}
			}
		}
		ex := c.Explain(title, text)
		for i, tp := range ex.Topics {
			flagged := false
			for _, g := range got {
				flagged = flagged || g.Name == tp.Name
			}
			if flagged != tp.Flagged {
				t.Errorf("topic %d %s: Explain flagged=%v, Classify disagrees", i, tp.Name, tp.Flagged)
			}
		}
	})
}

func FuzzParseTaxonomy(f *testing.F) {
	f.Add(string(defaultYAML))
	f.Add("topics:\n  - {name: a, threshold: 1, features: [{name: f, weight: 1, terms: [x*], requires: [{actors: 2, scope: window}]}]}\n")
	f.Add("topics:\n  - {name: a, threshold: 1, features: [{name: f, weight: 1, terms: ['@state']}]}\n")
	f.Fuzz(func(t *testing.T, doc string) {
		tax, err := ParseTaxonomy([]byte(doc))
		if err != nil {
			return
		}
		c, err := New(tax)
		if err != nil {
			return
		}
		_ = c.Classify("US and India sign defence pact after terror attack", "Joint exercise follows.")
	})
}

// FuzzParseModel feeds model files: a model is either refused with
// ErrModel or usable by New.
func FuzzParseModel(f *testing.F) {
	f.Add(`{"version":1,"features":{"lead_sentences":3,"bigrams":true},"topics":[{"name":"x","bias":-2,"threshold":0.5,"weights":{"w:orbit":1.5}}]}`)
	f.Add(`{"version":1,"topics":[{"name":"x","threshold":0.5}]}`)
	f.Add(`{"version":1,"features":{"lead_sentences":-1},"topics":[]}`)
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseModel([]byte(s))
		if err != nil {
			if !errors.Is(err, ErrModel) {
				t.Fatalf("error %v does not wrap ErrModel", err)
			}
			return
		}
		c, err := New(DefaultTaxonomy(), WithModel(m))
		if err != nil {
			t.Fatalf("New with a parsed model: %v", err)
		}
		for _, tp := range c.Classify("Orbit reached", "The probe reached orbit. A second paragraph follows.\nAnd a third.") {
			if tp.Score < 0 || math.IsNaN(tp.Score) {
				t.Errorf("%s: score %v", tp.Name, tp.Score)
			}
		}
	})
}

package topics

import (
	"bufio"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/newswatch/newswatch/pkg/scan"
)

// wordRowsArticles are articles of several paragraphs from the
// repository's own text: the seed report, the exercise article and the
// held-out items joined into articles of six paragraphs, some with a
// boilerplate line and text outside ASCII.
func wordRowsArticles(t *testing.T) [][2]string {
	t.Helper()
	seed, err := os.ReadFile(seedPath)
	if err != nil {
		t.Fatal(err)
	}
	ex, err := os.ReadFile(filepath.Join("testdata", "exercise-article.txt"))
	if err != nil {
		t.Fatal(err)
	}
	exTitle, exText, _ := strings.Cut(string(ex), "\n")
	arts := [][2]string{{"India, US to co-produce armoured vehicles", string(seed)}, {exTitle, exText}, {"", string(seed)}}
	f, err := os.Open(filepath.Join("testdata", "heldout", "items.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var items []struct{ Title, Text string }
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var it struct{ Title, Text string }
		if err := json.Unmarshal(sc.Bytes(), &it); err != nil {
			t.Fatal(err)
		}
		items = append(items, it)
	}
	extras := []string{"Also read: 2,000 troops’ drills — Délégation in Paris.", "Defence ties: नई दिल्ली and Paris sign 12 pacts."}
	for i := 0; i+6 <= len(items); i += 6 {
		var b strings.Builder
		b.WriteString(items[i].Text)
		for k, it := range items[i+1 : i+6] {
			b.WriteString("\n" + it.Title + ". " + it.Text)
			if k == 2 {
				b.WriteString(" " + extras[i%2])
			}
		}
		arts = append(arts, [2]string{items[i].Title, b.String()})
	}
	return arts
}

// TestWordRowsMatchHashing checks that the word features read from the
// tokens resolved once per article (wordrows.go) are exactly those the
// hashing loop of collect gives, part by part, and that a passage's
// fused probabilities are bit for bit those of extract then
// probabilities, for the built-in model and for its weights read with
// other feature options. A new kind of word feature in collect's hashing
// loop must be added to appendWordRows and sumWordRows too, or this fails.
func TestWordRowsMatchHashing(t *testing.T) {
	arts := wordRowsArticles(t)
	for _, tc := range []struct {
		name string
		opts func(*FeatureOptions)
	}{
		{"built-in", func(*FeatureOptions) {}},
		{"no stem, no title words", func(o *FeatureOptions) { o.Stem, o.TitleWords = false, false }},
		{"no pairs, one lead sentence", func(o *FeatureOptions) { o.Bigrams, o.LeadSentences = false, 1 }},
		{"no clusters, no spelling fold", func(o *FeatureOptions) { o.Clusters, o.Spelling = false, false }},
		{"clusters without title words", func(o *FeatureOptions) { o.Clusters, o.TitleWords = true, false }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := DefaultModel()
			tc.opts(&m.Features)
			c, err := New(DefaultTaxonomy(), WithModel(m))
			if err != nil {
				t.Fatal(err)
			}
			o := &c.model.opts
			nt := len(c.model.topics)
			parts := 0
			for _, a := range arts {
				sc := new(scratch)
				d := c.own(a[0], a[1], sc)
				c.evaluate(d, sc.hits, 0, sc)
				c.predict(d, sc)
				if !sc.tokReady {
					t.Fatal("predict did not resolve the tokens")
				}
				end := leadEnd(d, sc, o.LeadSentences)
				bounds := []int{0, end}
				for s := end + 1; s <= len(d.Sentences); s++ {
					if s == len(d.Sentences) || d.Sentences[s].Para != d.Sentences[s-1].Para {
						bounds = append(bounds, s)
					}
				}
				for k := 0; k+1 < len(bounds); k++ {
					lo, hi := bounds[k], bounds[k+1]
					parts++
					sc.tokReady = false
					c.extract(d, sc, o, lo, hi, nil)
					want := slices.Clone(sc.fv)
					wantP := make([]float64, nt)
					c.probabilities(sc, wantP)
					sc.tokReady = true
					c.extract(d, sc, o, lo, hi, nil)
					got := sc.fv
					if len(got) != len(want) {
						t.Fatalf("%.40q sentences %d-%d: %d features from resolved tokens, %d from hashing", a[0], lo, hi, len(got), len(want))
					}
					for i := range got {
						g, w := got[i], want[i]
						g.key, w.key = 0, 0 // inference reads rows, not keys
						if g != w {
							t.Fatalf("%.40q sentences %d-%d feature %d: %+v from resolved tokens, %+v from hashing (%s)", a[0], lo, hi, i, got[i], want[i], c.model.names[w.row])
						}
					}
					gotP := make([]float64, nt)
					c.passageProbabilities(d, sc, lo, hi, gotP)
					for ti := range gotP {
						if math.Float64bits(gotP[ti]) != math.Float64bits(wantP[ti]) {
							t.Fatalf("%.40q sentences %d-%d topic %d: fused probability %v, extract and probabilities %v", a[0], lo, hi, ti, gotP[ti], wantP[ti])
						}
					}
				}
			}
			if parts < 100 {
				t.Fatalf("only %d parts compared", parts)
			}
		})
	}
}

// TestTokenHash checks that a token's hash depends on its bytes alone,
// not on what follows it in the buffer, and that tokens differing in one
// byte or in length hash apart.
func TestTokenHash(t *testing.T) {
	words := []string{"", "a", "ab", "abcdefg", "abcdefgh", "abcdefghi", "abcdefghijklmnop", "abcdefghijklmnopq", "défense", "0"}
	seen := map[uint64]string{}
	for _, w := range words {
		alone := tokenHash([]byte(w), 0, len(w))
		for _, after := range []string{" x", "\nabcdefgh", "zzzzzzzzzzzz"} {
			buf := []byte("q " + w + after)
			if h := tokenHash(buf, 2, 2+len(w)); h != alone {
				t.Errorf("%q followed by %q hashes to %x, alone to %x", w, after, h, alone)
			}
		}
		if prev, ok := seen[alone]; ok {
			t.Errorf("%q and %q hash alike", w, prev)
		}
		seen[alone] = w
	}
	var d scan.Doc
	d.Normalize("", "Tokens of a normalised article")
	for _, tk := range d.Tokens {
		if tokenHash(d.Buf, int(tk.NStart), int(tk.NEnd)) != tokenHash(d.Buf[tk.NStart:tk.NEnd], 0, int(tk.NEnd-tk.NStart)) {
			t.Errorf("token %q hashes differently in place", d.Buf[tk.NStart:tk.NEnd])
		}
	}
}

// TestTopContributions checks the selection against sorting everything.
func TestTopContributions(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for round := range 200 {
		n := r.IntN(60)
		cs := make([]contribution, n)
		for i := range cs {
			// Few distinct values, so ties are broken by row and sentence.
			cs[i] = contribution{row: int32(r.IntN(20)), contri: float64(r.IntN(5)) - 1}
			cs[i].fv.span = int32(i)
		}
		want := slices.Clone(cs)
		sortContributions(want)
		for _, k := range []int{0, 1, 12, 100} {
			got := topContributions(slices.Clone(cs), k)
			if w := want[:min(k, n)]; !slices.Equal(got, w) {
				t.Fatalf("round %d, k %d: got %v, want %v", round, k, got, w)
			}
		}
	}
}

package scan

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"unicode"
)

func dump(d *Doc) string {
	var b strings.Builder
	for i, t := range d.Tokens {
		fmt.Fprintf(&b, "%s[%s|%d|w%d|s%d]", string(d.Buf[t.NStart:t.NEnd]), d.Original(i), t.Gap, t.Word, t.Sentence)
		b.WriteByte(' ')
	}
	return b.String()
}

func TestNormalize(t *testing.T) {
	tests := []struct {
		name, title, text string
		buf               string
	}{
		{"seed", "India, US agree on MQ-9B", "The U.S. and India's Rajnath Singh met. They agreed.", "india u s agree on mq 9b\nthe u s and india s rajnath singh met\nthey agreed\n"},
		{"unicode", "", "Ｆ‑414 engines\u00ad and co\u00adoperation — “Quad”", "f 414 engines and cooperation quad\n"},
		{"entities", "", "Lashkar&#39;s men #39;attack&quot;", "lashkar s men attack\n"},
		{"not entities", "", "AT&T; M&Ms; P&G&amp;co &#x27;x", "at t m ms p g co x\n"},
		{"lines", "a\nb", "x.\ny", "a\nb\nx\ny\n"},
		{"abbrev", "", "Gen. Austin met Mr. Singh. Then", "gen austin met mr singh\nthen\n"},
		{"pronoun", "", "Tell us about US policy", "tell us about u s policy\n"},
		{"cjk and ellipsis", "", "中国 发表 声明。日本 回应！好 He waited… Then… and", "中国 发表 声明\n日本 回应\n好 he waited\nthen and\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var d Doc
			d.Normalize(tc.title, tc.text)
			if got := string(d.Buf); got != tc.buf {
				t.Errorf("buf = %q, want %q\n%s", got, tc.buf, dump(&d))
			}
			for i, tk := range d.Tokens {
				src := d.Field(tk.Field)
				if tk.Start < 0 || tk.End > int32(len(src)) || tk.Start >= tk.End {
					t.Errorf("token %d has span [%d,%d) in %q", i, tk.Start, tk.End, src)
				}
			}
		})
	}
}

func TestTokens(t *testing.T) {
	var d Doc
	d.Normalize("", "The MQ-9B and India's drones, U.S. and US — “co-operation”.")
	got := dump(&d)
	want := "the[The|0|w0|s0] mq[MQ|1|w1|s0] 9b[9B|2|w1|s0] and[and|1|w2|s0] india[India|1|w3|s0] s[s|3|w3|s0] drones[drones|1|w4|s0] u[U|3|w5|s0] s[S|3|w6|s0] and[and|3|w7|s0] u[U|1|w8|s0] s[S|4|w8|s0] co[co|3|w9|s0] operation[operation|2|w9|s0] "
	if got != want {
		t.Errorf("tokens\n got %s\nwant %s", got, want)
	}
	if g := d.GapText(7); g != "," {
		t.Errorf("GapText(7) = %q", g)
	}
}

func TestScan(t *testing.T) {
	m, err := Compile(
		[]Term{{Text: "defence cooperation"}, {Text: "terror", Prefix: true}, {Text: "US"}},
		[]Term{{Text: "U.S."}, {Text: "MQ-9B"}, {Text: "Quad"}, {Text: "!!"}},
	)
	if err != nil {
		t.Fatal(err)
	}
	var d Doc
	d.Normalize("US, India deepen defence co-operation", "Terrorists hit the quad-bike show. The MQ-9B deal; defence cooperation with the U.S. Counterterrorism is not a prefix match. defence\ncooperation")
	var got []string
	for _, h := range m.Scan(&d, nil) {
		got = append(got, fmt.Sprintf("%d.%d:%s", h.List, h.Index, d.Buf[h.Start:h.End]))
	}
	want := "0.2:u s 1.0:u s 0.1:terror 1.2:quad 1.1:mq 9b 0.0:defence cooperation 0.2:u s 1.0:u s"
	if s := strings.Join(got, " "); s != want {
		t.Errorf("hits\n got %s\nwant %s", s, want)
	}
	if _, err := Compile([]Term{{Text: "a\nb"}}); err == nil {
		t.Error("a term over two lines compiled")
	}
}

func TestOriginal(t *testing.T) {
	var d Doc
	d.Normalize("", "Élysée Ｆ\u00ad414 U. S.")
	want := []string{"Élysée", "F414", "U", "S"}
	for i, w := range want {
		if got := d.Original(i); got != w {
			t.Errorf("Original(%d) = %q, want %q", i, got, w)
		}
	}
	if n := testing.AllocsPerRun(10, func() { _ = d.Original(0) }); n != 0 {
		t.Errorf("Original of a word already in NFKC allocated %v times", n)
	}
	if g := d.GapText(3); g != "." || gapText(" \u2019 \u2013 ") != "'-" {
		t.Errorf("GapText(3) = %q, gapText = %q", g, gapText(" \u2019 \u2013 "))
	}
}

func TestSentencesInScriptsWithoutCase(t *testing.T) {
	tests := []struct{ name, text string }{
		{"hindi danda", "भारत और अमेरिका ने समझौता किया। रक्षा मंत्री ने कहा"},
		{"hindi full stop", "भारत और अमेरिका ने समझौता किया. रक्षा मंत्री ने कहा"},
		{"arabic", "وقعت الهند والولايات المتحدة اتفاقا؟ قال الوزير"},
		{"urdu", "بھارت اور امریکہ نے معاہدہ کیا۔ وزیر نے کہا"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var d Doc
			d.Normalize("", tc.text)
			if len(d.Sentences) != 2 {
				t.Errorf("%d sentences in %q, want 2: %q", len(d.Sentences), tc.text, d.Buf)
			}
		})
	}
	var d Doc
	d.Normalize("", "He left, e.g. at noon. then more")
	if len(d.Sentences) != 1 {
		t.Errorf("a full stop before a lower-case word ended a sentence: %q", d.Buf)
	}
}

func TestGapText(t *testing.T) {
	tests := []struct{ text, want string }{
		{"Lashkar's men", "'"},
		{"Lashkar\u2019s men", "'"},
		{"Lashkar&#39;s men", "'"},
		{"Lashkar#39;s men", "'"},
		{"Lashkar&#x2019;s men", "'"},
		{"Lashkar&rsquo;s men", "'"},
		{"MQ &ndash; 9B", "-"},
		{"U. S.", "."},
		{"Ａ．Ｂ", "."},
		{"a &foo; b", ""},
	}
	for _, tc := range tests {
		var d Doc
		d.Normalize("", tc.text)
		if got := d.GapText(1); got != tc.want {
			t.Errorf("GapText(1) of %q = %q, want %q", tc.text, got, tc.want)
		}
		if !d.GapIs(1, tc.want) || d.GapIs(1, tc.want+"x") {
			t.Errorf("GapIs(1) of %q disagrees with GapText %q", tc.text, tc.want)
		}
	}
	var d Doc
	d.Normalize("", "Lashkar&#39;s Al\u2013Qaeda")
	if n := testing.AllocsPerRun(10, func() { d.GapIs(1, "'"); d.GapIs(3, "-") }); n != 0 {
		t.Errorf("GapIs allocated %v times", n)
	}
}

// TestScanMatchesNaive checks the automaton against matching every term
// at every word start, over dictionaries of pseudo-words that share
// prefixes and suffixes (deep, branching tries, whatever the layout of
// the table), with prefix terms and phrases.
func TestScanMatchesNaive(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	syl := []string{"ka", "ko", "ra", "ri", "n", "s", "ta", "9b", "é"}
	word := func() string {
		var b strings.Builder
		for range 1 + r.IntN(4) {
			b.WriteString(syl[r.IntN(len(syl))])
		}
		return b.String()
	}
	for round := range 20 {
		var terms []Term
		for range 50 + r.IntN(400) {
			txt := word()
			if r.IntN(4) == 0 {
				txt += " " + word()
			}
			terms = append(terms, Term{Text: txt, Prefix: r.IntN(5) == 0})
		}
		m, err := Compile(terms)
		if err != nil {
			t.Fatal(err)
		}
		var text strings.Builder
		for i := range 400 {
			text.WriteString(word())
			if i%13 == 12 {
				text.WriteString(". ")
			} else {
				text.WriteString(" ")
			}
		}
		var d Doc
		d.Normalize("", text.String())
		got := m.Scan(&d, nil)
		var want []Hit
		for ti, term := range terms {
			p, _ := NormalizeTerm(term.Text)
			for s := 0; s+len(p) <= len(d.Buf); s++ {
				if p == "" || s > 0 && !isSep(d.Buf[s-1]) || string(d.Buf[s:s+len(p)]) != p {
					continue
				}
				if e := s + len(p); term.Prefix || e == len(d.Buf) || isSep(d.Buf[e]) {
					want = append(want, Hit{Index: int32(ti), Start: int32(s), End: int32(e)})
				}
			}
		}
		for i := 1; i < len(got); i++ {
			if got[i].End < got[i-1].End {
				t.Fatalf("round %d: hits out of end order at %d", round, i)
			}
		}
		key := func(a, b Hit) int {
			return cmp.Or(cmp.Compare(a.End, b.End), cmp.Compare(a.Start, b.Start), cmp.Compare(a.Index, b.Index))
		}
		slices.SortFunc(got, key)
		slices.SortFunc(want, key)
		if !slices.Equal(got, want) {
			t.Fatalf("round %d: %d hits, want %d", round, len(got), len(want))
		}
	}
}

// TestGeneralPunctuationHasNoWordRune checks the shortcut of IsWordRune.
func TestGeneralPunctuationHasNoWordRune(t *testing.T) {
	for r := rune(0x2000); r <= 0x206f; r++ {
		if !generalPunctuation(r) {
			t.Fatalf("%U not in the block", r)
		}
		if unicode.IsLetter(r) || unicode.IsNumber(r) || unicode.Is(unicode.Mn, r) || unicode.Is(unicode.Mc, r) {
			t.Errorf("%U is a word rune", r)
		}
	}
	if generalPunctuation(0x1fff) || generalPunctuation(0x2070) {
		t.Error("the block's bounds are wrong")
	}
}

package textnorm

import (
	"os"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/newswatch/newswatch/pkg/benchtest"
)

func TestNormalize(t *testing.T) {
	tests := []struct {
		name string
		in   string
		opts []Option
		want string
	}{
		{"ascii unchanged", "India and the US", nil, "India and the US"},
		{"em dash", "Hamas\u2014Israel", nil, "Hamas-Israel"},
		{"all dashes", "a\u2010b\u2011c\u2012d\u2013e\u2014f\u2212g", nil, "a-b-c-d-e-f-g"},
		{"curly quotes", "\u201cQuad\u2019s\u201d \u2018x\u2019", nil, "\"Quad's\" 'x'"},
		{"nfkc fullwidth", "\uff2d\uff31\uff0d\uff19\uff22", nil, "MQ-9B"},
		{"nfkc ligature", "\ufb01ghter", nil, "fighter"},
		{"nbsp becomes space", "New\u00a0Delhi", nil, "New Delhi"},
		{"combining accent composes", "Sa\u0301o", nil, "S\u00e1o"},
		{"soft hyphen dropped", "Lash\u00adkar", nil, "Lashkar"},
		{"zero width space dropped", "Al\u200bQaeda", nil, "AlQaeda"},
		{"fold case ascii", "NATO Summit", []Option{FoldCase}, "nato summit"},
		{"fold case unicode", "T\u00dcRK\u0130YE", []Option{FoldCase}, "t\u00fcrkiye"},
		{"collapse space", "Rajnath\n\n  Singh\t", []Option{CollapseSpace}, "Rajnath Singh "},
		{"collapse nbsp run", "a \u00a0\u2009b", []Option{CollapseSpace}, "a b"},
		{"keep newline without option", "a\nb", nil, "a\nb"},
		{"empty", "", []Option{FoldCase, CollapseSpace}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Normalize(tt.in, tt.opts...)
			if got.String() != tt.want {
				t.Fatalf("Normalize(%q) = %q, want %q", tt.in, got.String(), tt.want)
			}
			if got.Original() != tt.in {
				t.Fatalf("Original() = %q, want %q", got.Original(), tt.in)
			}
			checkMap(t, got)
		})
	}
}

func TestSpan(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		opts   []Option
		needle string // in normalised text
		want   string // the original text the span covers
	}{
		{"after em dash", "Hamas\u2014Israel conflict", nil, "Israel", "Israel"},
		{"covering em dash", "Hamas\u2014Israel conflict", nil, "Hamas-Israel", "Hamas\u2014Israel"},
		{"possessive quote", "Quad\u2019s summit", nil, "Quad's", "Quad\u2019s"},
		{"soft hyphen inside", "the Lash\u00adkar-e-Tayyiba group", nil, "Lashkar-e-Tayyiba", "Lash\u00adkar-e-Tayyiba"},
		{"soft hyphen after", "Lash\u00ad kar", nil, "Lash", "Lash"},
		{"line break inside name", "Rajnath\n\nSingh said", []Option{CollapseSpace}, "Rajnath Singh", "Rajnath\n\nSingh"},
		{"after collapsed space", "a  \n b c", []Option{CollapseSpace}, "b", "b"},
		{"fullwidth", "the \uff2d\uff31\uff0d\uff19\uff22 drone", nil, "MQ-9B", "\uff2d\uff31\uff0d\uff19\uff22"},
		{"after fullwidth", "\uff2d\uff31 drone", nil, "drone", "drone"},
		{"folded", "The PENTAGON said", []Option{FoldCase}, "pentagon", "PENTAGON"},
		{"ligature partial start", "\ufb01ghter", nil, "ighter", "\ufb01ghter"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			txt := Normalize(tt.in, tt.opts...)
			i := strings.Index(txt.String(), tt.needle)
			if i < 0 {
				t.Fatalf("%q not in %q", tt.needle, txt.String())
			}
			a, b := txt.Span(i, i+len(tt.needle))
			if got := tt.in[a:b]; got != tt.want {
				t.Fatalf("Span -> %q, want %q", got, tt.want)
			}
		})
	}
}

func TestAtWordBoundary(t *testing.T) {
	tests := []struct {
		s, sub string
		want   bool
	}{
		{"the US said", "US", true},
		{"the USA said", "US", false},
		{"India's gain", "India", true},
		{"Quadrilateral talks", "Quad", false},
		{"U.S.-made drones", "U.S.", true},
		{"(HAL)", "HAL", true},
		{"Hamas-Israel", "Israel", true},
		{"Indo-Pacific", "Indo", true},
		{"naïve", "na", false},
		{"привет US", "US", true},
		{"9US", "US", false},
	}
	for _, tt := range tests {
		t.Run(tt.s+"/"+tt.sub, func(t *testing.T) {
			i := strings.Index(tt.s, tt.sub)
			if got := AtWordBoundary(tt.s, i, i+len(tt.sub)); got != tt.want {
				t.Fatalf("AtWordBoundary(%q, %q) = %v, want %v", tt.s, tt.sub, got, tt.want)
			}
		})
	}
}

func TestASCIINotCopied(t *testing.T) {
	s := strings.Repeat("India and the US agree. ", 10)
	txt := Normalize(s)
	if !txt.Identity() || txt.String() != s {
		t.Fatal("ASCII text was rewritten")
	}
	if folded := Normalize(s, FoldCase); !folded.Identity() || folded.String() != strings.ToLower(s) {
		t.Fatal("ASCII case folding should keep offsets")
	}
	if n := testing.AllocsPerRun(10, func() { Normalize(s) }); n != 0 {
		t.Fatalf("Normalize of ASCII text allocated %v times", n)
	}
}

// checkMap verifies the offset map's invariants: the ends map to the ends,
// offsets never go backwards and always land on rune starts of the original.
func checkMap(t *testing.T, txt Text) {
	t.Helper()
	orig, n := txt.Original(), txt.String()
	if rest := orig[:txt.Start(0)]; !allDropped(rest) {
		t.Fatalf("Start(0) skips %q", rest)
	}
	if rest := orig[txt.End(len(n)):]; !allDropped(rest) {
		t.Fatalf("End(len) leaves out %q", rest)
	}
	prevS, prevE := 0, 0
	for i := 0; i <= len(n); i++ {
		if i < len(n) && !utf8.RuneStart(n[i]) {
			continue // callers only map offsets of whole runes
		}
		s, e := txt.Start(i), txt.End(i)
		if s < prevS || e < prevE || s < 0 || e > len(orig) || s > len(orig) {
			t.Fatalf("offset %d maps to (%d,%d) after (%d,%d), len(orig)=%d", i, s, e, prevS, prevE, len(orig))
		}
		if s < len(orig) && !utf8.RuneStart(orig[s]) || e < len(orig) && !utf8.RuneStart(orig[e]) {
			t.Fatalf("offset %d maps into the middle of a rune: (%d,%d) in %q", i, s, e, orig)
		}
		prevS, prevE = s, e
	}
}

func allDropped(s string) bool {
	for _, r := range s {
		if fold(r) >= 0 && !unicode.IsSpace(r) {
			return false
		}
	}
	return true
}

// reference is the obvious, slow definition of Normalize with no options.
func reference(s string) string {
	var b strings.Builder
	for _, r := range norm.NFKC.String(s) {
		if r = fold(r); r >= 0 {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func collapseReference(s string) string {
	var b strings.Builder
	space := false
	for _, r := range s {
		if unicode.IsSpace(r) {
			if !space {
				b.WriteByte(' ')
			}
			space = true
			continue
		}
		space = false
		b.WriteRune(r)
	}
	return b.String()
}

func FuzzNormalize(f *testing.F) {
	seed, _ := os.ReadFile("../../../shared/seeds/livemint-2023-11-11-india-us-2plus2.txt")
	for _, s := range []string{"", "India\u2019s", "Sa\u0301o", "\ufb01", "a\u00ad\u00adb", "x\n\n y", "\uff2d\uff31\uff0d\uff19\uff22", string(seed[:600])} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			return
		}
		txt := Normalize(s)
		if want := reference(s); txt.String() != want {
			t.Fatalf("Normalize(%q) = %q, reference %q", s, txt.String(), want)
		}
		checkMap(t, txt)
		collapsed := Normalize(s, CollapseSpace)
		if want := collapseReference(reference(s)); collapsed.String() != want {
			t.Fatalf("Normalize(%q, CollapseSpace) = %q, reference %q", s, collapsed.String(), want)
		}
		checkMap(t, collapsed)
		checkMap(t, Normalize(s, FoldCase, CollapseSpace))
	})
}

func BenchmarkNormalize(b *testing.B) {
	seed, err := os.ReadFile("../../../shared/seeds/livemint-2023-11-11-india-us-2plus2.txt")
	if err != nil {
		b.Skip(err)
	}
	ascii := []byte(reference(string(seed)))
	for i, c := range ascii {
		if c >= utf8.RuneSelf {
			ascii[i] = ' '
		}
	}
	asciiNoNL := strings.Join(strings.Fields(string(ascii)), " ")
	cases := []struct {
		name string
		text string
		opts []Option
	}{
		{"ascii", asciiNoNL, nil},
		{"ascii-collapse", string(ascii), []Option{CollapseSpace}},
		{"ascii-fold-collapse", string(ascii), []Option{FoldCase, CollapseSpace}},
		{"seed-unicode-quotes", string(seed), nil},
		{"seed-collapse", string(seed), []Option{CollapseSpace}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			meter := benchtest.Start()
			for b.Loop() {
				Normalize(c.text, c.opts...)
			}
			meter.ReportMB(b, len(c.text))
		})
	}
}

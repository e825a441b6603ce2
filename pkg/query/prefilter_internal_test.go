package query

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/newswatch/newswatch/pkg/scan"
)

// lowerASCII lower-cases ASCII capitals only, whatever bytes surround them.
func TestLowerASCII(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	alphabet := []string{"A", "Z", "a", "z", "@", "[", "`", "{", "0", " ", "\xc0", "\xda", "\xc1", "É", "’", "\xff", "Q"}
	for range 2000 {
		var b strings.Builder
		for range r.IntN(40) {
			b.WriteString(alphabet[r.IntN(len(alphabet))])
		}
		s := b.String()
		want := []byte(s)
		for i, c := range want {
			if 'A' <= c && c <= 'Z' {
				want[i] = c + 'a' - 'A'
			}
		}
		if got := lowerASCII(nil, s); string(got) != string(want) {
			t.Fatalf("lowerASCII(%q) = %q, want %q", s, got, want)
		}
	}
}

// isPlain's shortcut ranges hold no character normalisation puts in a
// word.
func TestPlainRanges(t *testing.T) {
	for _, rg := range [][2]rune{{0x2010, 0x205f}, {0x20a0, 0x20cf}} {
		for r := rg[0]; r <= rg[1]; r++ {
			if scan.IsWordRune(r) || scan.IsIgnorable(r) {
				t.Errorf("%U is a word or ignorable character", r)
			}
		}
	}
	for _, c := range []struct {
		s     string
		plain bool
	}{
		{"“Quad’s” — MQ–9B… ₹3 \u2028", true}, {"Zürich", false}, {"Qu\u00adad", false}, {"a\u200bb", false},
		{"x\u2060y", false}, {"ＭＱ", false}, {"\xff\xfe", true}, {"", true}, {"plain ascii text, 26/11", true},
	} {
		if got := isPlain(c.s); got != c.plain {
			t.Errorf("isPlain(%q) = %v, want %v", c.s, got, c.plain)
		}
	}
}

package query

import (
	"math/rand/v2"
	"strings"
	"testing"
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

package query

import (
	"unicode"
	"unicode/utf8"
)

var fieldNames = [2]string{"title", "text"}

// isWordRune reports letters, digits and combining marks, as pkg/scan
// splits words: for source: values and bare query words.
func isWordRune(r rune) bool {
	if r < utf8.RuneSelf {
		return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9'
	}
	return unicode.IsLetter(r) || unicode.IsNumber(r) || unicode.Is(unicode.Mn, r) || unicode.Is(unicode.Mc, r)
}

package query

import (
	"unicode"
	"unicode/utf8"
)

// The characters below are classified as pkg/scan classifies them, which
// tokenises both the text and the terms; the query lexer and the gap
// comparison need the same classes.

var fieldNames = [2]string{"title", "text"}

func isDash(r rune) bool {
	switch r {
	case '-', '\u2010', '\u2011', '\u2012', '\u2013', '\u2014', '\u2015',
		'\u2212', '\ufe58', '\ufe63', '\uff0d':
		return true
	}
	return false
}

func isApostrophe(r rune) bool {
	switch r {
	case '\'', '\u2018', '\u2019', '\u02bc', '\u2032', '\uff07':
		return true
	}
	return false
}

// isIgnorable reports runes that publishers' CMSes sprinkle inside words
// (soft hyphens, zero-width spaces); they must not split a word.
func isIgnorable(r rune) bool {
	switch r {
	case '\u00ad', '\u200b', '\u200c', '\u200d', '\u2060', '\ufeff':
		return true
	}
	return false
}

func isWordRune(r rune) bool {
	if r < utf8.RuneSelf {
		return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9'
	}
	return unicode.IsLetter(r) || unicode.IsNumber(r) || unicode.Is(unicode.Mn, r) || unicode.Is(unicode.Mc, r)
}

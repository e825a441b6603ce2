package entities

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/newswatch/newswatch/pkg/scan"
	"golang.org/x/text/unicode/norm"
)

// The character classes below are scan's (chars.go): punctuation has to be
// read here the way scan reads it between tokens.

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

const ignorables = "\u00ad\u200b\u200c\u200d\u2060\ufeff"

func isIgnorable(r rune) bool {
	switch r {
	case '\u00ad', '\u200b', '\u200c', '\u200d', '\u2060', '\ufeff':
		return true
	}
	return false
}

// punctBytes returns r as punctuation is compared: nothing for white space
// and ignorable characters, '-' for a dash, '\” for an apostrophe, the NFKC
// form of anything else. buf holds the bytes when they are not constant.
func punctBytes(r rune, buf *[utf8.UTFMax]byte) []byte {
	switch {
	case r < utf8.RuneSelf:
		switch r {
		case ' ', '\t', '\n', '\r', '\f', '\v':
			return nil
		}
		buf[0] = byte(r)
		return buf[:1]
	case unicode.IsSpace(r), isIgnorable(r):
		return nil
	case isDash(r):
		buf[0] = '-'
		return buf[:1]
	case isApostrophe(r):
		buf[0] = '\''
		return buf[:1]
	}
	n := utf8.EncodeRune(buf[:], r)
	if dec := norm.NFKC.Properties(buf[:n]).Decomposition(); dec != nil {
		return dec
	}
	return buf[:n]
}

// foldPunct returns punctuation as punctIs compares it.
func foldPunct(s string) string {
	var b strings.Builder
	var buf [utf8.UTFMax]byte
	for _, r := range s {
		b.Write(punctBytes(r, &buf))
	}
	return b.String()
}

// punctIs reports whether the punctuation s, as written in the article,
// folds to want. It does not allocate.
func punctIs(s, want string) bool {
	var buf [utf8.UTFMax]byte
	j := 0
	for _, r := range s {
		b := punctBytes(r, &buf)
		if len(want)-j < len(b) || want[j:j+len(b)] != string(b) {
			return false
		}
		j += len(b)
	}
	return j == len(want)
}

// punctPrefix returns the length of the start of s that folds to want,
// white space not allowed, or 0 when s does not start so.
func punctPrefix(s, want string) int {
	var buf [utf8.UTFMax]byte
	j := 0
	for i, r := range s {
		if j == len(want) {
			return i
		}
		if isIgnorable(r) {
			continue
		}
		if unicode.IsSpace(r) {
			return 0
		}
		b := punctBytes(r, &buf)
		if len(want)-j < len(b) || want[j:j+len(b)] != string(b) {
			return 0
		}
		j += len(b)
	}
	if j == len(want) {
		return len(s)
	}
	return 0
}

// writtenAs reports whether token i of d is written w, as d.Original(i)
// would say, without allocating unless the token has ignorable characters
// or is not in NFKC.
func writtenAs(d *scan.Doc, i int, w string) bool {
	t := &d.Tokens[i]
	s := d.Field(t.Field)[t.Start:t.End]
	if s == w {
		return true
	}
	for j := 0; j < len(s); j++ {
		if s[j] >= utf8.RuneSelf {
			if !strings.ContainsAny(s, ignorables) && norm.NFKC.QuickSpanString(s) == len(s) {
				return false // s is what Original returns
			}
			return d.Original(i) == w
		}
	}
	return false
}

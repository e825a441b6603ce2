package entities

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/newswatch/newswatch/pkg/scan"
	"golang.org/x/text/unicode/norm"
)

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
	case unicode.IsSpace(r), scan.IsIgnorable(r):
		return nil
	case scan.IsDash(r):
		buf[0] = '-'
		return buf[:1]
	case scan.IsApostrophe(r):
		buf[0] = '\''
		return buf[:1]
	}
	n := utf8.EncodeRune(buf[:], r)
	if dec := norm.NFKC.Properties(buf[:n]).Decomposition(); dec != nil {
		return dec
	}
	return buf[:n]
}

// foldPunct returns punctuation as punctPrefix compares it.
func foldPunct(s string) string {
	var b strings.Builder
	var buf [utf8.UTFMax]byte
	for _, r := range s {
		b.Write(punctBytes(r, &buf))
	}
	return b.String()
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
		if scan.IsIgnorable(r) {
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
// says; it allocates only for a word that is not in NFKC or has ignorable
// characters.
func writtenAs(d *scan.Doc, i int, w string) bool {
	t := &d.Tokens[i]
	if d.Field(t.Field)[t.Start:t.End] == w {
		return true
	}
	return d.Original(i) == w
}

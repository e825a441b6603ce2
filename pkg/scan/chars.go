package scan

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

func isASCIIWord(b byte) bool {
	return 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9'
}

var asciiWord, lowerASCII = func() (w [256]bool, l [256]byte) {
	for b := range 256 {
		w[b] = isASCIIWord(byte(b))
		l[b] = byte(b)
		if 'A' <= b && b <= 'Z' {
			l[b] = byte(b + 'a' - 'A')
		}
	}
	return w, l
}()

// lowerWord is lowerASCII for the bytes of asciiWord and 0 for the others,
// so that the fast path of addWord reads one table per byte.
var lowerWord = func() (l [256]byte) {
	for b := range 256 {
		if asciiWord[b] {
			l[b] = lowerASCII[b]
		}
	}
	return l
}()

// IsWordRune reports letters, digits and combining marks: what words are
// made of.
func IsWordRune(r rune) bool {
	if r < utf8.RuneSelf {
		return isASCIIWord(byte(r))
	}
	if generalPunctuation(r) {
		// Curly quotes, dashes, ellipses: the commonest runes outside
		// ASCII in news text, answered without four table searches.
		return false
	}
	return unicode.IsLetter(r) || unicode.IsNumber(r) || unicode.Is(unicode.Mn, r) || unicode.Is(unicode.Mc, r)
}

// generalPunctuation reports the Unicode block General Punctuation
// (U+2000-U+206F), which holds no letter, number or mark
// (TestGeneralPunctuationHasNoWordRune).
func generalPunctuation(r rune) bool { return r >= 0x2000 && r <= 0x206f }

// isWordAt reports whether a word character starts at s[i].
func isWordAt(s string, i int) bool {
	if s[i] < utf8.RuneSelf {
		return isASCIIWord(s[i])
	}
	r, _ := utf8.DecodeRuneInString(s[i:])
	return IsWordRune(r)
}

// IsDash reports the dashes and hyphens that join words like '-' does.
func IsDash(r rune) bool {
	switch r {
	case '-', '\u2010', '\u2011', '\u2012', '\u2013', '\u2014', '\u2015',
		'\u2212', '\ufe58', '\ufe63', '\uff0d':
		return true
	}
	return false
}

// IsApostrophe reports the characters publishers write for an apostrophe.
func IsApostrophe(r rune) bool {
	switch r {
	case '\'', '\u2018', '\u2019', '\u02bc', '\u2032', '\uff07':
		return true
	}
	return false
}

// IsIgnorable reports runes that publishers' CMSes sprinkle inside words
// (soft hyphens, zero-width spaces); they never split a word.
func IsIgnorable(r rune) bool {
	switch r {
	case '\u00ad', '\u200b', '\u200c', '\u200d', '\u2060', '\ufeff':
		return true
	}
	return false
}

// entityEnd returns the index after an HTML entity remnant starting at i
// ("#39;", "&#39;", "&quot;"), or i when there is none.
func entityEnd(s string, i int) int {
	j := i + 1
	if s[i] == '&' && j < len(s) && s[j] == '#' {
		j++
	}
	k := j
	for k < len(s) && k-j < 8 && isASCIIWord(s[k]) {
		k++
	}
	if k == j || k == len(s) || s[k] != ';' {
		return i
	}
	switch {
	case s[j] >= '0' && s[j] <= '9', s[j] == 'x' && s[j-1] == '#':
		return k + 1
	case s[i] == '&' && s[j-1] == '&' && k-j >= 2 && s[j] >= 'a' && s[j] <= 'z':
		// A named entity ("&amp;", "&quot;"): not the "&T;" of "AT&T;".
		return k + 1
	}
	return i
}

// sentenceEnds reports whether the terminator at s[i] ends a sentence: it is
// followed (after closing quotes or brackets) by white space and then by a
// letter that is not lower case, a digit, an opening quote or the end of
// the text.
func sentenceEnds(s string, i int) bool {
	j := i + 1
	for j < len(s) {
		r, size := utf8.DecodeRuneInString(s[j:])
		if r == '"' || r == '\'' || r == ')' || r == ']' || r == '\u201d' || r == '\u2019' {
			j += size
			continue
		}
		break
	}
	if j == len(s) {
		return true
	}
	if s[j] != ' ' && s[j] != '\t' && s[j] != '\n' && s[j] != '\r' {
		r, _ := utf8.DecodeRuneInString(s[j:])
		if r != '\u00a0' {
			return false
		}
	}
	for j < len(s) {
		r, size := utf8.DecodeRuneInString(s[j:])
		if unicode.IsSpace(r) || r == '"' || r == '\'' || r == '\u201c' || r == '\u2018' || r == '(' {
			j += size
			continue
		}
		// A capital, a digit, or a letter of a script without case
		// (Devanagari, Arabic, Hebrew, Thai) starts a sentence.
		return unicode.IsDigit(r) || unicode.IsLetter(r) && !unicode.IsLower(r)
	}
	return true
}

// abbreviations end in a period that does not end a sentence.
var abbreviations = map[string]bool{
	"mr": true, "mrs": true, "ms": true, "dr": true, "st": true, "gen": true, "lt": true,
	"col": true, "sgt": true, "maj": true, "capt": true, "cmdr": true, "adm": true,
	"sen": true, "rep": true, "gov": true, "prof": true, "jr": true, "sr": true,
	"no": true, "nos": true, "vs": true, "inc": true, "co": true, "corp": true, "ltd": true,
	"jan": true, "feb": true, "mar": true, "apr": true, "jun": true, "jul": true,
	"aug": true, "sep": true, "sept": true, "oct": true, "nov": true, "dec": true,
	"approx": true, "est": true, "govt": true, "dept": true, "rs": true,
	"pres": true, "mt": true, "fig": true,
}

// abbreviationBefore reports whether the period at s[i] closes an
// abbreviation: a single letter ("U.S.", "S. Jaishankar") or a listed title
// or month.
func abbreviationBefore(s string, i int) bool {
	j := i
	for j > 0 && isASCIIWord(s[j-1]) {
		j--
	}
	w := s[j:i]
	if len(w) == 1 && (w[0] < '0' || w[0] > '9') {
		return true
	}
	if len(w) > 6 || len(w) == 0 {
		return false
	}
	var lw [6]byte
	for k := 0; k < len(w); k++ {
		c := w[k]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		lw[k] = c
	}
	return abbreviations[string(lw[:len(w)])]
}

// gapText folds punctuation between words for exact comparison: white
// space and ignorables dropped, apostrophes and dashes unified, HTML entity
// remnants ("&#39;", "#39;", "&quot;") read as the characters they stand
// for, the rest in NFKC.
func gapText(s string) string {
	plain := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= utf8.RuneSelf || c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '&' || c == '#' {
			plain = false
			break
		}
	}
	if plain {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, next := nextGapRune(s, i)
		i = next
		if r >= 0 {
			b.WriteRune(r)
		}
	}
	return norm.NFKC.String(b.String())
}

// nextGapRune reads the punctuation rune at s[i] as gaps are compared: -1
// for white space and ignorables (nothing), '\” for any apostrophe, '-'
// for any dash, an HTML entity remnant as its character.
func nextGapRune(s string, i int) (rune, int) {
	c := s[i]
	if c < utf8.RuneSelf {
		switch c {
		case ' ', '\t', '\n', '\r', '\f', '\v':
			return -1, i + 1
		case '&', '#':
			if r, j := entityRune(s, i); j > i {
				return foldGapRune(r), j
			}
		}
		return rune(c), i + 1
	}
	r, size := utf8.DecodeRuneInString(s[i:])
	return foldGapRune(r), i + size
}

func foldGapRune(r rune) rune {
	switch {
	case r < 0, unicode.IsSpace(r), IsIgnorable(r):
		return -1
	case IsApostrophe(r):
		return '\''
	case IsDash(r):
		return '-'
	}
	return r
}

// htmlEntities are the named entities syndicated text leaves behind, as the
// characters they stand for.
var htmlEntities = map[string]rune{
	"quot": '"', "amp": '&', "apos": '\'', "lt": '<', "gt": '>', "nbsp": ' ',
	"lsquo": '\u2018', "rsquo": '\u2019', "ldquo": '\u201c', "rdquo": '\u201d',
	"ndash": '\u2013', "mdash": '\u2014', "hellip": '\u2026',
}

// entityRune decodes the HTML entity remnant at s[i] and returns its
// character (-1 for an unknown name) and the index after it, or i when
// there is no remnant there.
func entityRune(s string, i int) (rune, int) {
	j := entityEnd(s, i)
	if j == i {
		return 0, i
	}
	body := strings.TrimPrefix(s[i:j-1], "&")
	if num, ok := strings.CutPrefix(body, "#"); ok {
		base := 10
		if hex, ok := strings.CutPrefix(num, "x"); ok {
			num, base = hex, 16
		}
		if n, err := strconv.ParseUint(num, base, 21); err == nil && utf8.ValidRune(rune(n)) {
			return rune(n), j
		}
		return -1, j
	}
	if r, ok := htmlEntities[body]; ok {
		return r, j
	}
	return -1, j
}

package query

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// gapKind says what separates a token from the one before it; phrases and
// dash variants are matched on gaps rather than on raw characters.
type gapKind uint8

const (
	gapNone  gapKind = iota // first token of the field
	gapSpace                // whitespace only
	gapJoin                 // whitespace and dashes, at least one dash
	gapOther                // anything else: apostrophes, full stops, quotes…
)

// token is one word of a field, with byte offsets into the original string
// so that spans point at what the publisher wrote.
type token struct {
	start, end int32
	norm       string // NFKC form without invisible characters
	fold       string // lower-cased norm
	sent       int32  // sentence number within the field
	word       int32  // word number: MQ-9B and Quad's are one word each
	gap        gapKind
	sentStart  bool
	// ambiguous marks positions where a capital letter says nothing about
	// the word: the start of a sentence.
	ambiguous bool
}

// field is a tokenised title or text.
type field struct {
	src   string
	toks  []token
	index map[string][]int32 // fold -> token positions
}

const (
	fieldTitle = 0
	fieldText  = 1
)

var fieldNames = [2]string{"title", "text"}

// docIndex is the normalised form of a Doc, built once per article.
type docIndex struct {
	title, text string // the strings the index was built from
	fields      [2]field
}

func buildIndex(title, text string) *docIndex {
	ix := &docIndex{title: title, text: text}
	ix.fields[fieldTitle] = newField(title)
	ix.fields[fieldText] = newField(text)
	return ix
}

func newField(s string) field {
	f := field{src: s, toks: tokenize(s)}
	f.index = make(map[string][]int32, len(f.toks)/2+1)
	for i := range f.toks {
		k := f.toks[i].fold
		f.index[k] = append(f.index[k], int32(i))
	}
	return f
}

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

func isTerminator(r rune) bool {
	return r == '.' || r == '!' || r == '?' || r == '…' || r == '。' || r == '！' || r == '？'
}

func isLineBreak(r rune) bool {
	return r == '\n' || r == '\r' || r == '\u2028' || r == '\u2029'
}

// abbreviations end with a full stop that does not end the sentence.
var abbreviations = map[string]bool{
	"mr": true, "mrs": true, "ms": true, "dr": true, "prof": true, "gen": true,
	"lt": true, "col": true, "capt": true, "sgt": true, "maj": true, "adm": true,
	"cmdr": true, "sen": true, "rep": true, "gov": true, "pres": true, "st": true,
	"mt": true, "jr": true, "sr": true, "no": true, "nos": true, "vs": true,
	"jan": true, "feb": true, "mar": true, "apr": true, "jun": true, "jul": true,
	"aug": true, "sep": true, "sept": true, "oct": true, "nov": true, "dec": true,
	"fig": true, "approx": true,
}

// tokenize splits s into words and records how each is separated from the
// previous one and where sentences start.
func tokenize(s string) []token {
	toks := make([]token, 0, len(s)/6+1)
	var (
		sent, word    int32
		hasSpace      bool
		onlyApos      = true
		hasDash       bool
		hasOther      bool
		hasLineBreak  bool
		seenTerm      bool
		termThenSpace bool
	)
	i := 0
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		if !isWordRune(r) {
			switch {
			case unicode.IsSpace(r):
				hasSpace = true
				if isLineBreak(r) {
					hasLineBreak = true
				}
				if seenTerm {
					termThenSpace = true
				}
			case isDash(r):
				hasDash = true
			case isIgnorable(r):
			default:
				hasOther = true
				onlyApos = onlyApos && isApostrophe(r)
				if isTerminator(r) {
					seenTerm = true
					// CJK full stops are not followed by a space.
					termThenSpace = termThenSpace || r == '。' || r == '！' || r == '？'
				}
			}
			i += size
			continue
		}
		start := i
		needNorm := false
		for i < len(s) {
			r, size = utf8.DecodeRuneInString(s[i:])
			if isWordRune(r) {
				if r >= utf8.RuneSelf {
					needNorm = true
				}
			} else if isIgnorable(r) {
				needNorm = true
			} else {
				break
			}
			i += size
		}
		t := token{start: int32(start), end: int32(i)}
		t.norm = s[start:i]
		if needNorm {
			t.norm = normalizeWord(t.norm)
		}
		t.fold = strings.ToLower(t.norm)
		if len(toks) == 0 {
			t.gap = gapNone
			t.sentStart = true
		} else {
			switch {
			case hasOther:
				t.gap = gapOther
			case hasDash:
				t.gap = gapJoin
			default:
				t.gap = gapSpace
			}
			prev := &toks[len(toks)-1]
			if hasSpace || hasOther && !onlyApos || !hasDash && !hasOther {
				word++
			}
			if hasLineBreak || termThenSpace && !isAbbreviation(prev) && !startsLower(t.norm) {
				t.sentStart = true
				sent++
			}
		}
		t.sent = sent
		t.word = word
		t.ambiguous = t.sentStart
		toks = append(toks, t)
		hasDash, hasOther, hasLineBreak, seenTerm, termThenSpace = false, false, false, false, false
		hasSpace, onlyApos = false, true
	}
	return toks
}

func normalizeWord(w string) string {
	if strings.ContainsFunc(w, isIgnorable) {
		w = strings.Map(func(r rune) rune {
			if isIgnorable(r) {
				return -1
			}
			return r
		}, w)
	}
	return norm.NFKC.String(w)
}

func isAbbreviation(t *token) bool {
	if utf8.RuneCountInString(t.norm) == 1 {
		r, _ := utf8.DecodeRuneInString(t.norm)
		return unicode.IsLetter(r)
	}
	return abbreviations[t.fold]
}

func startsLower(w string) bool {
	r, _ := utf8.DecodeRuneInString(w)
	return unicode.IsLower(r)
}

// gapText normalises a non-space gap for exact comparison: whitespace
// dropped, apostrophes and dashes unified.
func gapText(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case unicode.IsSpace(r), isIgnorable(r):
		case isApostrophe(r):
			b.WriteByte('\'')
		case isDash(r):
			b.WriteByte('-')
		default:
			b.WriteRune(r)
		}
	}
	return norm.NFKC.String(b.String())
}

package topics

import (
	"unicode"
	"unicode/utf8"
)

// sentenceSep separates sentences in the normalised buffer. No term contains
// it, so the automaton falls back to its root there and no phrase can match
// across two sentences.
const sentenceSep = '\n'

// Fields of a sentence.
const (
	fieldTitle = 0
	fieldText  = 1
)

// span is one sentence: where it sits in the normalised buffer and in the
// original string of its field.
type span struct {
	nStart, nEnd int // normalised buffer
	oStart, oEnd int // original field string
	field        uint8
	skip         bool // boilerplate line ("Also Read: ..."): no evidence counts
	para         int  // paragraph number, to skip whole boilerplate lines
}

// abbreviations end in a period that does not end a sentence.
var abbreviations = map[string]bool{
	"mr": true, "mrs": true, "ms": true, "dr": true, "st": true, "gen": true, "lt": true,
	"col": true, "sgt": true, "maj": true, "capt": true, "cmdr": true, "adm": true,
	"sen": true, "rep": true, "gov": true, "prof": true, "jr": true, "sr": true,
	"no": true, "vs": true, "inc": true, "co": true, "corp": true, "ltd": true,
	"jan": true, "feb": true, "mar": true, "apr": true, "jun": true, "jul": true,
	"aug": true, "sep": true, "sept": true, "oct": true, "nov": true, "dec": true,
	"approx": true, "est": true, "govt": true, "dept": true, "rs": true,
}

func isASCIIWord(b byte) bool {
	return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9'
}

// normalizer appends the normalised form of titles and texts to one buffer:
// lower case, every run of punctuation, dashes, quotes and spaces folded to
// one space, sentence ends marked with sentenceSep. The uppercase word "US"
// becomes "u s", like "U.S.", so that the pronoun "us" never names a country.
type normalizer struct {
	buf   []byte
	spans []span
}

func (n *normalizer) reset() {
	n.buf = n.buf[:0]
	n.spans = n.spans[:0]
}

// space appends one separating space unless the buffer already ends a word
// boundary.
func (n *normalizer) space() {
	if l := len(n.buf); l > 0 && n.buf[l-1] != ' ' && n.buf[l-1] != sentenceSep {
		n.buf = append(n.buf, ' ')
	}
}

// add normalises s as field f. A title is one sentence whatever its punctuation.
func (n *normalizer) add(s string, f uint8) {
	para := 0
	open := -1   // index of the open span, -1 when none
	lastEnd := 0 // end of the previous sentence in s
	begin := func(i int) {
		if open < 0 {
			// Start at the opening quote or bracket, not the first letter.
			for i > lastEnd && s[i-1] != ' ' && s[i-1] != '\n' && s[i-1] != '\t' && s[i-1] != '\r' {
				i--
			}
			n.spans = append(n.spans, span{nStart: len(n.buf), oStart: i, field: f, para: para})
			open = len(n.spans) - 1
		}
	}
	end := func(i int) {
		if open < 0 {
			return
		}
		if l := len(n.buf); l > 0 && n.buf[l-1] == ' ' {
			n.buf = n.buf[:l-1]
		}
		sp := &n.spans[open]
		sp.nEnd, sp.oEnd = len(n.buf), i
		open = -1
		lastEnd = i
		if sp.nEnd == sp.nStart {
			n.spans = n.spans[:len(n.spans)-1]
			return
		}
		n.buf = append(n.buf, sentenceSep)
	}
	wordStart := true // the previous character was not part of a word
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case isASCIIWord(c):
				if open < 0 {
					begin(i)
				}
				if wordStart && c == 'U' && i+1 < len(s) && s[i+1] == 'S' && (i+2 == len(s) || !isWordAt(s, i+2)) {
					n.buf = append(n.buf, 'u', ' ', 's')
					i += 2
					wordStart = false
					continue
				}
				if c >= 'A' && c <= 'Z' {
					c += 'a' - 'A'
				}
				n.buf = append(n.buf, c)
				wordStart = false
				i++
			case c == '\n' || c == '\r':
				end(i)
				para++
				wordStart = true
				i++
			case c == '#' || c == '&':
				// Leftover HTML entities such as "#39;" or "&quot;" in
				// syndicated feeds stand for punctuation.
				if j := entityEnd(s, i); j > i {
					n.space()
					wordStart = true
					i = j
					continue
				}
				n.space()
				wordStart = true
				i++
			case (c == '.' || c == '!' || c == '?') && f == fieldText:
				if c == '.' && i+1 < len(s) && isWordAt(s, i+1) {
					// "U.S", "3.5": inside a token.
					n.space()
					wordStart = true
					i++
					continue
				}
				if sentenceEnds(s, i) && !(c == '.' && abbreviationBefore(s, i)) {
					end(i + 1)
				} else {
					n.space()
				}
				wordStart = true
				i++
			default:
				n.space()
				wordStart = true
				i++
			}
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if open < 0 {
				begin(i)
			}
			n.buf = utf8.AppendRune(n.buf, unicode.ToLower(r))
			wordStart = false
		} else {
			n.space()
			wordStart = true
		}
		i += size
	}
	end(len(s))
}

// isWordAt reports whether a letter or digit starts at s[i].
func isWordAt(s string, i int) bool {
	if s[i] < utf8.RuneSelf {
		return isASCIIWord(s[i])
	}
	r, _ := utf8.DecodeRuneInString(s[i:])
	return unicode.IsLetter(r) || unicode.IsDigit(r)
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
	if k > j && k < len(s) && s[k] == ';' && (s[i] == '&' || s[j] >= '0' && s[j] <= '9') {
		return k + 1
	}
	return i
}

// sentenceEnds reports whether the terminator at s[i] ends a sentence: it is
// followed (after closing quotes or brackets) by white space and then by an
// upper-case letter, a digit, an opening quote or the end of the text.
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
		return unicode.IsUpper(r) || unicode.IsDigit(r)
	}
	return true
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

// normalizeTerm folds a taxonomy term the same way as article text, so both
// sides of a match agree. A trailing '*' marks a prefix term.
func normalizeTerm(term string) (norm string, prefix bool) {
	if l := len(term); l > 0 && term[l-1] == '*' {
		prefix = true
		term = term[:l-1]
	}
	var n normalizer
	n.add(term, fieldTitle)
	b := n.buf
	if l := len(b); l > 0 && b[l-1] == sentenceSep {
		b = b[:l-1]
	}
	return string(b), prefix
}

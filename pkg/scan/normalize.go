package scan

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Sep is the byte that ends every sentence in Doc.Buf. No normalised term
// contains it.
const Sep = '\n'

// Fields of an article.
const (
	FieldTitle uint8 = 0
	FieldText  uint8 = 1
)

// Gap says what separated a token from the previous token of its sentence.
type Gap uint8

const (
	GapNone  Gap = iota // first token of its sentence
	GapSpace            // white space only
	GapJoin             // white space and dashes, at least one dash ("MQ-9B")
	GapOther            // other punctuation: apostrophes, full stops, quotes, …
	GapSplit            // nothing: one original word made two ("US" → "u s")
)

// Token is one normalised word.
type Token struct {
	NStart, NEnd int32 // in Doc.Buf
	Start, End   int32 // in the original title or text
	Sentence     int32 // index in Doc.Sentences
	// Word numbers the words of a field: a dash or an apostrophe between
	// two tokens keeps them one word ("MQ-9B", "India's").
	Word  int32
	Field uint8
	Gap   Gap
}

// Sentence is one sentence; a title is always one sentence.
type Sentence struct {
	NStart, NEnd int32 // in Doc.Buf, without the trailing Sep
	Start, End   int32 // in the original field, from any opening quote
	FirstToken   int32 // its tokens are Tokens[FirstToken:EndToken]
	EndToken     int32
	Para         int32 // line number in the field: sentences of one line share it
	Field        uint8
}

// Doc is a normalised article. The zero value is ready for Normalize; a
// Doc is reused across articles to keep normalisation free of allocations.
type Doc struct {
	Title, Text string
	Buf         []byte
	Tokens      []Token
	Sentences   []Sentence

	wbuf    []byte // scratch for non-ASCII words
	nbuf    []byte // their NFKC form
	wordNum int32
}

// Normalize replaces d's content with the normalised title and text.
func (d *Doc) Normalize(title, text string) {
	d.Title, d.Text = title, text
	d.Buf, d.Tokens, d.Sentences = d.Buf[:0], d.Tokens[:0], d.Sentences[:0]
	d.add(title, FieldTitle)
	d.add(text, FieldText)
}

// Field returns the original string of a field.
func (d *Doc) Field(f uint8) string {
	if f == FieldTitle {
		return d.Title
	}
	return d.Text
}

// Cursor maps hits to the tokens they cover. Fed hits in the order Scan
// returns them (by end offset) it walks forward, galloping, so a whole
// article's hits cost little more than one walk over its tokens; a hit
// that ends before the previous one starts the search over.
type Cursor struct {
	d  *Doc
	at int // tokens before at end before the last hit's end
}

// Cursor returns a cursor over d's tokens.
func (d *Doc) Cursor() Cursor { return Cursor{d: d} }

// Tokens returns the first and last token of a hit that starts and ends on
// token boundaries, and false for one that does not (a prefix term ending
// inside a word).
func (c *Cursor) Tokens(h Hit) (first, last int, ok bool) {
	toks := c.d.Tokens
	from := c.at
	if from > len(toks) || from > 0 && toks[from-1].NEnd >= h.End {
		from = 0
	}
	lo, hi := from, from // toks[:lo] end before h.End
	for step := 1; hi < len(toks) && toks[hi].NEnd < h.End; step *= 2 {
		lo = hi + 1
		hi += step
	}
	hi = min(hi, len(toks))
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if toks[mid].NEnd < h.End {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	c.at = lo
	last = lo
	if last == len(toks) || toks[last].NEnd != h.End {
		return 0, 0, false
	}
	first = last
	for first > 0 && toks[first].NStart > h.Start {
		first--
	}
	return first, last, toks[first].NStart == h.Start
}

// Original returns what the publisher wrote for token i, without soft
// hyphens or zero-width characters and in NFKC when it is not ASCII, in its
// original case. It allocates only for a word it has to change.
func (d *Doc) Original(i int) string {
	t := &d.Tokens[i]
	s := d.Field(t.Field)[t.Start:t.End]
	for j := 0; j < len(s); j++ {
		if s[j] >= utf8.RuneSelf {
			if !strings.ContainsFunc(s[j:], IsIgnorable) && norm.NFKC.QuickSpanString(s) == len(s) {
				return s // already what NFKC makes of it
			}
			return norm.NFKC.String(strings.Map(func(r rune) rune {
				if IsIgnorable(r) {
					return -1
				}
				return r
			}, s))
		}
	}
	return s
}

// GapText returns the punctuation between token i and the token before it,
// without white space, with dashes as '-' and apostrophes as '\”.
func (d *Doc) GapText(i int) string { return gapText(d.gap(i)) }

// gap is what the original text has between token i and the token before
// it in the same field.
func (d *Doc) gap(i int) string {
	if i == 0 || d.Tokens[i-1].Field != d.Tokens[i].Field {
		return ""
	}
	return d.Field(d.Tokens[i].Field)[d.Tokens[i-1].End:d.Tokens[i].Start]
}

// GapIs reports whether GapText(i) == want. It does not allocate unless the
// gap holds punctuation outside ASCII other than dashes, apostrophes and
// white space.
func (d *Doc) GapIs(i int, want string) bool {
	s := d.gap(i)
	k := 0
	for p := 0; p < len(s); {
		r, next := nextGapRune(s, p)
		p = next
		switch {
		case r < 0:
			continue
		case r >= utf8.RuneSelf:
			return d.GapText(i) == want
		case k >= len(want) || want[k] != byte(r):
			return false
		}
		k++
	}
	return k == len(want)
}

// SentenceStart reports whether token i is the first of its sentence,
// where a capital letter says nothing about the word.
func (d *Doc) SentenceStart(i int) bool {
	return int32(i) == d.Sentences[d.Tokens[i].Sentence].FirstToken
}

// add normalises s as field f.
func (d *Doc) add(s string, f uint8) {
	var (
		para    int32
		open    bool // a sentence is open
		lastEnd int  // original end of the previous sentence
		// What lies between the previous word and the next one.
		space, dash, apos, other bool
	)
	d.wordNum = -1
	end := func(i int) {
		if !open {
			return
		}
		sn := &d.Sentences[len(d.Sentences)-1]
		sn.NEnd, sn.End, sn.EndToken = int32(len(d.Buf)), int32(i), int32(len(d.Tokens))
		open = false
		lastEnd = i
		d.Buf = append(d.Buf, Sep)
	}
	for i := 0; i < len(s); {
		c := s[i]
		if asciiWord[c] || c >= utf8.RuneSelf && isWordAt(s, i) {
			g := GapNone
			if !open {
				// Start at the opening quote or bracket, not the first letter.
				st := i
				for st > lastEnd && s[st-1] != ' ' && s[st-1] != '\n' && s[st-1] != '\t' && s[st-1] != '\r' {
					st--
				}
				d.Sentences = append(d.Sentences, Sentence{
					NStart: int32(len(d.Buf)), Start: int32(st), FirstToken: int32(len(d.Tokens)),
					Para: para, Field: f,
				})
				open = true
			} else {
				switch {
				case apos || other:
					g = GapOther
				case dash:
					g = GapJoin
				default:
					g = GapSpace
				}
				d.Buf = append(d.Buf, ' ')
			}
			// A dash or an apostrophe alone keeps one word: "MQ-9B", "India's".
			if d.wordNum < 0 || space || other || !dash && !apos {
				d.wordNum++
			}
			for {
				// addWord's fast path, inline: a word of ASCII letters and
				// digits, lower-cased into the buffer's spare capacity.
				n := len(d.Buf)
				src := s[i:]
				lim := min(len(src), cap(d.Buf)-n)
				src = src[:lim]
				spare := d.Buf[n : n+lim]
				p := 0
				for p < len(src) {
					c := lowerWord[src[p]]
					if c == 0 {
						break
					}
					spare[p] = c
					p++
				}
				if j := i + p; (j == len(s) || s[j] < utf8.RuneSelf && p < lim) && !(p == 2 && s[i] == 'U' && s[i+1] == 'S') {
					d.Buf = d.Buf[:n+p]
					d.Tokens = append(d.Tokens, Token{NStart: int32(n), NEnd: int32(n + p), Start: int32(i), End: int32(j), Sentence: int32(len(d.Sentences) - 1), Word: d.wordNum, Field: f, Gap: g})
					i = j
				} else {
					i = d.addWord(s, i, f, g)
				}
				// One space and an ASCII word, the commonest gap: what the
				// loop above would do for them, without going round it.
				if i+1 < len(s) && s[i] == ' ' && asciiWord[s[i+1]] {
					i++
					g = GapSpace
					d.Buf = append(d.Buf, ' ')
					d.wordNum++
					continue
				}
				break
			}
			space, dash, apos, other = false, false, false, false
			continue
		}
		if c < utf8.RuneSelf {
			switch {
			case c == '\n' || c == '\r':
				end(i)
				para++
				space = true
			case c == ' ' || c == '\t' || c == '\f' || c == '\v':
				space = true
			case c == '-':
				dash = true
			case c == '\'':
				apos = true
			case c == '#' || c == '&':
				// Leftover HTML entities such as "#39;" or "&quot;" in
				// syndicated feeds stand for punctuation.
				other = true
				if j := entityEnd(s, i); j > i {
					i = j
					continue
				}
			case (c == '.' || c == '!' || c == '?') && f == FieldText:
				other = true
				if open && !(c == '.' && i+1 < len(s) && isWordAt(s, i+1)) &&
					sentenceEnds(s, i) && !(c == '.' && abbreviationBefore(s, i)) {
					end(i + 1)
				}
			default:
				other = true
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == '\u2028' || r == '\u2029':
			end(i)
			para++
			space = true
		case unicode.IsSpace(r):
			space = true
		case IsDash(r):
			dash = true
		case IsApostrophe(r):
			apos = true
		case IsIgnorable(r):
		case (r == '。' || r == '！' || r == '？') && f == FieldText:
			// CJK full stops end a sentence with no space after them.
			other = true
			end(i + size)
		case (r == '…' || r == '।' || r == '॥' || r == '؟' || r == '۔') && f == FieldText:
			// An ellipsis, the Devanagari danda, the Arabic question mark
			// and the Urdu full stop end a sentence like '.' does.
			other = true
			if sentenceEnds(s, i+size-1) {
				end(i + size)
			}
		default:
			other = true
		}
		i += size
	}
	end(len(s))
}

// addWord appends the word starting at s[i] as one or more tokens and returns
// the index after it. add has tried the fast path (ASCII letters and
// digits followed by ASCII, copied into the buffer's spare capacity) and
// calls addWord for the rest.
func (d *Doc) addWord(s string, i int, f uint8, g Gap) int {
	sent := int32(len(d.Sentences) - 1)
	j := i
	for j < len(s) && asciiWord[s[j]] {
		j++
	}
	ascii := true
	for j < len(s) && s[j] >= utf8.RuneSelf {
		r, size := utf8.DecodeRuneInString(s[j:])
		if !IsWordRune(r) && !IsIgnorable(r) {
			break
		}
		ascii = false
		j += size
		for j < len(s) && asciiWord[s[j]] {
			j++
		}
	}
	// Trailing ignorables belong to no word.
	k := j
	for k > i && s[k-1] >= utf8.RuneSelf {
		r, size := utf8.DecodeLastRuneInString(s[i:k])
		if !IsIgnorable(r) {
			break
		}
		k -= size
	}
	tok := Token{NStart: int32(len(d.Buf)), Start: int32(i), End: int32(k), Sentence: sent, Word: d.wordNum, Field: f, Gap: g}
	if ascii {
		if k-i == 2 && s[i] == 'U' && s[i+1] == 'S' {
			// "US" as "u s", like "U.S.".
			d.Buf = append(d.Buf, 'u')
			tok.NEnd, tok.End = int32(len(d.Buf)), int32(i+1)
			d.Tokens = append(d.Tokens, tok)
			d.Buf = append(d.Buf, ' ', 's')
			d.Tokens = append(d.Tokens, Token{NStart: int32(len(d.Buf) - 1), NEnd: int32(len(d.Buf)), Start: int32(i + 1), End: int32(k), Sentence: sent, Word: d.wordNum, Field: f, Gap: GapSplit})
			return j
		}
		n := len(d.Buf)
		d.Buf = append(d.Buf, s[i:k]...)
		for p, b := n, d.Buf; p < len(b); p++ {
			b[p] = lowerASCII[b[p]]
		}
	} else {
		d.wbuf = d.wbuf[:0]
		for p := i; p < k; {
			r, size := utf8.DecodeRuneInString(s[p:])
			if !IsIgnorable(r) {
				d.wbuf = utf8.AppendRune(d.wbuf, r)
			}
			p += size
		}
		d.nbuf = norm.NFKC.Append(d.nbuf[:0], d.wbuf...)
		w := d.nbuf
		for p := 0; p < len(w); {
			r, size := utf8.DecodeRune(w[p:])
			if unicode.IsSpace(r) {
				r = '_' // NFKC of a compatibility character must not split the word
			}
			d.Buf = utf8.AppendRune(d.Buf, unicode.ToLower(r))
			p += size
		}
	}
	tok.NEnd = int32(len(d.Buf))
	d.Tokens = append(d.Tokens, tok)
	return j
}

// Package textnorm normalises article text for matching and keeps a map from
// every normalised byte offset back to the original text, so that a match
// found in normalised text can be shown, highlighted and stored with offsets
// into the string the publisher wrote.
package textnorm

import (
	"sort"
	"unicode"
	"unicode/utf8"
	"unsafe"

	"golang.org/x/text/unicode/norm"
)

// Option changes what Normalize folds beyond its defaults. Options are flags
// rather than functions so that normalising ASCII text allocates nothing.
type Option uint8

const (
	// FoldCase lower-cases the text (simple Unicode case mapping).
	FoldCase Option = 1 << iota
	// CollapseSpace turns every run of white space (newlines, tabs, the
	// spaces NFKC makes of no-break and thin spaces) into one ASCII space, so
	// that a multi-word name broken across a line still matches.
	CollapseSpace
)

type config struct {
	foldCase      bool
	collapseSpace bool
}

// segment is a stretch where the normalised text differs from the original:
// orig[origStart:origEnd] became norm[normStart:normEnd]. Outside segments the
// two texts are byte-identical, shifted by the segments before.
type segment struct {
	normStart, normEnd int
	origStart, origEnd int
}

// Text is a normalised string with its map back to the original.
type Text struct {
	norm string
	orig string
	segs []segment
}

// String returns the normalised text.
func (t Text) String() string { return t.norm }

// Original returns the text Normalize was given.
func (t Text) Original() string { return t.orig }

// Identity reports whether every offset is the same in both texts (ASCII
// case folding and newlines turned into spaces keep offsets).
func (t Text) Identity() bool { return len(t.segs) == 0 }

// Start maps a normalised offset at which something starts to the original
// offset. An offset inside a rewritten character maps to that character's
// start, so a span never begins in the middle of a UTF-8 sequence.
func (t Text) Start(n int) int {
	if len(t.segs) == 0 {
		return n
	}
	i := sort.Search(len(t.segs), func(i int) bool { return t.segs[i].normStart > n }) - 1
	if i < 0 {
		return n
	}
	sg := t.segs[i]
	if n >= sg.normEnd {
		return sg.origEnd + n - sg.normEnd
	}
	return sg.origStart
}

// End maps a normalised offset at which something ends to the original
// offset. An offset inside a rewritten character maps to that character's
// end; text deleted right after the span (a soft hyphen) is left out.
func (t Text) End(n int) int {
	if len(t.segs) == 0 {
		return n
	}
	i := sort.Search(len(t.segs), func(i int) bool { return t.segs[i].normStart >= n }) - 1
	if i < 0 {
		return n
	}
	sg := t.segs[i]
	if n > sg.normEnd {
		return sg.origEnd + n - sg.normEnd
	}
	return sg.origEnd
}

// Span maps a normalised [start, end) span to the original text.
func (t Text) Span(start, end int) (int, int) {
	return t.Start(start), t.End(end)
}

// byte classes for the ASCII fast path.
const (
	kindPlain = iota
	kindUpper
	kindSpace    // ' '
	kindCtlSpace // \t \n \v \f \r
	kindHigh     // first byte of a multi-byte rune
)

var asciiKind = func() (k [256]uint8) {
	for b := 'A'; b <= 'Z'; b++ {
		k[b] = kindUpper
	}
	k[' '] = kindSpace
	for _, b := range "\t\n\v\f\r" {
		k[b] = kindCtlSpace
	}
	for b := utf8.RuneSelf; b < 256; b++ {
		k[b] = kindHigh
	}
	return k
}()

// Normalize applies NFKC, folds the dash family (‐ ‑ ‒ – — ― − ﹣) to "-",
// curly and prime quotes to ' and ", drops soft hyphens and zero-width
// spaces, and applies the options. ASCII text that needs no change is
// returned without copying.
func Normalize(s string, opts ...Option) Text {
	var all Option
	for _, o := range opts {
		all |= o
	}
	c := config{foldCase: all&FoldCase != 0, collapseSpace: all&CollapseSpace != 0}
	first := firstChange(s, &c)
	if first == len(s) {
		return Text{norm: s, orig: s}
	}
	n := &normalizer{cfg: c, orig: s, plain: plainTable(c)}
	n.out = make([]byte, 0, len(s)+len(s)/8)
	n.out = append(n.out, s[:first]...)
	n.lastSpace = first > 0 && s[first-1] == ' '
	n.run(first)
	// n.out is never written again, so the string can share its memory.
	return Text{norm: unsafe.String(unsafe.SliceData(n.out), len(n.out)), orig: s, segs: n.segs}
}

// plainTables[foldCase][collapseSpace] marks the ASCII bytes that are copied
// unchanged (a space only when it does not follow another, checked apart).
var plainTables = func() (t [2][2][256]bool) {
	for fold := range 2 {
		for collapse := range 2 {
			for b := range 256 {
				switch asciiKind[b] {
				case kindPlain, kindSpace:
					t[fold][collapse][b] = true
				case kindUpper:
					t[fold][collapse][b] = fold == 0
				case kindCtlSpace:
					t[fold][collapse][b] = collapse == 0
				}
			}
		}
	}
	return t
}()

func plainTable(c config) *[256]bool {
	f, k := 0, 0
	if c.foldCase {
		f = 1
	}
	if c.collapseSpace {
		k = 1
	}
	return &plainTables[f][k]
}

// firstChange returns the offset of the first byte that may change, or
// len(s) when the text is already normalised.
func firstChange(s string, c *config) int {
	prevSpace := false
	for i := 0; i < len(s); i++ {
		switch asciiKind[s[i]] {
		case kindHigh:
			// The ASCII letter before a combining mark composes with it.
			if i > 0 && s[i-1] < utf8.RuneSelf {
				return i - 1
			}
			return i
		case kindUpper:
			if c.foldCase {
				return i
			}
			prevSpace = false
		case kindCtlSpace:
			if c.collapseSpace {
				return i
			}
		case kindSpace:
			if c.collapseSpace && prevSpace {
				return i
			}
			prevSpace = true
		default:
			prevSpace = false
		}
	}
	return len(s)
}

type normalizer struct {
	cfg       config
	plain     *[256]bool
	orig      string
	out       []byte
	segs      []segment
	lastSpace bool
	scratch   []byte
}

func (n *normalizer) run(i int) {
	s := n.orig
	for i < len(s) {
		// Copy plain ASCII in bulk; the byte before a multi-byte rune is
		// left to the NFKC path because a combining mark may follow it.
		j := i
		space := n.lastSpace
		for j < len(s) && n.plain[s[j]] {
			if s[j] == ' ' {
				if space && n.cfg.collapseSpace {
					break
				}
				space = true
			} else {
				space = false
			}
			j++
		}
		if j < len(s) && s[j] >= utf8.RuneSelf && j > i && !isQuick(s, j) {
			j--
		}
		if j > i {
			n.out = append(n.out, s[i:j]...)
			n.lastSpace = s[j-1] == ' '
			i = j
			continue
		}
		b := s[i]
		if b >= utf8.RuneSelf {
			if c, size := quick(s, i); size > 0 {
				if c == ' ' {
					if n.cfg.collapseSpace && n.lastSpace {
						n.drop(i, i+size)
					} else {
						n.replace(i, i+size, ' ')
					}
					n.lastSpace = true
				} else {
					n.replace(i, i+size, c)
					n.lastSpace = false
				}
				i += size
				continue
			}
		}
		// An ASCII byte followed by another ASCII byte cannot combine with
		// anything, so it skips NFKC entirely.
		if b < utf8.RuneSelf && (i+1 == len(s) || s[i+1] < utf8.RuneSelf || isQuick(s, i+1)) {
			switch asciiKind[b] {
			case kindUpper:
				if n.cfg.foldCase {
					n.replace(i, i+1, b+'a'-'A')
				} else {
					n.out = append(n.out, b)
				}
				n.lastSpace = false
			case kindSpace:
				if n.cfg.collapseSpace && n.lastSpace {
					n.drop(i, i+1)
				} else {
					n.out = append(n.out, b)
				}
				n.lastSpace = true
			case kindCtlSpace:
				if n.cfg.collapseSpace {
					if n.lastSpace {
						n.drop(i, i+1)
					} else {
						n.replace(i, i+1, ' ')
					}
				} else {
					n.out = append(n.out, b)
				}
				n.lastSpace = true
			default:
				n.out = append(n.out, b)
				n.lastSpace = false
			}
			i++
			continue
		}
		end := i + norm.NFKC.NextBoundaryInString(s[i:], true)
		if end <= i {
			end = i + 1
		}
		n.segment(i, end)
		i = end
	}
}

func (n *normalizer) replace(a, b int, c byte) {
	x := len(n.out)
	n.out = append(n.out, c)
	// A byte for a byte (case folding, a newline made a space) leaves the
	// offsets as they were and needs no segment.
	if b-a != 1 {
		n.addSeg(x, x+1, a, b)
	}
}

func (n *normalizer) drop(a, b int) {
	x := len(n.out)
	n.addSeg(x, x, a, b)
}

// segment normalises one NFKC segment orig[a:b] (a starter and the marks
// that attach to it) and records it if the result differs.
func (n *normalizer) segment(a, b int) {
	src := n.orig[a:b]
	n.scratch = norm.NFKC.AppendString(n.scratch[:0], src)
	x := len(n.out)
	for j := 0; j < len(n.scratch); {
		r, size := utf8.DecodeRune(n.scratch[j:])
		j += size
		r = fold(r)
		switch {
		case r < 0:
			continue
		case unicode.IsSpace(r):
			if n.cfg.collapseSpace {
				if n.lastSpace {
					continue
				}
				r = ' '
			}
			n.lastSpace = true
		default:
			n.lastSpace = false
			if n.cfg.foldCase {
				r = unicode.ToLower(r)
			}
		}
		n.out = utf8.AppendRune(n.out, r)
	}
	if string(n.out[x:]) != src {
		n.addSeg(x, len(n.out), a, b)
	}
}

// addSeg records a rewritten stretch, merging it with the previous one when
// they touch so that runs like "\n\n" stay one segment.
func (n *normalizer) addSeg(normStart, normEnd, origStart, origEnd int) {
	if k := len(n.segs) - 1; k >= 0 && n.segs[k].normEnd == normStart && n.segs[k].origEnd == origStart {
		n.segs[k].normEnd = normEnd
		n.segs[k].origEnd = origEnd
		return
	}
	n.segs = append(n.segs, segment{normStart, normEnd, origStart, origEnd})
}

// quick handles the non-ASCII characters news text is full of (curly
// quotes, dashes, no-break spaces) without calling NFKC: they are starters
// that NFKC leaves alone (or, for U+00A0, turns into a space) and nothing
// composes with them. It applies only when an ASCII byte follows, because a
// combining mark after them would need NFKC. size is 0 when it does not apply.
func quick(s string, i int) (c byte, size int) {
	if i+1 < len(s) && s[i] == 0xC2 && s[i+1] == 0xA0 {
		size, c = 2, ' '
	} else if i+2 < len(s) && s[i] == 0xE2 && s[i+1] == 0x80 {
		switch s[i+2] {
		case 0x90, 0x91, 0x92, 0x93, 0x94, 0x95: // U+2010..U+2015
			c = '-'
		case 0x98, 0x99, 0x9A, 0x9B: // U+2018..U+201B
			c = '\''
		case 0x9C, 0x9D, 0x9E, 0x9F: // U+201C..U+201F
			c = '"'
		default:
			return 0, 0
		}
		size = 3
	} else {
		return 0, 0
	}
	if i+size < len(s) && s[i+size] >= utf8.RuneSelf {
		return 0, 0
	}
	return c, size
}

func isQuick(s string, i int) bool {
	_, size := quick(s, i)
	return size > 0
}

// fold maps dashes and quotes to their ASCII forms and returns -1 for
// characters that are dropped.
func fold(r rune) rune {
	switch r {
	case '\u2010', '\u2011', '\u2012', '\u2013', '\u2014', '\u2015', '\u2212', '\uFE58', '\uFE63', '\uFF0D', '\u2E3A', '\u2E3B':
		return '-'
	case '\u2018', '\u2019', '\u201A', '\u201B', '\u2032', '\u2035', '\u02BC', '\u00B4', '\uFF07':
		return '\''
	case '\u201C', '\u201D', '\u201E', '\u201F', '\u2033', '\u2036', '\uFF02':
		return '"'
	case '\u00AD', '\u200B', '\u2060', '\uFEFF':
		return -1
	}
	return r
}

// IsWordByte reports whether b is an ASCII letter or digit. Bytes of
// multi-byte runes report false; use WordBefore and WordAfter for those.
func IsWordByte(b byte) bool { return wordByte[b] }

var wordByte = func() (w [256]bool) {
	for b := '0'; b <= '9'; b++ {
		w[b] = true
	}
	for b := 'a'; b <= 'z'; b++ {
		w[b] = true
		w[b-'a'+'A'] = true
	}
	return w
}()

// IsWordRune reports whether r continues a word: a letter, digit or mark.
func IsWordRune(r rune) bool {
	if r < utf8.RuneSelf {
		return wordByte[r]
	}
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r)
}

// WordBefore reports whether the rune that ends at s[i] is a word rune.
func WordBefore(s string, i int) bool {
	if i <= 0 {
		return false
	}
	if b := s[i-1]; b < utf8.RuneSelf {
		return wordByte[b]
	}
	r, _ := utf8.DecodeLastRuneInString(s[:i])
	return IsWordRune(r)
}

// WordAfter reports whether the rune that starts at s[i] is a word rune.
func WordAfter(s string, i int) bool {
	if i >= len(s) {
		return false
	}
	if b := s[i]; b < utf8.RuneSelf {
		return wordByte[b]
	}
	r, _ := utf8.DecodeRuneInString(s[i:])
	return IsWordRune(r)
}

// AtWordBoundary reports whether s[start:end] stands on its own: a span
// that begins (ends) with a word rune must not be preceded (followed) by
// one, so "US" is not found in "USA" but "U.S." is found in "U.S.-made".
func AtWordBoundary(s string, start, end int) bool {
	if start >= end {
		return false
	}
	if WordAfter(s, start) && WordBefore(s, start) {
		return false
	}
	if WordBefore(s, end) && WordAfter(s, end) {
		return false
	}
	return true
}

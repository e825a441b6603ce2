package query

import (
	"bytes"
	"encoding/binary"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/newswatch/newswatch/pkg/scan"
)

// need is a condition every document the query matches satisfies, checked
// on the title and text as written, before normalising them: a conjunction
// of clauses, each true when one of its atoms may hold. Most articles a
// watch is tried on do not name its words, and proving that costs a pass
// over lower-cased bytes instead of normalising and scanning the article.
//
// An atom that is a term may hold in a field when the field is not plain
// (it has a letter, digit or mark outside ASCII, or a soft hyphen or
// zero-width character: normalisation folds case beyond ASCII, NFKC-maps
// and drops ignorables inside words, so bytes prove nothing), or when
// every word of the term occurs in the field. A plain field may have any
// other character outside ASCII (curly quotes, dashes, ellipses, currency
// signs, invalid bytes), which only ever separates words, so its tokens are
// its runs of ASCII letters and digits, lower-cased, and every word of a
// term is all of one token, two tokens of one run (the "u s" of "US") or
// part of one (the "mq" of "MQ9B"): a term that occurs has each word in
// the lower-cased field, and each word the case rule compares as written
// (Quad, case:quad) in the field as written. Filters (topic:, source:,
// lang:, score) are evaluated exactly.
type need struct {
	clauses [][]needAtom
	terms   []needAtom // every term of the query, entity aliases included
}

func newNeed(root node, terms []*term) need {
	nd := need{clauses: needOf(root)}
	for _, t := range terms {
		nd.terms = append(nd.terms, termAtom(t))
	}
	return nd
}

// needAtom is a term or a node that reads no text (a filter, a score, or
// NOT of one of them).
type needAtom struct {
	t     *term
	words []needWord // longest first
	n     node
}

// needWord is a word of a term as it must appear in an ASCII field.
type needWord struct {
	fold  []byte // in the lower-cased field
	orig  string // in the field as written, when exact
	exact bool
}

func termAtom(t *term) needAtom {
	a := needAtom{t: t}
	for _, w := range t.words {
		a.words = append(a.words, needWord{fold: []byte(w.fold), orig: w.orig, exact: w.caseSens})
	}
	slices.SortStableFunc(a.words, func(x, y needWord) int { return len(y.fold) - len(x.fold) })
	return a
}

// needOf returns the clauses n cannot be true without; none for a node
// that may be true whatever the text (NOT foo).
func needOf(n node) [][]needAtom {
	switch v := n.(type) {
	case *termNode:
		return [][]needAtom{{termAtom(v.t)}}
	case *entityNode:
		c := make([]needAtom, 0, len(v.terms))
		for _, t := range v.terms {
			c = append(c, termAtom(t))
		}
		return [][]needAtom{c}
	case *filterNode, *scoreNode:
		return [][]needAtom{{{n: n}}}
	case *notNode:
		switch v.kid.(type) {
		case *filterNode, *scoreNode:
			return [][]needAtom{{{n: n}}}
		}
		return nil
	case *andNode:
		var out [][]needAtom
		for _, k := range v.kids {
			out = append(out, needOf(k)...)
		}
		return out
	case *proxNode:
		return append(needOf(v.a), needOf(v.b)...)
	case *orNode:
		// One clause from each alternative, the shortest, joined: whichever
		// alternative holds, one of its atoms does.
		var c []needAtom
		for _, k := range v.kids {
			kc := needOf(k)
			if len(kc) == 0 {
				return nil
			}
			best := kc[0]
			for _, x := range kc[1:] {
				if len(x) < len(best) {
					best = x
				}
			}
			c = append(c, best...)
		}
		return [][]needAtom{c}
	}
	return nil
}

// lowerField is what the need check knows of a field of the Doc.
type lowerField struct {
	state uint8 // 0 not looked at yet, or one of the below
	buf   []byte
}

const (
	fieldNotPlain uint8 = 1 + iota
	fieldPlain          // buf not filled yet
	fieldLowered        // buf holds the field lower-cased
)

// Verdicts of need.check.
const (
	mayMatch = iota // normalise and match
	noMatch         // d cannot match
	noTerm          // no term of the query can occur in d
)

// check says what matching d needs. noTerm means the query's value on d
// is its value with every term false, which needs no text: NOT cricket on
// an article that never says cricket, filters only. low are scratch
// buffers for the title and the text.
func (nd *need) check(d *Doc, low *[2]lowerField) int {
	low[0].state, low[1].state = 0, 0
	ec := evalCtx{meta: d}
	for _, c := range nd.clauses {
		ok := false
		for _, a := range c {
			if a.t == nil {
				ok = a.n.eval(&ec, false)
			} else {
				ok = a.mayOccur(d, low)
			}
			if ok {
				break
			}
		}
		if !ok {
			return noMatch
		}
	}
	for i := range nd.terms {
		if nd.terms[i].mayOccur(d, low) {
			return mayMatch
		}
	}
	return noTerm
}

// mayOccur reports whether the term may occur in a field of d it is
// scoped to.
func (a *needAtom) mayOccur(d *Doc, low *[2]lowerField) bool {
	t := a.t
	if t.never {
		return false
	}
	for f, s := range [2]string{d.Title, d.Text} {
		if f == 0 && t.scope.field == onlyText || f == 1 && t.scope.field == onlyTitle {
			continue
		}
		lf := &low[f]
		if lf.state == 0 {
			lf.state = fieldNotPlain
			if isPlain(s) {
				lf.state = fieldPlain
			}
		}
		if lf.state == fieldNotPlain {
			return true
		}
		found := true
		for _, w := range a.words {
			if w.exact {
				found = strings.Contains(s, w.orig)
			} else {
				if lf.state != fieldLowered {
					lf.buf = lowerASCII(lf.buf[:0], s)
					lf.state = fieldLowered
				}
				found = bytes.Contains(lf.buf, w.fold)
			}
			if !found {
				break
			}
		}
		if found {
			return true
		}
	}
	return false
}

const (
	swarOnes = 0x0101010101010101
	swarHigh = 0x8080808080808080
)

// isPlain reports whether every character of s outside ASCII is one that
// normalisation only ever takes for a separator: neither a word character
// (scan.IsWordRune) nor an ignorable one (scan.IsIgnorable).
func isPlain(s string) bool {
	for i := 0; i < len(s); {
		if i+8 <= len(s) {
			x := uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
				uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
			if x&swarHigh == 0 {
				i += 8
				continue
			}
		}
		if s[i] < utf8.RuneSelf {
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if scan.IsWordRune(r) || scan.IsIgnorable(r) {
			return false
		}
		i += size
	}
	return true
}

// lowerASCII appends s to dst with its ASCII capitals in lower case.
func lowerASCII(dst []byte, s string) []byte {
	n := len(dst)
	dst = append(dst, s...)
	b := dst[n:]
	i := 0
	for ; i+8 <= len(b); i += 8 {
		x := binary.LittleEndian.Uint64(b[i:])
		// Bytes from 'A' to 'Z' get their high bit set in upper: with the
		// high bits cleared no byte carries into the next when 0x3f or
		// 0x25 is added, and bytes that had it (outside ASCII) are left.
		y := x &^ swarHigh
		upper := ((y + swarOnes*(0x80-'A')) ^ (y + swarOnes*(0x80-'Z'-1))) &^ x & swarHigh
		binary.LittleEndian.PutUint64(b[i:], x|upper>>2)
	}
	for ; i < len(b); i++ {
		if c := b[i]; 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return dst
}

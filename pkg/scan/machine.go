package scan

import (
	"bytes"
	"errors"
	"fmt"
)

// ErrTerm reports a term that cannot be matched.
var ErrTerm = errors.New("scan: bad term")

// Term is one entry of a dictionary.
type Term struct {
	// Text is the term as written; Compile normalises it like article text.
	Text string
	// Prefix lets the term end inside a word ("terror" matching
	// "terrorists"); it still has to start at a word start.
	Prefix bool
}

// Hit is one occurrence of a term in a Doc's normalised buffer.
type Hit struct {
	List  int32 // which dictionary passed to Compile
	Index int32 // which term of that dictionary
	// Start and End are offsets in Doc.Buf; for a prefix term End is where
	// the term ends, possibly inside a word.
	Start, End int32
}

// Machine matches every term of several dictionaries in one pass. It is
// immutable and safe for concurrent use; build a new one when a dictionary
// changes.
type Machine struct {
	ac *automaton
}

// Compile normalises the terms of every dictionary and builds one automaton
// over all of them. A term that normalises to nothing (punctuation only)
// never matches; a term that spans two sentences or lines is an error
// naming it.
func Compile(lists ...[]Term) (*Machine, error) {
	m := &Machine{}
	var pats []string
	var prefix []bool
	var list, index []int32
	for li, terms := range lists {
		for ti, t := range terms {
			p, err := NormalizeTerm(t.Text)
			if err != nil {
				return nil, fmt.Errorf("dictionary %d term %d: %w", li+1, ti+1, err)
			}
			pats = append(pats, p)
			prefix = append(prefix, t.Prefix)
			list = append(list, int32(li))
			index = append(index, int32(ti))
		}
	}
	ac, err := buildAutomaton(pats, prefix, list, index)
	if err != nil {
		return nil, err
	}
	m.ac = ac
	return m, nil
}

// NormalizeTerm returns a term in the form Doc.Buf holds text: the form the
// automaton matches.
func NormalizeTerm(s string) (string, error) {
	var d Doc
	d.add(s, FieldTitle)
	b := bytes.TrimSuffix(d.Buf, []byte{Sep})
	if bytes.IndexByte(b, Sep) >= 0 {
		return "", fmt.Errorf("%w: %q spans two lines; a term is one line", ErrTerm, s)
	}
	return string(b), nil
}

// Scan appends every occurrence of every term in d to hits, ordered by end
// offset, and returns the extended slice. Terms match whole words: they
// start at a word start and end at a word end unless they are prefixes.
// Scan allocates only when hits must grow.
func (m *Machine) Scan(d *Doc, hits []Hit) []Hit {
	return m.ac.scan(d.Buf, hits)
}

// Stats describes the compiled automaton: its states, its alphabet classes
// and the size of its transition table in bytes.
func (m *Machine) Stats() (states, classes, tableBytes int) {
	return len(m.ac.trans) / int(m.ac.nclass), int(m.ac.nclass), len(m.ac.trans) * 4
}

package query

import (
	"bytes"
	"cmp"
	"slices"

	"github.com/newswatch/newswatch/pkg/scan"
)

// maxSmallScan is the most patterns a query may have for Match to find
// them with bytes.Index rather than the automaton: one vectorised pass per
// pattern beats one table load per byte up to a handful of patterns.
const maxSmallScan = 6

// smallScan finds the patterns of a query with few of them in a
// normalised buffer, with the hits scan.Machine.Scan reports for the same
// dictionary (list 0): word-bounded occurrences, by end offset, longer
// first at one end.
type smallScan struct {
	pats [][]byte // normalised; nil for one that normalises to nothing
}

// newSmallScan returns the scanner for terms, or nil when there are too
// many or one cannot be normalised.
func newSmallScan(terms []scan.Term) *smallScan {
	if len(terms) > maxSmallScan {
		return nil
	}
	s := &smallScan{}
	for _, t := range terms {
		if t.Prefix {
			return nil
		}
		p, err := scan.NormalizeTerm(t.Text)
		if err != nil {
			return nil
		}
		var b []byte
		if p != "" {
			b = []byte(p)
		}
		s.pats = append(s.pats, b)
	}
	return s
}

func isSepByte(c byte) bool { return c == ' ' || c == scan.Sep }

func (s *smallScan) scan(buf []byte, hits []scan.Hit) []scan.Hit {
	n := len(hits)
	for pi, p := range s.pats {
		if len(p) == 0 {
			continue
		}
		for from := 0; ; {
			i := bytes.Index(buf[from:], p)
			if i < 0 {
				break
			}
			start := from + i
			end := start + len(p)
			if (start == 0 || isSepByte(buf[start-1])) && (end == len(buf) || isSepByte(buf[end])) {
				hits = append(hits, scan.Hit{List: 0, Index: int32(pi), Start: int32(start), End: int32(end)})
			}
			from = start + 1
		}
	}
	slices.SortFunc(hits[n:], func(a, b scan.Hit) int {
		return cmp.Or(cmp.Compare(a.End, b.End), cmp.Compare(b.End-b.Start, a.End-a.Start), cmp.Compare(a.Index, b.Index))
	})
	return hits
}

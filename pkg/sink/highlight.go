package sink

import (
	"cmp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Segment is a piece of a snippet; Match marks the words a query term hit.
type Segment struct {
	Text  string
	Match bool
}

// Highlight splits snippet into segments, marking whole-word,
// case-insensitive occurrences of terms. It follows the query language's
// idea of a match (docs/queries.md): a term's words may be joined in the
// text by spaces or any dash, or by nothing, so "MQ-9B" marks "MQ–9B",
// "MQ 9B" and "MQ9B", and "Quad summit" marks "Quad-summit"; but a word
// only matches whole, so "drone" does not mark "drones". An entity matched
// through an alias is not marked: the alert carries only its canonical name.
func Highlight(snippet string, terms ...string) []Segment {
	ts := make([][]string, 0, len(terms))
	for _, t := range terms {
		if ws := words(t); len(ws) > 0 {
			ts = append(ts, ws)
		}
	}
	// Longest first, so "air defence" wins over "air" at the same position.
	slices.SortStableFunc(ts, func(a, b []string) int { return cmp.Compare(wordsLen(b), wordsLen(a)) })

	var segs []Segment
	plainFrom := 0
	for i := 0; i < len(snippet); {
		if end := matchAt(snippet, i, ts); end > i {
			if plainFrom < i {
				segs = append(segs, Segment{Text: snippet[plainFrom:i]})
			}
			segs = append(segs, Segment{Text: snippet[i:end], Match: true})
			i, plainFrom = end, end
			continue
		}
		_, size := utf8.DecodeRuneInString(snippet[i:])
		i += size
	}
	if plainFrom < len(snippet) {
		segs = append(segs, Segment{Text: snippet[plainFrom:]})
	}
	return segs
}

// words splits s into runs of letters and digits.
func words(s string) []string {
	var out []string
	start := -1
	for i, r := range s {
		switch {
		case isWord(r) && start < 0:
			start = i
		case !isWord(r) && start >= 0:
			out = append(out, s[start:i])
			start = -1
		}
	}
	if start >= 0 {
		out = append(out, s[start:])
	}
	return out
}

func wordsLen(ws []string) int {
	n := 0
	for _, w := range ws {
		n += len(w)
	}
	return n
}

// maxJoin bounds the separator between two words of a term: "MQ - 9B".
const maxJoin = 3

func matchAt(s string, i int, terms [][]string) int {
	if i > 0 {
		if r, _ := utf8.DecodeLastRuneInString(s[:i]); isWord(r) {
			return -1
		}
	}
next:
	for _, ws := range terms {
		j := i
		for k, w := range ws {
			if k > 0 {
				for n := 0; n < maxJoin && j < len(s); n++ {
					r, size := utf8.DecodeRuneInString(s[j:])
					if !unicode.IsSpace(r) && !unicode.Is(unicode.Pd, r) {
						break
					}
					j += size
				}
			}
			if j+len(w) > len(s) || !strings.EqualFold(s[j:j+len(w)], w) {
				continue next
			}
			j += len(w)
		}
		if j < len(s) {
			if r, _ := utf8.DecodeRuneInString(s[j:]); isWord(r) {
				continue
			}
		}
		return j
	}
	return -1
}

func isWord(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r)
}

// Clip shortens s to at most max runes, cutting at a space when one is near
// and marking the cut with an ellipsis. Peers limit field sizes (Slack: 3000
// characters per text block), and a clipped snippet beats a rejected message.
func Clip(s string, max int) string {
	if max <= 0 || utf8.RuneCountInString(s) <= max {
		return s
	}
	// Keep max-1 runes so the ellipsis fits within max.
	cut, runes := 0, 0
	for n := range s {
		if runes == max-1 {
			cut = n
			break
		}
		runes++
	}
	out := s[:cut]
	if sp := strings.LastIndexByte(out, ' '); sp > len(out)*3/4 {
		out = out[:sp]
	}
	return strings.TrimRightFunc(out, unicode.IsSpace) + "…"
}

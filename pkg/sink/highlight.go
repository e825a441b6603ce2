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

// Highlight splits snippet into segments, marking case-insensitive
// occurrences of terms that start on a word boundary. A hit is extended to
// the end of its word so that a term matched by prefix or plural ("drone"
// in "drones") is highlighted whole: each sink's markup (Slack's *bold*
// in particular) only renders on word boundaries.
func Highlight(snippet string, terms ...string) []Segment {
	ts := make([]string, 0, len(terms))
	for _, t := range terms {
		if t = strings.TrimSpace(t); t != "" {
			ts = append(ts, t)
		}
	}
	// Longest first, so "air defence" wins over "air" at the same position.
	slices.SortFunc(ts, func(a, b string) int { return cmp.Compare(len(b), len(a)) })

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

func matchAt(s string, i int, terms []string) int {
	if i > 0 {
		if r, _ := utf8.DecodeLastRuneInString(s[:i]); isWord(r) {
			return -1
		}
	}
	for _, t := range terms {
		j := i + len(t)
		if j > len(s) || !strings.EqualFold(s[i:j], t) {
			continue
		}
		for j < len(s) {
			r, size := utf8.DecodeRuneInString(s[j:])
			if !isWord(r) {
				break
			}
			j += size
		}
		return j
	}
	return -1
}

func isWord(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' }

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

package query

import (
	"cmp"
	"slices"
	"strings"
	"unicode/utf8"
)

// Doc is what a query is matched against.
type Doc struct {
	Title, Text, Source, Lang string
	Topics                    map[string]float64 // flagged topic -> score

	idx *docIndex
}

// Prepare tokenises and normalises the title and text once, so that
// matching many queries against d does not redo it. Call it before sharing
// d between goroutines; Match without it normalises on every call.
func (d *Doc) Prepare() {
	d.idx = buildIndex(d.Title, d.Text)
}

func (d *Doc) index() *docIndex {
	if ix := d.idx; ix != nil && ix.title == d.Title && ix.text == d.Text {
		return ix
	}
	return buildIndex(d.Title, d.Text)
}

// Span is one matched occurrence of a query term. Start and End are byte
// offsets into the original Title or Text.
type Span struct {
	Term, Field string
	Start, End  int
	Snippet     string
}

// SnippetWidth is the approximate length of Span.Snippet in characters.
const SnippetWidth = 160

type evalCtx struct {
	doc   *Doc
	ix    *docIndex
	max   int
	spans []occ
}

// Match reports whether d satisfies the query and the spans of the terms
// that made it so, title first, in text order. It is safe for concurrent
// use.
func (q *Query) Match(d *Doc) ([]Span, bool) {
	ec := evalCtx{doc: d, ix: d.index(), max: q.maxSpans}
	if !q.root.eval(&ec, true) {
		return nil, false
	}
	return ec.finish(), true
}

func (ec *evalCtx) finish() []Span {
	if len(ec.spans) == 0 {
		return nil
	}
	slices.SortFunc(ec.spans, func(a, b occ) int {
		return cmp.Or(cmp.Compare(a.field, b.field), cmp.Compare(a.first, b.first), cmp.Compare(a.last, b.last))
	})
	out := make([]Span, 0, len(ec.spans))
	for i, o := range ec.spans {
		if i > 0 {
			p := ec.spans[i-1]
			if p.field == o.field && p.first == o.first && p.last == o.last {
				continue
			}
		}
		f := &ec.ix.fields[o.field]
		start, end := int(f.toks[o.first].start), int(f.toks[o.last].end)
		out = append(out, Span{
			Term:    o.t.label,
			Field:   fieldNames[o.field],
			Start:   start,
			End:     end,
			Snippet: Snippet(f.src, start, end, SnippetWidth),
		})
	}
	return out
}

func (ec *evalCtx) add(os []occ) {
	if len(os) > ec.max {
		os = os[:ec.max]
	}
	ec.spans = append(ec.spans, os...)
}

func (n *orNode) eval(ec *evalCtx, collect bool) bool {
	ok := false
	for _, k := range n.kids {
		if k.eval(ec, collect) {
			ok = true
			if !collect {
				return true
			}
		}
	}
	return ok
}

func (n *andNode) eval(ec *evalCtx, collect bool) bool {
	mark := len(ec.spans)
	for _, k := range n.kids {
		if !k.eval(ec, collect) {
			ec.spans = ec.spans[:mark]
			return false
		}
	}
	return true
}

func (n *notNode) eval(ec *evalCtx, _ bool) bool {
	return !n.kid.eval(ec, false)
}

func (n *termNode) eval(ec *evalCtx, collect bool) bool {
	os := n.occs(ec)
	if collect {
		ec.add(os)
	}
	return len(os) > 0
}

// occs finds a term in both fields, because a strong occurrence anywhere
// is the evidence that lets sentence-initial ones count, then keeps those
// in the fields the term asks for.
func (n *termNode) occs(ec *evalCtx) []occ {
	return termOccs(ec, n.t)
}

func termOccs(ec *evalCtx, t *term) []occ {
	var os []occ
	for fi := range ec.ix.fields {
		os = t.find(uint8(fi), &ec.ix.fields[fi], os)
	}
	strong, weakTitle := false, false
	for _, o := range os {
		if !o.weak {
			strong = true
			break
		}
		weakTitle = weakTitle || o.field == fieldTitle
	}
	// Headlines lead with their subject far more often than with a common
	// word that happens to be watched, so a title's sentence start counts
	// unless the article uses the word in lower case.
	titleOK := !strong && weakTitle && !usedLower(ec.ix, t)
	keep := os[:0]
	for _, o := range os {
		if o.weak && !strong && !(titleOK && o.field == fieldTitle) {
			continue
		}
		if t.scope.field == onlyTitle && o.field != fieldTitle || t.scope.field == onlyText && o.field != fieldText {
			continue
		}
		keep = append(keep, o)
	}
	return keep
}

// usedLower reports whether the article has the term's first word written
// all in lower case: evidence that it is a common word here ("quad bikes").
func usedLower(ix *docIndex, t *term) bool {
	w := t.words[0].fold
	for fi := range ix.fields {
		f := &ix.fields[fi]
		for _, p := range f.index[w] {
			if f.toks[p].norm == w {
				return true
			}
		}
	}
	return false
}

func (n *entityNode) eval(ec *evalCtx, collect bool) bool {
	found := false
	for _, t := range n.terms {
		os := termOccs(ec, t)
		if len(os) > 0 {
			found = true
			if !collect {
				return true
			}
			ec.add(os)
		}
	}
	return found
}

func (n *entityNode) occs(ec *evalCtx) []occ {
	var all []occ
	for _, t := range n.terms {
		all = append(all, termOccs(ec, t)...)
	}
	return all
}

func (n *orNode) occs(ec *evalCtx) []occ {
	var all []occ
	for _, k := range n.kids {
		all = append(all, k.(positional).occs(ec)...)
	}
	return all
}

func (n *proxNode) eval(ec *evalCtx, collect bool) bool {
	as := n.a.occs(ec)
	if len(as) == 0 {
		return false
	}
	bs := n.b.occs(ec)
	if len(bs) == 0 {
		return false
	}
	usedA, usedB := make([]bool, len(as)), make([]bool, len(bs))
	found := false
	for i, a := range as {
		for j, b := range bs {
			if a.field != b.field || !n.close(ec, a, b) {
				continue
			}
			if !collect {
				return true
			}
			found, usedA[i], usedB[j] = true, true, true
		}
	}
	if found {
		ec.add(pick(as, usedA))
		ec.add(pick(bs, usedB))
	}
	return found
}

func pick(os []occ, used []bool) []occ {
	var out []occ
	for i, o := range os {
		if used[i] {
			out = append(out, o)
		}
	}
	return out
}

func (n *proxNode) close(ec *evalCtx, a, b occ) bool {
	if n.n < 0 {
		toks := ec.ix.fields[a.field].toks
		return toks[a.first].sent == toks[b.first].sent
	}
	if a.first > b.first {
		a, b = b, a
	}
	toks := ec.ix.fields[a.field].toks
	between := toks[b.first].word - toks[a.last].word - 1 // words strictly between
	return between <= int32(n.n)
}

func (n *filterNode) eval(ec *evalCtx, _ bool) bool {
	d := ec.doc
	switch n.kind {
	case "topic":
		if _, ok := d.Topics[n.val]; ok {
			return true
		}
		for k := range d.Topics {
			if strings.EqualFold(k, n.val) {
				return true
			}
		}
		return false
	case "source":
		return sourceMatches(d.Source, n.val)
	default: // lang
		l := strings.ToLower(strings.ReplaceAll(d.Lang, "_", "-"))
		return l == n.val || strings.HasPrefix(l, n.val+"-")
	}
}

// sourceMatches accepts the source itself or any of its words or domain
// labels, so source:livemint matches "livemint", "www.livemint.com" and
// "LiveMint News".
func sourceMatches(src, want string) bool {
	src = strings.ToLower(src)
	if src == want {
		return true
	}
	if strings.IndexFunc(want, func(r rune) bool { return !isWordRune(r) }) >= 0 {
		// A value with dots or spaces ("livemint.com") must appear whole.
		return strings.Contains(src, want)
	}
	for _, part := range strings.FieldsFunc(src, func(r rune) bool { return !isWordRune(r) }) {
		if part == want {
			return true
		}
	}
	return false
}

func (n *scoreNode) eval(ec *evalCtx, _ bool) bool {
	s := 0.0
	if len(n.topics) == 0 {
		for _, v := range ec.doc.Topics {
			s = max(s, v)
		}
	} else {
		for k, v := range ec.doc.Topics {
			if slices.Contains(n.topics, strings.ToLower(k)) {
				s = max(s, v)
			}
		}
	}
	switch n.op {
	case ">=":
		return s >= n.v
	case ">":
		return s > n.v
	case "<=":
		return s <= n.v
	case "<":
		return s < n.v
	default:
		return s == n.v
	}
}

// Snippet returns about width characters of s around s[start:end], cut on
// word boundaries, whitespace collapsed, with "…" where text was cut.
func Snippet(s string, start, end, width int) string {
	if start < 0 || end > len(s) || start > end {
		return ""
	}
	room := max(width-utf8.RuneCountInString(s[start:end]), 0)
	left, usedL := runesBack(s, start, room/2)
	right, usedR := runesForward(s, end, room-usedL)
	// Give the left side what the right side could not use.
	left, _ = runesBack(s, left, room-usedL-usedR)
	cutLeft, cutRight := left > 0, right < len(s)
	if cutLeft && !isSpaceByte(s[left-1]) {
		// Drop the word the cut went through.
		for left < start && !isSpaceByte(s[left]) {
			left++
		}
	}
	if cutRight && !isSpaceByte(s[right]) {
		for right > end && !isSpaceByte(s[right-1]) {
			right--
		}
	}
	var b strings.Builder
	b.Grow(right - left + 2*len("…"))
	if cutLeft {
		b.WriteString("…")
	}
	// Collapse runs of whitespace, newlines included, to one space, copying
	// the text between them in whole slices.
	seg := s[left:right]
	for i := 0; i < len(seg); {
		if !isSpaceByte(seg[i]) {
			j := i + 1
			for j < len(seg) && !isSpaceByte(seg[j]) {
				j++
			}
			if i > 0 && b.Len() > 0 && (!cutLeft || b.Len() > len("…")) {
				b.WriteByte(' ')
			}
			b.WriteString(seg[i:j])
			i = j
			continue
		}
		i++
	}
	if cutRight {
		b.WriteString("…")
	}
	return b.String()
}

// isSpaceByte reports ASCII whitespace. Snippets only break and collapse
// there: other Unicode spaces are rare in extracted text and kept as they are.
func isSpaceByte(c byte) bool {
	return c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\v' || c == '\f'
}

// runesBack moves pos back by up to n runes and says how many it moved.
func runesBack(s string, pos, n int) (int, int) {
	moved := 0
	for pos > 0 && moved < n {
		pos--
		for pos > 0 && !utf8.RuneStart(s[pos]) {
			pos--
		}
		moved++
	}
	return pos, moved
}

// runesForward moves pos forward by up to n runes and says how many it moved.
func runesForward(s string, pos, n int) (int, int) {
	moved := 0
	for pos < len(s) && moved < n {
		pos++
		for pos < len(s) && !utf8.RuneStart(s[pos]) {
			pos++
		}
		moved++
	}
	return pos, moved
}

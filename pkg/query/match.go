package query

import (
	"cmp"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/newswatch/newswatch/pkg/scan"
)

// Doc is what a query is matched against.
type Doc struct {
	Title, Text, Source, Lang string
	Topics                    map[string]float64 // flagged topic -> score

	pre *preparedDoc
}

// preparedDoc is a Doc normalised once, with the snippets its matches have
// needed so far: the queries matched against one article report many of
// the same occurrences.
type preparedDoc struct {
	sd       scan.Doc
	snippets snippetCache
}

// snippetCache holds the snippet of each span, by first and last token.
type snippetCache struct {
	mu *sync.Mutex // nil for a cache used by one goroutine
	m  map[[2]int32]string
}

func (c *snippetCache) get(d *scan.Doc, first, last int32) string {
	if c.mu != nil {
		c.mu.Lock()
		defer c.mu.Unlock()
	}
	key := [2]int32{first, last}
	if s, ok := c.m[key]; ok {
		return s
	}
	if c.m == nil {
		c.m = map[[2]int32]string{}
	}
	t0, t1 := &d.Tokens[first], &d.Tokens[last]
	s := Snippet(d.Field(t0.Field), int(t0.Start), int(t1.End), SnippetWidth)
	c.m[key] = s
	return s
}

// Prepare normalises the title and text once (pkg/scan), so that matching
// many queries against d does not redo it. Call it before sharing d between
// goroutines; Match without it normalises on every call.
func (d *Doc) Prepare() {
	p := &preparedDoc{snippets: snippetCache{mu: new(sync.Mutex)}}
	p.sd.Normalize(d.Title, d.Text)
	d.pre = p
}

// prepared returns d's normalised form if it is up to date.
func (d *Doc) prepared() *preparedDoc {
	if p := d.pre; p != nil && p.sd.Title == d.Title && p.sd.Text == d.Text {
		return p
	}
	return nil
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

// matchBuf is the scratch of a standalone Query.Match.
type matchBuf struct {
	doc  scan.Doc
	hits []scan.Hit
	res  []Result
	low  [2]lowerField
	none scan.Doc // never normalised: for a Doc no term can occur in
}

var matchBufs = sync.Pool{New: func() any { return new(matchBuf) }}

// compiled returns the query as a Set of one and its own machine, built on
// first use.
func (q *Query) compiled() (*Set, *scan.Machine) {
	q.once.Do(func() {
		q.need = newNeed(q.root, q.terms)
		q.set = NewSet([]*Query{q})
		m, err := scan.Compile(q.set.Terms())
		if err == nil {
			q.machine = m
			q.small = newSmallScan(q.set.Terms())
		}
	})
	return q.set, q.machine
}

// Match reports whether d satisfies the query and the spans of the terms
// that made it so, title first, in text order. It is safe for concurrent
// use.
func (q *Query) Match(d *Doc) ([]Span, bool) {
	set, m := q.compiled()
	if m == nil {
		return nil, false // unreachable: every term normalises to one line
	}
	b := matchBufs.Get().(*matchBuf)
	defer matchBufs.Put(b)
	sd, snips := &b.doc, (*snippetCache)(nil)
	if p := d.prepared(); p != nil {
		sd, snips = &p.sd, &p.snippets
	} else {
		// A prepared Doc is normalised already; this one need not be when
		// it cannot match, or when no term can occur in it (the query is
		// then evaluated on no occurrences, as it would be after
		// normalising).
		verdict := mayMatch
		if !q.noNeed {
			verdict = q.need.check(d, &b.low)
		}
		switch verdict {
		case noMatch:
			return nil, false
		case noTerm:
			sd = &b.none
		default:
			b.doc.Normalize(d.Title, d.Text)
		}
	}
	b.hits = b.hits[:0]
	switch {
	case len(set.pats) == 0 || sd == &b.none: // nothing to scan for
	case q.small != nil:
		b.hits = q.small.scan(sd.Buf, b.hits)
	default:
		b.hits = m.Scan(sd, b.hits)
	}
	b.res = set.match(sd, b.hits, 0, d, snips, b.res[:0])
	if len(b.res) == 0 {
		return nil, false
	}
	spans := b.res[0].Spans
	b.res[0] = Result{}
	return spans, true
}

type evalCtx struct {
	s        *Set
	sc       *scratch
	d        *scan.Doc
	meta     *Doc
	snippets *snippetCache
	qi       int32
	max      int
}

// finish returns the spans collected for the query, title first in text
// order, without duplicates.
func (ec *evalCtx) finish() []Span {
	sp := ec.sc.spans
	if len(sp) == 0 {
		return nil
	}
	byPos := func(a, b occ) int {
		return cmp.Or(cmp.Compare(a.first, b.first), cmp.Compare(a.last, b.last))
	}
	if !slices.IsSortedFunc(sp, byPos) {
		slices.SortStableFunc(sp, byPos)
	}
	n := 0
	for i, o := range sp {
		if i == 0 || sp[i-1].first != o.first || sp[i-1].last != o.last {
			n++
		}
	}
	out := make([]Span, 0, n)
	for i, o := range sp {
		if i > 0 && sp[i-1].first == o.first && sp[i-1].last == o.last {
			continue
		}
		t0, t1 := &ec.d.Tokens[o.first], &ec.d.Tokens[o.last]
		out = append(out, Span{
			Term:    o.label,
			Field:   fieldNames[t0.Field],
			Start:   int(t0.Start),
			End:     int(t1.End),
			Snippet: ec.snippets.get(ec.d, o.first, o.last),
		})
	}
	return out
}

// occs returns the occurrences of t that count, shared by every query of
// the Set: not to be modified.
func (ec *evalCtx) occs(t *term) []occ {
	r := ec.sc.rng[ec.s.qterm[ec.qi][t.id]]
	if r.gen != ec.sc.gen {
		return nil
	}
	return ec.sc.occs[r.lo:r.hi]
}

// add reports up to max occurrences of one term under label.
func (ec *evalCtx) add(os []occ, label string) {
	if len(os) > ec.max {
		os = os[:ec.max]
	}
	for _, o := range os {
		o.label = label
		ec.sc.spans = append(ec.sc.spans, o)
	}
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
	mark := len(ec.sc.spans)
	for _, k := range n.kids {
		if !k.eval(ec, collect) {
			ec.sc.spans = ec.sc.spans[:mark]
			return false
		}
	}
	return true
}

func (n *notNode) eval(ec *evalCtx, _ bool) bool {
	return !n.kid.eval(ec, false)
}

func (n *termNode) eval(ec *evalCtx, collect bool) bool {
	os := ec.occs(n.t)
	if collect {
		ec.add(os, n.t.label)
	}
	return len(os) > 0
}

func (n *termNode) appendOccs(ec *evalCtx, dst []occ) []occ {
	return appendLabelled(dst, ec.occs(n.t), n.t.label)
}

func appendLabelled(dst, os []occ, label string) []occ {
	for _, o := range os {
		o.label = label
		dst = append(dst, o)
	}
	return dst
}

func (n *entityNode) eval(ec *evalCtx, collect bool) bool {
	found := false
	for _, t := range n.terms {
		os := ec.occs(t)
		if len(os) > 0 {
			found = true
			if !collect {
				return true
			}
			ec.add(os, t.label)
		}
	}
	return found
}

func (n *entityNode) appendOccs(ec *evalCtx, dst []occ) []occ {
	for _, t := range n.terms {
		dst = appendLabelled(dst, ec.occs(t), t.label)
	}
	return dst
}

func (n *orNode) appendOccs(ec *evalCtx, dst []occ) []occ {
	for _, k := range n.kids {
		dst = k.(positional).appendOccs(ec, dst)
	}
	return dst
}

func (n *proxNode) eval(ec *evalCtx, collect bool) bool {
	sc := ec.sc
	mark := len(sc.arena)
	defer func() { sc.arena = sc.arena[:mark] }()
	sc.arena = n.a.appendOccs(ec, sc.arena)
	na := len(sc.arena) - mark
	if na == 0 {
		return false
	}
	sc.arena = n.b.appendOccs(ec, sc.arena)
	as, bs := sc.arena[mark:mark+na], sc.arena[mark+na:]
	if len(bs) == 0 {
		return false
	}
	// NEAR and SENTENCE do not nest, so one set of flags is enough.
	sc.used = slices.Grow(sc.used[:0], len(as)+len(bs))[:len(as)+len(bs)]
	clear(sc.used)
	usedA, usedB := sc.used[:len(as)], sc.used[len(as):]
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
		ec.addUsed(as, usedA)
		ec.addUsed(bs, usedB)
	}
	return found
}

// addUsed reports up to max of the occurrences marked used.
func (ec *evalCtx) addUsed(os []occ, used []bool) {
	n := 0
	for i, o := range os {
		if used[i] && n < ec.max {
			ec.sc.spans = append(ec.sc.spans, o)
			n++
		}
	}
}

func (n *proxNode) close(ec *evalCtx, a, b occ) bool {
	toks := ec.d.Tokens
	if n.n < 0 {
		return toks[a.first].Sentence == toks[b.first].Sentence
	}
	if a.first > b.first {
		a, b = b, a
	}
	between := toks[b.first].Word - toks[a.last].Word - 1 // words strictly between
	return between <= int32(n.n)
}

func (n *filterNode) eval(ec *evalCtx, _ bool) bool {
	d := ec.meta
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
	if strings.IndexFunc(want, func(r rune) bool { return !scan.IsWordRune(r) }) >= 0 {
		// A value with dots or spaces ("livemint.com") must appear whole.
		return strings.Contains(src, want)
	}
	for _, part := range strings.FieldsFunc(src, func(r rune) bool { return !scan.IsWordRune(r) }) {
		if part == want {
			return true
		}
	}
	return false
}

func (n *scoreNode) eval(ec *evalCtx, _ bool) bool {
	s := 0.0
	if len(n.topics) == 0 {
		for _, v := range ec.meta.Topics {
			s = max(s, v)
		}
	} else {
		for k, v := range ec.meta.Topics {
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
func isSpaceByte(c byte) bool { return spaceByte[c] }

var spaceByte = [256]bool{' ': true, '\n': true, '\t': true, '\r': true, '\v': true, '\f': true}

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

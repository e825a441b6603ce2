package query

import (
	"cmp"
	"slices"
	"sync"

	"github.com/newswatch/newswatch/pkg/scan"
)

// Set is many compiled queries whose terms are matched in one pass: their
// terms form one dictionary (Terms) for a scan.Machine, usually the
// analyzer's machine shared with the taxonomy and the gazetteer, and Match
// evaluates every query on the hits of one scan. A Set is immutable and
// safe for concurrent use.
//
// The cost of Match grows with the hits and with the queries they
// concern, not with the number of queries: a query is evaluated only when
// a term it cannot match without occurs (Kilwa for India AND Kilwa), or
// when it can match without any term (NOT foo, topic:x).
type Set struct {
	qs []*Query
	// pats is the dictionary; patUses[p] the matchers pattern p may be an
	// occurrence of; patLower[p] says that the lower-case uses of pattern p
	// are evidence for the case rule (usedLower).
	pats     []scan.Term
	patUses  [][]int32
	patLower []bool
	// ms are the distinct terms of all queries; identical terms of several
	// queries share one matcher, verified once per hit.
	ms    []matcher
	qterm [][]int32 // query -> its term id -> matcher
	// trig[m] are the queries that cannot match unless matcher m, or
	// another of their triggers, occurs (see triggers); always are the
	// queries that can match without any term.
	trig    [][]int32
	always  []int32
	evalAll bool      // tests: evaluate every query
	pool    sync.Pool // *scratch
}

type matcher struct {
	t     *term
	lower int32 // pattern of t.lowerPattern(), or -1
}

// Result is a query of a Set that matched, with its spans as Query.Match
// reports them.
type Result struct {
	Query int // index of the query in the slice given to NewSet
	Spans []Span
}

// NewSet compiles the terms of qs into one dictionary.
func NewSet(qs []*Query) *Set {
	s := &Set{qs: qs}
	patIdx := map[string]int32{}
	mIdx := map[string]int32{}
	var uses []int // matcher -> how many terms of the queries it stands for
	addPat := func(text string) int32 {
		key, err := scan.NormalizeTerm(text)
		if err != nil || key == "" {
			return -1
		}
		pi, ok := patIdx[key]
		if !ok {
			pi = int32(len(s.pats))
			patIdx[key] = pi
			s.pats = append(s.pats, scan.Term{Text: text})
			s.patUses = append(s.patUses, nil)
			s.patLower = append(s.patLower, false)
		}
		return pi
	}
	for _, q := range qs {
		ids := make([]int32, len(q.terms))
		for ti, t := range q.terms {
			k := t.key()
			mi, ok := mIdx[k]
			if !ok {
				mi = int32(len(s.ms))
				mIdx[k] = mi
				m := matcher{t: t, lower: -1}
				for _, p := range t.patterns() {
					if pi := addPat(p); pi >= 0 && !slices.Contains(s.patUses[pi], mi) {
						s.patUses[pi] = append(s.patUses[pi], mi)
					}
				}
				if lp := t.lowerPattern(); lp != "" {
					if pi := addPat(lp); pi >= 0 {
						m.lower = pi
						s.patLower[pi] = true
					}
				}
				s.ms = append(s.ms, m)
				uses = append(uses, 0)
			}
			ids[ti] = mi
			uses[mi]++
		}
		s.qterm = append(s.qterm, ids)
	}
	s.trig = make([][]int32, len(s.ms))
	for qi, q := range qs {
		ms, ok := triggers(q.root, s.qterm[qi], uses)
		if !ok {
			s.always = append(s.always, int32(qi))
			continue
		}
		for _, m := range ms {
			if l := s.trig[m]; len(l) == 0 || l[len(l)-1] != int32(qi) {
				s.trig[m] = append(l, int32(qi))
			}
		}
	}
	s.pool.New = func() any {
		return &scratch{
			rng:       make([]occRange, len(s.ms)),
			lowerSeen: make([]uint32, len(s.pats)),
			qmark:     make([]uint32, len(s.qs)),
		}
	}
	return s
}

// Terms returns the dictionary of every query's terms, deduplicated, for
// scan.Compile. Match expects the hits of a machine compiled with it.
func (s *Set) Terms() []scan.Term { return slices.Clone(s.pats) }

// Len returns the number of queries.
func (s *Set) Len() int { return len(s.qs) }

// Match evaluates every query on d given hits, the result of Scan on d by
// a machine in which s.Terms() was dictionary list; other dictionaries'
// hits are ignored. meta supplies Source, Lang and Topics for the filters
// (nil for none); the text is d's. It returns the queries that match, in
// the order of NewSet's slice, and does not modify d or hits.
func (s *Set) Match(d *scan.Doc, hits []scan.Hit, list int32, meta *Doc) []Result {
	return s.match(d, hits, list, meta, nil, nil)
}

// triggers returns matchers (by ids, a query's term id -> matcher) of
// which at least one must occur for n to be true, and false when n can be
// true without any term (NOT foo, topic:x). Of the kids of an AND, and of
// the two arguments of NEAR, it picks the rarest by uses (how many query
// terms each matcher stands for, a proxy for how common a word is), so
// that "India AND Kilwa" is evaluated only on articles that name Kilwa.
func triggers(n node, ids []int32, uses []int) ([]int32, bool) {
	weight := func(ms []int32) int {
		w := 0
		for _, m := range ms {
			w += uses[m]
		}
		return w
	}
	lighter := func(best, ms []int32, ok bool) []int32 {
		if ok && (best == nil || weight(ms) < weight(best)) {
			return ms
		}
		return best
	}
	switch v := n.(type) {
	case *termNode:
		return []int32{ids[v.t.id]}, true
	case *entityNode:
		ms := make([]int32, 0, len(v.terms))
		for _, t := range v.terms {
			ms = append(ms, ids[t.id])
		}
		return ms, true
	case *orNode:
		var all []int32
		for _, k := range v.kids {
			ms, ok := triggers(k, ids, uses)
			if !ok {
				return nil, false
			}
			all = append(all, ms...)
		}
		return all, true
	case *andNode:
		var best []int32
		for _, k := range v.kids {
			ms, ok := triggers(k, ids, uses)
			best = lighter(best, ms, ok)
		}
		return best, best != nil
	case *proxNode:
		a, _ := triggers(v.a, ids, uses)
		b, _ := triggers(v.b, ids, uses)
		return lighter(a, b, true), true
	}
	return nil, false // NOT, filters and score
}

// scratch is what one Match needs, reused through the Set's pool so that
// matching allocates nothing per hit. Per-matcher, per-pattern and
// per-query marks hold the generation of the Match that set them, so
// they never need clearing.
type scratch struct {
	gen       uint32
	raw       []rawOcc
	occs      []occ      // verified and case-filtered occurrences, by matcher
	rng       []occRange // matcher -> its occurrences in occs
	lowerSeen []uint32   // pattern -> written in lower case somewhere
	qmark     []uint32   // query -> a candidate of this Match
	cands     []int32
	arena     []occ // occurrences of NEAR and SENTENCE arguments
	used      []bool
	spans     []occ
	// snippets of the spans reported so far: many queries report the same
	// occurrences, and a snippet is the costliest part of a span.
	snippets snippetCache
	ec       evalCtx
}

type rawOcc struct {
	m int32
	o occ
}

type occRange struct {
	lo, hi int32
	gen    uint32
}

func (sc *scratch) begin() {
	sc.gen++
	if sc.gen == 0 {
		clear(sc.rng)
		clear(sc.lowerSeen)
		clear(sc.qmark)
		sc.gen = 1
	}
	sc.raw, sc.occs, sc.cands = sc.raw[:0], sc.occs[:0], sc.cands[:0]
	clear(sc.snippets.m)
}

// match is Match appending to out; snips, when not nil, is a snippet cache
// that outlives the call (a prepared Doc's).
func (s *Set) match(d *scan.Doc, hits []scan.Hit, list int32, meta *Doc, snips *snippetCache, out []Result) []Result {
	if meta == nil {
		meta = &Doc{}
	}
	sc := s.pool.Get().(*scratch)
	defer s.pool.Put(sc)
	sc.begin()
	gen := sc.gen

	// Verify every hit for every distinct term it may be.
	cur := d.Cursor()
	for _, h := range hits {
		if h.List != list || h.Index < 0 || int(h.Index) >= len(s.pats) {
			continue
		}
		first, last, ok := cur.Tokens(h)
		if !ok {
			continue
		}
		if s.patLower[h.Index] && first == last && !hasUpper(d.Original(first)) {
			sc.lowerSeen[h.Index] = gen
		}
		for _, mi := range s.patUses[h.Index] {
			t := s.ms[mi].t
			l, weak, ok := matchWords(d, t.words, first)
			if (!ok || l != last) && t.concat != nil {
				l, weak, ok = matchWords(d, t.concat, first)
			}
			if ok && l == last {
				sc.raw = append(sc.raw, rawOcc{m: mi, o: occ{first: int32(first), last: int32(last), field: d.Tokens[first].Field, weak: weak}})
			}
		}
	}

	// Apply the case rule to each term's occurrences, in text order, and
	// note the queries that have an occurrence.
	byMatcher := func(a, b rawOcc) int { return cmp.Compare(a.m, b.m) }
	if !slices.IsSortedFunc(sc.raw, byMatcher) {
		slices.SortStableFunc(sc.raw, byMatcher)
	}
	for i := 0; i < len(sc.raw); {
		j := i + 1
		for j < len(sc.raw) && sc.raw[j].m == sc.raw[i].m {
			j++
		}
		mi := sc.raw[i].m
		lo := int32(len(sc.occs))
		s.keep(sc, mi, sc.raw[i:j])
		sc.rng[mi] = occRange{lo: lo, hi: int32(len(sc.occs)), gen: gen}
		if int32(len(sc.occs)) > lo {
			for _, q := range s.trig[mi] {
				if sc.qmark[q] != gen {
					sc.qmark[q] = gen
					sc.cands = append(sc.cands, q)
				}
			}
		}
		i = j
	}
	for _, q := range s.always {
		if sc.qmark[q] != gen {
			sc.qmark[q] = gen
			sc.cands = append(sc.cands, q)
		}
	}
	for q := int32(0); s.evalAll && int(q) < len(s.qs); q++ {
		if sc.qmark[q] != gen {
			sc.qmark[q] = gen
			sc.cands = append(sc.cands, q)
		}
	}
	slices.Sort(sc.cands)

	// The context lives in the scratch: evaluated through interfaces, it
	// would escape to the heap on every Match.
	if snips == nil {
		snips = &sc.snippets
	}
	sc.ec = evalCtx{s: s, sc: sc, d: d, meta: meta, snippets: snips}
	ec := &sc.ec
	defer func() { sc.ec = evalCtx{} }() // no reference to d or meta in the pool
	for _, qi := range sc.cands {
		q := s.qs[qi]
		ec.qi, ec.max, sc.spans = qi, q.maxSpans, sc.spans[:0]
		if q.root.eval(ec, true) {
			out = append(out, Result{Query: int(qi), Spans: ec.finish()})
		}
	}
	return out
}

// keep appends to sc.occs the occurrences of matcher mi that count: a
// sentence-initial capital (a weak occurrence) counts when the term also
// occurs strongly, or at the start of the title when the article never
// writes the word in lower case; then the term's field scope applies.
func (s *Set) keep(sc *scratch, mi int32, raw []rawOcc) {
	m := &s.ms[mi]
	strong, weakTitle := false, false
	for _, r := range raw {
		if !r.o.weak {
			strong = true
			break
		}
		weakTitle = weakTitle || r.o.field == scan.FieldTitle
	}
	// Headlines lead with their subject far more often than with a common
	// word that happens to be watched, so a title's sentence start counts
	// unless the article uses the word in lower case.
	titleOK := !strong && weakTitle && (m.lower < 0 || sc.lowerSeen[m.lower] != sc.gen)
	for _, r := range raw {
		o := r.o
		if o.weak && !strong && !(titleOK && o.field == scan.FieldTitle) {
			continue
		}
		switch m.t.scope.field {
		case onlyTitle:
			if o.field != scan.FieldTitle {
				continue
			}
		case onlyText:
			if o.field != scan.FieldText {
				continue
			}
		}
		sc.occs = append(sc.occs, o)
	}
}

package topics

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"

	"github.com/newswatch/newswatch/pkg/events"
	"github.com/newswatch/newswatch/pkg/scan"
	"github.com/newswatch/newswatch/pkg/wordclust"
)

// maxFeatures bounds the features of one topic: presence is kept in a
// uint64 bit mask per sentence.
const maxFeatures = 64

// maxEvidence bounds the evidence listed per flagged topic.
const maxEvidence = 12

// Defaults of the placement and saturation parameters of a topic.
const (
	defaultTitleWeight   = 1.5
	defaultLeadSentences = 2
	defaultLeadWeight    = 1.0
	defaultBodyWeight    = 0.5
	defaultBodyCap       = 1.0
	defaultSentenceCap   = 1.5
	defaultRepeatDecay   = 0.3
	defaultTermDecay     = 0.6
	defaultDensityFull   = 0.3
	defaultDensityMin    = 8
	defaultDensityEvid   = 0.8
)

// Entry kinds: what a pattern occurrence means.
const (
	entTerm  = iota // a term of a topic feature
	entActor        // a name of an actor
	entVeto         // a phrase that cancels actor names inside it
)

type entry struct {
	kind    uint8
	topic   int16
	feature int16
	actor   int32
	term    string // as written in the taxonomy
}

type requirement struct {
	feature int // -1 when none
	actors  int
	scope   string
}

// Roles of a feature in suppression of overlapping occurrences.
const (
	rolePositive = iota // positive evidence
	roleConcept         // referenced by a requirement, or model_only: never suppresses
	roleMask            // zero or negative weight: overrides what it contains
)

type feature struct {
	name     string
	weight   float64
	role     uint8
	requires []requirement
}

type topic struct {
	def      TopicDef // with defaults filled in
	features []feature
}

type actor struct {
	id, kind string
	home     int32 // index of the actor distinct counting uses
}

// Classifier flags topics of articles. It is compiled once by New and is
// safe for concurrent use.
type Classifier struct {
	topics []topic
	actors []actor
	// terms is the dictionary: one entry per distinct normalised term
	// (prefix terms apart), so pattern p is terms[p] and a scan.Hit's Index.
	terms    []scan.Term
	m        *scan.Machine // terms alone, for Classify and Explain
	entIdx   []int32       // entries of pattern p are ents[entIdx[p]:entIdx[p+1]]
	ents     []entry
	kindRefs [][]entry // actor index -> term entries of "@kind" features
	skip     []string  // normalised line openings of boilerplate lines
	maxTerm  int32     // bytes of the longest normalised term
	// maxActors is the most distinct actors any requirement asks for.
	maxActors int
	keys      featureKeys
	clusters  *wordclust.Clusters // the built-in word clusters
	rows      featureRows         // the model's rows of the keys' features
	model     *learned            // nil: every topic is scored by its taxonomy weights
	// byModel[t] says taxonomy topic t is scored by the model: score
	// skips its taxonomy contributions, which nothing reads.
	byModel []bool
	pool    sync.Pool
}

// splitTerm parses a taxonomy term: a trailing '*' marks a prefix term.
func splitTerm(term string) scan.Term {
	if l := len(term); l > 0 && term[l-1] == '*' {
		return scan.Term{Text: term[:l-1], Prefix: true}
	}
	return scan.Term{Text: term}
}

// normalizeTerm folds a taxonomy term like article text (pkg/scan's rules),
// so both sides of a match agree.
func normalizeTerm(term string) (norm string, prefix bool, err error) {
	st := splitTerm(term)
	norm, err = scan.NormalizeTerm(st.Text)
	return norm, st.Prefix, err
}

// Option configures New.
type Option func(*options)

type options struct {
	model    *Model
	modelSet bool
}

// WithModel scores the topics m names with its learned weights instead of
// the built-in model; nil scores every topic by its taxonomy weights
// alone.
func WithModel(m *Model) Option {
	return func(o *options) { o.model, o.modelSet = m, true }
}

// New compiles a taxonomy: validates it, fills defaults and builds the
// dictionary of every term and actor name (Terms) and the machine that
// matches it. Topics the model (the built-in one unless WithModel says
// otherwise) has weights for are scored by it; the others by their
// taxonomy weights and threshold.
func New(t Taxonomy, opts ...Option) (*Classifier, error) {
	if err := t.Validate(); err != nil {
		return nil, err
	}
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if !o.modelSet {
		o.model = DefaultModel()
	}
	if o.model != nil {
		if err := o.model.Validate(); err != nil {
			return nil, err
		}
	}
	if t.Actors == nil || t.SkipLines == nil {
		def, err := ParseTaxonomy(defaultYAML)
		if err != nil {
			return nil, fmt.Errorf("topics: embedded default.yaml: %w", err)
		}
		if t.Actors == nil {
			t.Actors = def.Actors
		}
		if t.SkipLines == nil {
			t.SkipLines = def.SkipLines
		}
	}
	c := &Classifier{}
	type patEnt struct {
		term scan.Term
		ents []entry
	}
	pats := map[string]*patEnt{}
	var order []string
	add := func(term string, e entry) {
		// Validate has checked every term normalises.
		norm, prefix, _ := normalizeTerm(term)
		key := norm
		if prefix {
			key += "*"
		}
		p := pats[key]
		if p == nil {
			p = &patEnt{term: splitTerm(term)}
			pats[key] = p
			order = append(order, key)
		}
		p.ents = append(p.ents, e)
	}
	actorIdx := map[string]int32{}
	for i, a := range t.Actors {
		actorIdx[a.ID] = int32(i)
	}
	kinds := map[string]bool{}
	for i, a := range t.Actors {
		home := int32(i)
		if a.Home != "" {
			home = actorIdx[a.Home]
		}
		c.actors = append(c.actors, actor{id: a.ID, kind: a.Kind, home: home})
		kinds[a.Kind] = true
		for _, n := range a.Names {
			add(n, entry{kind: entActor, actor: int32(i), term: n})
		}
		for _, n := range a.Exclude {
			add(n, entry{kind: entVeto, actor: int32(i), term: n})
		}
	}
	c.kindRefs = make([][]entry, len(c.actors))
	for ti, td := range t.Topics {
		tp := topic{def: withDefaults(td)}
		fidx := map[string]int{}
		for fi, f := range td.Features {
			fidx[f.Name] = fi
		}
		for fi, f := range td.Features {
			ft := feature{name: f.Name, weight: f.Weight}
			for _, r := range f.Requires {
				rq := requirement{feature: -1, actors: r.Actors, scope: r.Scope}
				c.maxActors = max(c.maxActors, r.Actors)
				if rq.scope == "" {
					rq.scope = ScopeSentence
				}
				if r.Feature != "" {
					rq.feature = fidx[r.Feature]
				}
				ft.requires = append(ft.requires, rq)
			}
			tp.features = append(tp.features, ft)
			for _, term := range f.Terms {
				e := entry{kind: entTerm, topic: int16(ti), feature: int16(fi), term: term}
				if term[0] == '@' {
					kind := term[1:]
					if !kinds[kind] {
						return nil, fmt.Errorf("%w: topic %q: feature %q: key \"terms\": no actor of kind %q", ErrTaxonomy, td.Name, f.Name, kind)
					}
					for ai, a := range c.actors {
						if a.kind == kind {
							c.kindRefs[ai] = append(c.kindRefs[ai], e)
						}
					}
					continue
				}
				add(term, e)
			}
		}
		for fi := range tp.features {
			f := &tp.features[fi]
			switch {
			case f.weight > 0:
				f.role = rolePositive
			default:
				f.role = roleMask
			}
			if td.Features[fi].ModelOnly {
				f.role = roleConcept
			}
			for _, g := range tp.features {
				for _, r := range g.requires {
					if r.feature == fi && f.weight == 0 {
						f.role = roleConcept
					}
				}
			}
		}
		c.topics = append(c.topics, tp)
	}
	c.terms = make([]scan.Term, len(order))
	c.entIdx = make([]int32, len(order)+1)
	for i, key := range order {
		p := pats[key]
		c.terms[i] = p.term
		c.maxTerm = max(c.maxTerm, int32(len(strings.TrimSuffix(key, "*"))))
		c.entIdx[i] = int32(len(c.ents))
		c.ents = append(c.ents, p.ents...)
	}
	c.entIdx[len(order)] = int32(len(c.ents))
	m, err := scan.Compile(c.terms)
	if err != nil {
		return nil, fmt.Errorf("topics: compiling the taxonomy's terms: %w", err)
	}
	c.m = m
	for _, s := range t.SkipLines {
		if norm, _, err := normalizeTerm(s); err == nil && norm != "" {
			c.skip = append(c.skip, norm)
		}
	}
	if c.clusters, err = builtinClusters(); err != nil {
		return nil, fmt.Errorf("topics: the built-in word clusters: %w", err)
	}
	c.buildFeatureKeys()
	if o.model != nil {
		c.model = compileModel(o.model, c)
	}
	c.rows = c.buildFeatureRows()
	c.byModel = make([]bool, len(c.topics))
	for t := range c.topics {
		c.byModel[t] = c.learnedFor(t) >= 0
	}
	c.pool.New = func() any { return new(scratch) }
	return c, nil
}

func withDefaults(t TopicDef) TopicDef {
	t.TitleWeight = cmp.Or(t.TitleWeight, defaultTitleWeight)
	t.LeadSentences = cmp.Or(t.LeadSentences, defaultLeadSentences)
	t.LeadWeight = cmp.Or(t.LeadWeight, defaultLeadWeight)
	t.BodyWeight = cmp.Or(t.BodyWeight, defaultBodyWeight)
	t.BodyCap = cmp.Or(t.BodyCap, defaultBodyCap)
	t.SentenceCap = cmp.Or(t.SentenceCap, defaultSentenceCap)
	t.RepeatDecay = cmp.Or(t.RepeatDecay, defaultRepeatDecay)
	t.TermDecay = cmp.Or(t.TermDecay, defaultTermDecay)
	t.Density.Full = cmp.Or(t.Density.Full, defaultDensityFull)
	t.Density.MinEvidence = cmp.Or(t.Density.MinEvidence, defaultDensityEvid)
	t.Density.MinSentences = cmp.Or(t.Density.MinSentences, defaultDensityMin)
	return t
}

// Topics returns the names of the topics in taxonomy order, then those
// of the model that the taxonomy does not name.
func (c *Classifier) Topics() []string {
	names := make([]string, len(c.topics))
	for i, t := range c.topics {
		names[i] = t.def.Name
	}
	if c.model != nil {
		for _, lt := range c.model.topics {
			if lt.tax < 0 {
				names = append(names, lt.name)
			}
		}
	}
	return names
}

// ehit is a pattern occurrence resolved to one meaning, in one sentence.
type ehit struct {
	span       int32
	start, end int32
	pattern    int32
	ent        *entry
	dead       bool
}

// firing is a feature evaluated in one sentence.
type firing struct {
	topic, feature int16
	span           int32
	hit            int32 // the ehit that represents it
	failed         int8  // index of the requirement not met, -1 when fired
	contrib        float64
}

// scratch holds the per-call buffers, reused through a sync.Pool so that
// classifying allocates little beyond its result.
type scratch struct {
	doc       scan.Doc   // Classify's and Explain's own normalised article
	hits      []scan.Hit // their own scan
	skip      []bool     // per sentence: boilerplate, no evidence counts
	textIdx   []int32    // per sentence: index among counted text sentences, -1 for title/skipped
	ehits     []ehit
	masks     []uint64 // topic*sentences + sentence -> features present
	docMask   []uint64 // topic -> features present anywhere
	done      []uint64 // topic*sentences + sentence -> features evaluated
	terms     []spanTerm
	termSpan  int32
	actorFrom []int32 // per sentence: first index into actorHits
	actorHits []int32 // home actor index of each actor occurrence, by sentence
	seen      []int32
	actorRaw  []int32 // actor index of each actor occurrence (actorHits has its home)
	fvPart    part    // the part sc.fv holds
	fv        []fval  // the learned model's features of the article
	contribs  []contribution
	table     []slot         // dedupe's hash table
	rowCache  []rowCacheSlot // findCached's cache of cacheFor's keys
	cacheFor  *keyIndex
	gen       uint32
	prob      []float64 // per learned topic: its probability
	leadProb  []float64 // of the title and lead
	winProb   []float64 // of the passage being scored
	best      []float64 // per learned topic: the two best passages' probabilities
	bestPart  []part
	decided   []part             // per learned topic: the part its probability comes from
	actorMemo map[[2]int32]int32 // distinctActors per sentence range
	actorNear []int32            // distinctActors of ranges of up to three sentences, -1: not yet
	actorList map[[2]int32]string
	stamp     []int32 // per sentence: the feature that last counted it
	reps      []int32
	firings   []firing
	order     []int32
	scores    []float64
	density   []float64
	dense     []int // per topic: text sentences with substantial evidence
	body      []float64
	bodyScale []float64
	termBuf   []byte // evidence names are built here
	// tokRows holds the model's rows of each token of the article at
	// inference, valid when tokReady (wordrows.go).
	tokRows     []tokenRows
	tokReady    bool
	tokCache    []tokCacheSlot
	pairCache   []pairCacheSlot
	tokCacheFor *learned
	// wordsSummed tells collect that passageProbabilities summed the
	// part's word features itself.
	wordsSummed bool
	rowStamp    []uint32 // per model row: the part that last counted it
	rowAt       []int32  // per model row: its index in dedupeRows' result
	stampGen    uint32
}

func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	s = s[:n]
	clear(s)
	return s
}

// Terms returns the classifier's dictionary: every distinct term and actor
// name of the taxonomy, fixed by New. The Index of a scan.Hit of a machine
// compiled with it indexes this slice. The caller must not modify it.
func (c *Classifier) Terms() []scan.Term { return c.terms }

// own normalises an article into sc's Doc and matches it with the
// classifier's own machine: the standalone path of Classify and Explain.
func (c *Classifier) own(title, text string, sc *scratch) *scan.Doc {
	sc.doc.Normalize(title, text)
	sc.hits = c.m.Scan(&sc.doc, sc.hits[:0])
	return &sc.doc
}

// release drops sc's references to the article, so that the pool does not
// keep its text alive.
func (sc *scratch) release() { sc.doc.Title, sc.doc.Text = "", "" }

// evaluate runs the whole model over d and the hits of dictionary list;
// results stay in sc. It reads d and hits and never writes them.
func (c *Classifier) evaluate(d *scan.Doc, hits []scan.Hit, list int32, sc *scratch) {
	sents := d.Sentences
	ns := len(sents)
	sc.tokReady = false
	clear(sc.actorMemo)
	sc.actorNear = grow(sc.actorNear, 3*ns)
	for i := range sc.actorNear {
		sc.actorNear[i] = -1
	}
	clear(sc.actorList)

	// Boilerplate lines and lead sentences.
	sc.skip = grow(sc.skip, ns)
	sc.textIdx = grow(sc.textIdx, ns)
	skipPara := int32(-1)
	ti := int32(0)
	for i := range sents {
		sn := &sents[i]
		if sn.Field != scan.FieldText {
			sc.textIdx[i] = -1
			continue
		}
		if sn.Para == skipPara {
			sc.skip[i] = true
		} else if c.isBoilerplate(d.Buf[sn.NStart:sn.NEnd]) {
			sc.skip[i] = true
			skipPara = sn.Para
		}
		if sc.skip[i] {
			sc.textIdx[i] = -1
			continue
		}
		sc.textIdx[i] = ti
		ti++
	}

	// Resolve occurrences to meanings, sentence by sentence.
	sc.ehits = sc.ehits[:0]
	si := 0
	for _, h := range hits {
		if h.List != list {
			continue
		}
		for si < ns && sents[si].NEnd < h.End {
			si++
		}
		if si == ns || sc.skip[si] {
			continue
		}
		for k := c.entIdx[h.Index]; k < c.entIdx[h.Index+1]; k++ {
			sc.ehits = append(sc.ehits, ehit{span: int32(si), start: h.Start, end: h.End, pattern: h.Index, ent: &c.ents[k]})
		}
	}
	c.suppress(sc.ehits)
	// Per-sentence actors and feature presence.
	nt := len(c.topics)
	sc.masks = grow(sc.masks, nt*ns)
	sc.done = grow(sc.done, nt*ns)
	sc.actorFrom = grow(sc.actorFrom, ns+1)
	sc.actorHits, sc.actorRaw = sc.actorHits[:0], sc.actorRaw[:0]
	span := int32(0)
	for i := range sc.ehits {
		e := &sc.ehits[i]
		if e.dead {
			continue
		}
		switch e.ent.kind {
		case entTerm:
			sc.masks[int(e.ent.topic)*ns+int(e.span)] |= 1 << uint(e.ent.feature)
		case entActor:
			for span < e.span {
				span++
				sc.actorFrom[span] = int32(len(sc.actorHits))
			}
			sc.actorHits = append(sc.actorHits, c.actors[e.ent.actor].home)
			sc.actorRaw = append(sc.actorRaw, e.ent.actor)
			for k := range c.kindRefs[e.ent.actor] {
				r := &c.kindRefs[e.ent.actor][k]
				sc.masks[int(r.topic)*ns+int(e.span)] |= 1 << uint(r.feature)
			}
		}
	}
	for span < int32(ns) {
		span++
		sc.actorFrom[span] = int32(len(sc.actorHits))
	}
	sc.docMask = grow(sc.docMask, nt)
	for t := range nt {
		for _, m := range sc.masks[t*ns : (t+1)*ns] {
			sc.docMask[t] |= m
		}
	}

	// Evaluate each feature once per distinct term and sentence.
	sc.firings = sc.firings[:0]
	sc.termSpan, sc.terms = -1, sc.terms[:0]
	for i := range sc.ehits {
		e := &sc.ehits[i]
		if e.dead {
			continue
		}
		switch e.ent.kind {
		case entTerm:
			c.fire(sc, e.ent, i, ns)
		case entActor:
			for k := range c.kindRefs[e.ent.actor] {
				c.fire(sc, &c.kindRefs[e.ent.actor][k], i, ns)
			}
		}
	}
	c.score(d, sc, ns)
}

// isBoilerplate reports whether a sentence opens with a skip-line phrase.
func (c *Classifier) isBoilerplate(s []byte) bool {
	for _, p := range c.skip {
		if len(s) >= len(p) && string(s[:len(p)]) == p && (len(s) == len(p) || s[len(p)] == ' ') {
			return true
		}
	}
	return false
}

// suppress drops occurrences inside a longer occurrence of the same kind of
// meaning: "attack" inside "heart attack" of the same topic, "korea" inside
// "north korea", "quad" inside the excluded "quad bike". Masks and negative
// features override everything they contain; a longer positive phrase
// overrides shorter positive and negative ones, so "suicide bombing" is not
// also counted as a "bombing" nor "fight terror" as hostile "fight"; concepts
// used by requirements stay present.
func (c *Classifier) suppress(eh []ehit) {
	// Hits come in the order of their ends, so an occurrence containing ea
	// ends at or after ea's end and no later than ea's start plus the
	// longest term: a window of bounded size, which keeps this linear in
	// the number of occurrences however long one sentence is.
	lo := 0 // the first occurrence ending where ea ends
	for i := range eh {
		ea := &eh[i]
		if eh[lo].end != ea.end {
			lo = i
		}
		if ea.ent.kind == entVeto {
			ea.dead = true
			continue
		}
		limit := ea.start + c.maxTerm
		for j := lo; j < len(eh) && eh[j].end <= limit; j++ {
			eb := &eh[j]
			if j == i || eb.span != ea.span || eb.start > ea.start || eb.end-eb.start <= ea.end-ea.start {
				continue
			}
			switch {
			case ea.ent.kind == entTerm && eb.ent.kind == entTerm && ea.ent.topic == eb.ent.topic:
				ra := c.topics[ea.ent.topic].features[ea.ent.feature].role
				rb := c.topics[eb.ent.topic].features[eb.ent.feature].role
				if rb == roleMask || rb == rolePositive && ra != roleConcept {
					ea.dead = true
				}
			case ea.ent.kind == entActor && eb.ent.kind != entTerm:
				ea.dead = true
			}
		}
	}
}

// spanTerm is a term already fired by a feature in the current sentence.
type spanTerm struct {
	topic, feature int16
	pattern        int32
}

// fire evaluates feature e (a term entry) in the sentence of occurrence i.
// A feature fires once per distinct term per sentence.
func (c *Classifier) fire(sc *scratch, e *entry, i, ns int) {
	h := &sc.ehits[i]
	if h.span != sc.termSpan {
		sc.termSpan, sc.terms = h.span, sc.terms[:0]
	}
	k := int(e.topic)*ns + int(h.span)
	bit := uint64(1) << uint(e.feature)
	if sc.done[k]&bit != 0 {
		key := spanTerm{e.topic, e.feature, h.pattern}
		if slices.Contains(sc.terms, key) {
			return
		}
		sc.terms = append(sc.terms, key)
	} else {
		sc.terms = append(sc.terms, spanTerm{e.topic, e.feature, h.pattern})
	}
	sc.done[k] |= bit
	f := &c.topics[e.topic].features[e.feature]
	failed := int8(-1)
	for ri, r := range f.requires {
		if !c.holds(sc, r, int(e.topic), int(h.span), ns) {
			failed = int8(ri)
			break
		}
	}
	sc.firings = append(sc.firings, firing{topic: e.topic, feature: e.feature, span: h.span, hit: int32(i), failed: failed})
}

// scopeOf returns the range of sentences a requirement looks at.
func scopeOf(scope string, s, ns int) (lo, hi int) {
	switch scope {
	case ScopeWindow:
		return max(0, s-1), min(ns-1, s+1)
	case ScopeDocument:
		return 0, ns - 1
	}
	return s, s
}

func (c *Classifier) holds(sc *scratch, r requirement, t, s, ns int) bool {
	lo, hi := scopeOf(r.scope, s, ns)
	if r.feature >= 0 {
		bit := uint64(1) << uint(r.feature)
		found := false
		if r.scope == ScopeDocument {
			// One mask for the whole document keeps a long one linear.
			found = sc.docMask[t]&bit != 0
		} else {
			for x := lo; x <= hi && !found; x++ {
				found = sc.masks[t*ns+x]&bit != 0
			}
		}
		if !found {
			return false
		}
	}
	if r.actors > 0 {
		return c.distinctActors(sc, lo, hi, r.actors) >= r.actors
	}
	return true
}

// distinctActors counts distinct actors in sentences lo..hi, stopping at
// enough. Counts are memoised per range (to the largest number any
// requirement asks for), so that many firings in one long sentence or
// document cost one walk over its actors, not one each. The ranges of
// sentence and window scopes span at most three sentences and are
// memoised in an array by first sentence and width, filled with -1 per
// article; the document's, and any other, in a map.
func (c *Classifier) distinctActors(sc *scratch, lo, hi, enough int) int {
	slot := -1
	if w := hi - lo; w <= 2 && 3*lo+w < len(sc.actorNear) {
		slot = 3*lo + w
		if n := sc.actorNear[slot]; n >= 0 {
			return int(n)
		}
	}
	key := [2]int32{int32(lo), int32(hi)}
	if slot < 0 {
		if n, ok := sc.actorMemo[key]; ok {
			return int(n)
		}
	}
	sc.seen = sc.seen[:0]
	for _, a := range sc.actorHits[sc.actorFrom[lo]:sc.actorFrom[hi+1]] {
		if !slices.Contains(sc.seen, a) {
			sc.seen = append(sc.seen, a)
			if len(sc.seen) >= c.maxActors {
				break
			}
		}
	}
	if slot >= 0 {
		sc.actorNear[slot] = int32(len(sc.seen))
		return len(sc.seen)
	}
	if sc.actorMemo == nil {
		sc.actorMemo = map[[2]int32]int32{}
	}
	sc.actorMemo[key] = int32(len(sc.seen))
	return len(sc.seen)
}

// placement is the weight of evidence in sentence s for topic t.
func (c *Classifier) placement(d *scan.Doc, sc *scratch, t *topic, s int) float64 {
	if d.Sentences[s].Field == scan.FieldTitle {
		return t.def.TitleWeight
	}
	if int(sc.textIdx[s]) < t.def.LeadSentences {
		return t.def.LeadWeight
	}
	return t.def.BodyWeight
}

// score turns firings into contributions and per-topic scores, for the
// topics the taxonomy scores (byModel ones keep a score of 0).
func (c *Classifier) score(d *scan.Doc, sc *scratch, ns int) {
	nt := len(c.topics)
	sc.scores = grow(sc.scores, nt)
	sc.density = grow(sc.density, nt)
	sc.dense = grow(sc.dense, nt)
	sc.body = grow(sc.body, nt)
	sc.bodyScale = grow(sc.bodyScale, nt)
	fs := sc.firings
	// Raw contributions with the per-sentence cap on positive evidence.
	for i := 0; i < len(fs); {
		j := i
		for j < len(fs) && fs[j].span == fs[i].span {
			j++
		}
		for t := range c.topics {
			if c.byModel[t] {
				continue
			}
			tp := &c.topics[t]
			pos := 0.0
			for k := i; k < j; k++ {
				if int(fs[k].topic) == t && fs[k].failed < 0 {
					if w := tp.features[fs[k].feature].weight; w > 0 {
						pos += w
					}
				}
			}
			if pos >= tp.def.Density.MinEvidence && sc.textIdx[fs[i].span] >= 0 {
				sc.dense[t]++
			}
			scale := 1.0
			if pos > tp.def.SentenceCap {
				scale = tp.def.SentenceCap / pos
			}
			place := 0.0
			for k := i; k < j; k++ {
				f := &fs[k]
				if int(f.topic) != t || f.failed >= 0 {
					continue
				}
				if place == 0 {
					place = c.placement(d, sc, tp, int(f.span))
				}
				w := tp.features[f.feature].weight
				if w > 0 {
					w *= scale
				}
				f.contrib = w * place
			}
		}
		i = j
	}
	// Saturation of repeated features: sort each feature's firings by
	// contribution and decay the later ones.
	sc.order = sc.order[:0]
	for i := range fs {
		if fs[i].failed < 0 && !c.byModel[fs[i].topic] {
			sc.order = append(sc.order, int32(i))
		}
	}
	slices.SortFunc(sc.order, func(a, b int32) int {
		fa, fb := &fs[a], &fs[b]
		if fa.topic != fb.topic {
			return int(fa.topic) - int(fb.topic)
		}
		if fa.feature != fb.feature {
			return int(fa.feature) - int(fb.feature)
		}
		switch {
		case math.Abs(fa.contrib) > math.Abs(fb.contrib):
			return -1
		case math.Abs(fa.contrib) < math.Abs(fb.contrib):
			return 1
		}
		if fa.span != fb.span {
			return int(fa.span) - int(fb.span)
		}
		// Ties go by position, so the result does not depend on the order
		// terms were compiled in.
		return int(sc.ehits[fa.hit].start) - int(sc.ehits[fb.hit].start)
	})
	// The first firing of each distinct term keeps termDecay^(terms before
	// it); a term's repeats decay by repeatDecay on top.
	// A second term of a feature in a sentence already counted for it adds
	// only repeatDecay of its weight: one sentence is one piece of evidence.
	sc.seen = sc.seen[:0] // pattern ids met in this feature, in order
	reps := sc.reps[:0]   // firings per seen term so far
	// sc.stamp[s] is 1 + the key of the last feature counted in sentence s.
	sc.stamp = grow(sc.stamp, ns)
	for k, idx := range sc.order {
		fr := &fs[idx]
		if k == 0 || fs[sc.order[k-1]].topic != fr.topic || fs[sc.order[k-1]].feature != fr.feature {
			sc.seen, reps = sc.seen[:0], reps[:0]
		}
		def := &c.topics[fr.topic].def
		if key := int32(fr.topic)*maxFeatures + int32(fr.feature) + 1; sc.stamp[fr.span] == key {
			fr.contrib *= def.RepeatDecay
		} else {
			sc.stamp[fr.span] = key
			term := sc.ehits[fr.hit].pattern
			ti := slices.Index(sc.seen, term)
			if ti < 0 {
				ti = len(sc.seen)
				sc.seen = append(sc.seen, term)
				reps = append(reps, 0)
			}
			fr.contrib *= math.Pow(def.TermDecay, float64(ti)) * math.Pow(def.RepeatDecay, float64(reps[ti]))
			reps[ti]++
		}
		if sc.textIdx[fr.span] >= int32(def.LeadSentences) {
			sc.body[fr.topic] += fr.contrib
		} else {
			sc.scores[fr.topic] += fr.contrib
		}
	}
	sc.reps = reps
	// Evidence beyond the lead saturates at body_cap: a long article
	// reaches the threshold through its title, its lead or the density of
	// its evidence, never through the sheer number of passing mentions.
	for t := range c.topics {
		b, bc := sc.body[t], c.topics[t].def.BodyCap
		if b > 0 {
			sc.bodyScale[t] = bc * (1 - math.Exp(-b/bc)) / b
		} else {
			sc.bodyScale[t] = 1
		}
		sc.scores[t] += b * sc.bodyScale[t]
	}
	for i := range fs {
		if fs[i].failed < 0 && !c.byModel[fs[i].topic] && sc.textIdx[fs[i].span] >= int32(c.topics[fs[i].topic].def.LeadSentences) {
			fs[i].contrib *= sc.bodyScale[fs[i].topic]
		}
	}
	// Density of evidence over the text's sentences.
	for t := range c.topics {
		tp := &c.topics[t]
		if tp.def.Density.Weight == 0 || c.byModel[t] {
			continue
		}
		total, with := 0, sc.dense[t]
		for s := 0; s < ns; s++ {
			if sc.textIdx[s] >= 0 {
				total++
			}
		}
		if total >= tp.def.Density.MinSentences {
			sc.density[t] = tp.def.Density.Weight * min(1, float64(with)/float64(total)/tp.def.Density.Full)
			sc.scores[t] += sc.density[t]
		}
	}
}

func round3(x float64) float64 { return math.Round(x*1000) / 1000 }

// Classify returns the topics whose score reaches their threshold, each with
// the evidence that produced it, strongest first. It normalises the article
// and matches it with the classifier's own machine; an analyzer that has
// already scanned the article for several dictionaries calls ClassifyDoc.
func (c *Classifier) Classify(title, text string) []events.Topic {
	sc := c.pool.Get().(*scratch)
	defer c.pool.Put(sc)
	defer sc.release()
	d := c.own(title, text, sc)
	return c.classify(d, sc.hits, 0, sc)
}

// ClassifyDoc is Classify over an article already normalised into d and
// scanned by a machine whose dictionary number list is c.Terms(): it uses
// the hits whose List is list and ignores the others. It reads d and hits
// and never modifies them, so other consumers can share them.
func (c *Classifier) ClassifyDoc(d *scan.Doc, hits []scan.Hit, list int32) []events.Topic {
	sc := c.pool.Get().(*scratch)
	defer c.pool.Put(sc)
	return c.classify(d, hits, list, sc)
}

func (c *Classifier) classify(d *scan.Doc, hits []scan.Hit, list int32, sc *scratch) []events.Topic {
	c.evaluate(d, hits, list, sc)
	c.predict(d, sc)
	var out []events.Topic
	for t := range c.topics {
		if li := c.learnedFor(t); li >= 0 {
			out = c.appendLearned(out, d, sc, li)
			continue
		}
		tp := &c.topics[t]
		if sc.scores[t] < tp.def.Threshold {
			continue
		}
		sc.order = sc.order[:0]
		for i := range sc.firings {
			if int(sc.firings[i].topic) == t && sc.firings[i].failed < 0 && sc.firings[i].contrib != 0 {
				sc.order = append(sc.order, int32(i))
			}
		}
		slices.SortStableFunc(sc.order, func(a, b int32) int {
			ca, cb := math.Abs(sc.firings[a].contrib), math.Abs(sc.firings[b].contrib)
			switch {
			case ca > cb:
				return -1
			case ca < cb:
				return 1
			}
			return 0
		})
		if len(sc.order) > maxEvidence {
			sc.order = sc.order[:maxEvidence]
		}
		ev := make([]events.Evidence, 0, len(sc.order))
		for _, i := range sc.order {
			f := &sc.firings[i]
			sn := &d.Sentences[f.span]
			ev = append(ev, events.Evidence{
				Term:     c.termOf(d, sc, f),
				Weight:   round3(f.contrib),
				Field:    fieldName(sn.Field),
				Sentence: sentenceOf(d, sn),
			})
		}
		out = append(out, events.Topic{Name: tp.def.Name, Score: round3(sc.scores[t]), Threshold: tp.def.Threshold, Evidence: ev})
	}
	if c.model != nil {
		for li, lt := range c.model.topics {
			if lt.tax < 0 {
				out = c.appendLearned(out, d, sc, li)
			}
		}
	}
	return out
}

func fieldName(f uint8) string {
	if f == scan.FieldTitle {
		return "title"
	}
	return "text"
}

// maxSentence bounds a quoted evidence sentence, in bytes.
const maxSentence = 400

func sentenceOf(d *scan.Doc, sn *scan.Sentence) string {
	out := strings.TrimSpace(d.Field(sn.Field)[sn.Start:sn.End])
	if len(out) > maxSentence {
		cut := maxSentence
		for cut > 0 && out[cut]&0xC0 == 0x80 {
			cut--
		}
		out = out[:cut] + "…"
	}
	return out
}

// termOf names what fired: the matched words, and for co-occurrence
// features the actors that satisfied them. The name is built in a reused
// buffer so that each piece of evidence costs one allocation, its string.
func (c *Classifier) termOf(d *scan.Doc, sc *scratch, f *firing) string {
	h := &sc.ehits[f.hit]
	b := sc.termBuf[:0]
	if h.ent.kind == entActor {
		b = append(b, c.actors[h.ent.actor].id...)
	} else {
		end := int(h.end)
		for end < len(d.Buf) && d.Buf[end] != ' ' && d.Buf[end] != scan.Sep {
			end++ // show the whole word a prefix term matched
		}
		b = append(b, d.Buf[h.start:end]...)
	}
	ft := &c.topics[f.topic].features[f.feature]
	for _, r := range ft.requires {
		if r.actors == 0 {
			continue
		}
		lo, hi := scopeOf(r.scope, int(f.span), len(d.Sentences))
		b = append(b, c.actorsIn(sc, lo, hi)...)
		break
	}
	sc.termBuf = b
	return string(b)
}

// maxListed bounds the actors named in one piece of evidence.
const maxListed = 8

// actorsIn names the distinct actors of sentences lo..hi as " [a, b]",
// memoised per range so that explaining every firing of a long document
// walks each range once.
func (c *Classifier) actorsIn(sc *scratch, lo, hi int) string {
	key := [2]int32{int32(lo), int32(hi)}
	if s, ok := sc.actorList[key]; ok {
		return s
	}
	b := []byte(" [")
	sc.seen = sc.seen[:0]
	for _, a := range sc.actorHits[sc.actorFrom[lo]:sc.actorFrom[hi+1]] {
		if slices.Contains(sc.seen, a) {
			continue
		}
		if len(sc.seen) == maxListed {
			b = append(b, ", …"...)
			break
		}
		if len(sc.seen) > 0 {
			b = append(b, ", "...)
		}
		sc.seen = append(sc.seen, a)
		b = append(b, c.actors[a].id...)
	}
	b = append(b, ']')
	if sc.actorList == nil {
		sc.actorList = map[[2]int32]string{}
	}
	s := string(b)
	sc.actorList[key] = s
	return s
}

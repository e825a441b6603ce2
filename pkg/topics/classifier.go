package topics

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"

	"github.com/newswatch/newswatch/pkg/events"
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
	roleConcept         // referenced by a requirement: never suppresses
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
	topics   []topic
	actors   []actor
	ac       *automaton
	entIdx   []int32 // entries of pattern p are ents[entIdx[p]:entIdx[p+1]]
	ents     []entry
	kindRefs [][]entry // actor index -> term entries of "@kind" features
	skip     []string  // normalised line openings of boilerplate lines
	pool     sync.Pool
}

// New compiles a taxonomy: validates it, fills defaults and builds the one
// automaton that matches every term and actor name.
func New(t Taxonomy) (*Classifier, error) {
	if err := t.Validate(); err != nil {
		return nil, err
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
		prefix bool
		ents   []entry
	}
	pats := map[string]*patEnt{}
	var order []string
	add := func(term string, e entry) {
		norm, prefix := normalizeTerm(term)
		key := norm
		if prefix {
			key += "*"
		}
		p := pats[key]
		if p == nil {
			p = &patEnt{prefix: prefix}
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
	patterns := make([]string, len(order))
	prefix := make([]bool, len(order))
	c.entIdx = make([]int32, len(order)+1)
	for i, key := range order {
		p := pats[key]
		patterns[i] = strings.TrimSuffix(key, "*")
		prefix[i] = p.prefix
		c.entIdx[i] = int32(len(c.ents))
		c.ents = append(c.ents, p.ents...)
	}
	c.entIdx[len(order)] = int32(len(c.ents))
	c.ac = buildAutomaton(patterns, prefix)
	for _, s := range t.SkipLines {
		if norm, _ := normalizeTerm(s); norm != "" {
			c.skip = append(c.skip, norm)
		}
	}
	c.pool.New = func() any { return new(scratch) }
	return c, nil
}

func withDefaults(t TopicDef) TopicDef {
	if t.TitleWeight == 0 {
		t.TitleWeight = defaultTitleWeight
	}
	if t.LeadSentences == 0 {
		t.LeadSentences = defaultLeadSentences
	}
	if t.LeadWeight == 0 {
		t.LeadWeight = defaultLeadWeight
	}
	if t.BodyWeight == 0 {
		t.BodyWeight = defaultBodyWeight
	}
	if t.BodyCap == 0 {
		t.BodyCap = defaultBodyCap
	}
	if t.SentenceCap == 0 {
		t.SentenceCap = defaultSentenceCap
	}
	if t.RepeatDecay == 0 {
		t.RepeatDecay = defaultRepeatDecay
	}
	if t.TermDecay == 0 {
		t.TermDecay = defaultTermDecay
	}
	if t.Density.Full == 0 {
		t.Density.Full = defaultDensityFull
	}
	if t.Density.MinEvidence == 0 {
		t.Density.MinEvidence = defaultDensityEvid
	}
	if t.Density.MinSentences == 0 {
		t.Density.MinSentences = defaultDensityMin
	}
	return t
}

// Topics returns the names of the topics in taxonomy order.
func (c *Classifier) Topics() []string {
	names := make([]string, len(c.topics))
	for i, t := range c.topics {
		names[i] = t.def.Name
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
	norm      normalizer
	textIdx   []int32 // per span: index among counted text sentences, -1 for title/skipped
	hits      []hit
	ehits     []ehit
	masks     []uint64 // topic*spans + span -> features present
	done      []uint64 // topic*spans + span -> features evaluated
	terms     []spanTerm
	termSpan  int32
	actorFrom []int32 // per span: first index into actorHits
	actorHits []int32 // home actor index of each actor occurrence, by span
	seen      []int32
	reps      []int32
	spans     []int32
	firings   []firing
	order     []int32
	scores    []float64
	density   []float64
	dense     []int // per topic: text sentences with substantial evidence
	body      []float64
	bodyScale []float64
	termBuf   []byte // evidence names are built here
}

func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	s = s[:n]
	clear(s)
	return s
}

// evaluate runs the whole model; results stay in sc.
func (c *Classifier) evaluate(title, text string, sc *scratch) {
	n := &sc.norm
	n.reset()
	n.add(title, fieldTitle)
	n.add(text, fieldText)
	spans := n.spans
	ns := len(spans)

	// Boilerplate lines and lead sentences.
	sc.textIdx = grow(sc.textIdx, ns)
	skipPara := -1
	ti := int32(0)
	for i := range spans {
		sp := &spans[i]
		if sp.field != fieldText {
			sc.textIdx[i] = -1
			continue
		}
		if sp.para == skipPara {
			sp.skip = true
		} else if c.isBoilerplate(n.buf[sp.nStart:sp.nEnd]) {
			sp.skip = true
			skipPara = sp.para
		}
		if sp.skip {
			sc.textIdx[i] = -1
			continue
		}
		sc.textIdx[i] = ti
		ti++
	}

	// One pass of the automaton over title and text.
	sc.hits = c.ac.match(n.buf, sc.hits[:0])

	// Resolve occurrences to meanings, sentence by sentence.
	sc.ehits = sc.ehits[:0]
	si := 0
	for _, h := range sc.hits {
		for si < ns && spans[si].nEnd < int(h.end) {
			si++
		}
		if si == ns || spans[si].skip {
			continue
		}
		for k := c.entIdx[h.pattern]; k < c.entIdx[h.pattern+1]; k++ {
			sc.ehits = append(sc.ehits, ehit{span: int32(si), start: h.start, end: h.end, pattern: h.pattern, ent: &c.ents[k]})
		}
	}
	c.suppress(sc.ehits)

	// Per-sentence actors and feature presence.
	nt := len(c.topics)
	sc.masks = grow(sc.masks, nt*ns)
	sc.done = grow(sc.done, nt*ns)
	sc.actorFrom = grow(sc.actorFrom, ns+1)
	sc.actorHits = sc.actorHits[:0]
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
	c.score(sc, ns)
}

// isBoilerplate reports whether a sentence opens with a skip-line phrase.
func (c *Classifier) isBoilerplate(s []byte) bool {
	for _, p := range c.skip {
		if len(s) >= len(p) && string(s[:len(p)]) == p && (len(s) == len(p) || !isWordByte(s[len(p)])) {
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
	for i := 0; i < len(eh); {
		j := i
		for j < len(eh) && eh[j].span == eh[i].span {
			j++
		}
		group := eh[i:j]
		for a := range group {
			ea := &group[a]
			for b := range group {
				if a == b {
					continue
				}
				eb := &group[b]
				if eb.start > ea.start || eb.end < ea.end || eb.end-eb.start <= ea.end-ea.start {
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
			if ea.ent.kind == entVeto {
				ea.dead = true
			}
		}
		i = j
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
		for x := lo; x <= hi && !found; x++ {
			found = sc.masks[t*ns+x]&bit != 0
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
// enough.
func (c *Classifier) distinctActors(sc *scratch, lo, hi, enough int) int {
	sc.seen = sc.seen[:0]
	for _, a := range sc.actorHits[sc.actorFrom[lo]:sc.actorFrom[hi+1]] {
		if !slices.Contains(sc.seen, a) {
			sc.seen = append(sc.seen, a)
			if len(sc.seen) >= enough {
				break
			}
		}
	}
	return len(sc.seen)
}

// placement is the weight of evidence in span s for topic t.
func (c *Classifier) placement(sc *scratch, t *topic, s int) float64 {
	sp := &sc.norm.spans[s]
	if sp.field == fieldTitle {
		return t.def.TitleWeight
	}
	if int(sc.textIdx[s]) < t.def.LeadSentences {
		return t.def.LeadWeight
	}
	return t.def.BodyWeight
}

// score turns firings into contributions and per-topic scores.
func (c *Classifier) score(sc *scratch, ns int) {
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
					place = c.placement(sc, tp, int(f.span))
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
		if fs[i].failed < 0 {
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
	sc.seen = sc.seen[:0]     // pattern ids met in this feature, in order
	reps := sc.reps[:0]       // firings per seen term so far
	spansSeen := sc.spans[:0] // sentences already counted for this feature
	for k, idx := range sc.order {
		fr := &fs[idx]
		if k == 0 || fs[sc.order[k-1]].topic != fr.topic || fs[sc.order[k-1]].feature != fr.feature {
			sc.seen, reps, spansSeen = sc.seen[:0], reps[:0], spansSeen[:0]
		}
		def := &c.topics[fr.topic].def
		if slices.Contains(spansSeen, fr.span) {
			fr.contrib *= def.RepeatDecay
		} else {
			spansSeen = append(spansSeen, fr.span)
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
	sc.reps, sc.spans = reps, spansSeen
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
		if fs[i].failed < 0 && sc.textIdx[fs[i].span] >= int32(c.topics[fs[i].topic].def.LeadSentences) {
			fs[i].contrib *= sc.bodyScale[fs[i].topic]
		}
	}
	// Density of evidence over the text's sentences.
	for t := range c.topics {
		tp := &c.topics[t]
		if tp.def.Density.Weight == 0 {
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
// the evidence that produced it, strongest first.
func (c *Classifier) Classify(title, text string) []events.Topic {
	sc := c.pool.Get().(*scratch)
	defer c.pool.Put(sc)
	c.evaluate(title, text, sc)
	var out []events.Topic
	for t := range c.topics {
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
			ev = append(ev, events.Evidence{
				Term:     c.termOf(sc, f, title, text),
				Weight:   round3(f.contrib),
				Field:    fieldName(sc.norm.spans[f.span].field),
				Sentence: sentenceOf(sc.norm.spans[f.span], title, text),
			})
		}
		out = append(out, events.Topic{Name: tp.def.Name, Score: round3(sc.scores[t]), Threshold: tp.def.Threshold, Evidence: ev})
	}
	return out
}

func fieldName(f uint8) string {
	if f == fieldTitle {
		return "title"
	}
	return "text"
}

// maxSentence bounds a quoted evidence sentence, in bytes.
const maxSentence = 400

func sentenceOf(sp span, title, text string) string {
	s := text
	if sp.field == fieldTitle {
		s = title
	}
	out := strings.TrimSpace(s[sp.oStart:sp.oEnd])
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
func (c *Classifier) termOf(sc *scratch, f *firing, title, text string) string {
	h := &sc.ehits[f.hit]
	b := sc.termBuf[:0]
	if h.ent.kind == entActor {
		b = append(b, c.actors[h.ent.actor].id...)
	} else {
		end := int(h.end)
		for end < len(sc.norm.buf) && isWordByte(sc.norm.buf[end]) {
			end++ // show the whole word a prefix term matched
		}
		b = append(b, sc.norm.buf[h.start:end]...)
	}
	ft := &c.topics[f.topic].features[f.feature]
	for _, r := range ft.requires {
		if r.actors == 0 {
			continue
		}
		lo, hi := scopeOf(r.scope, int(f.span), len(sc.norm.spans))
		b = append(b, " ["...)
		sc.seen = sc.seen[:0]
		for _, a := range sc.actorHits[sc.actorFrom[lo]:sc.actorFrom[hi+1]] {
			if slices.Contains(sc.seen, a) {
				continue
			}
			if len(sc.seen) > 0 {
				b = append(b, ", "...)
			}
			sc.seen = append(sc.seen, a)
			b = append(b, c.actors[a].id...)
		}
		b = append(b, ']')
		break
	}
	sc.termBuf = b
	return string(b)
}

package topics

import (
	"math"
	"math/bits"
	"slices"
	"strconv"

	"github.com/newswatch/newswatch/pkg/scan"
)

// FeatureOptions says which features a learned model reads. Training
// chooses them by cross-validation and stores them in the model, so the
// analyzer extracts exactly what the weights were learned on.
type FeatureOptions struct {
	// LeadSentences is how many text sentences after the title the word
	// features read; the title is always read. Word features stop there so
	// a long article's body does not drown its subject, and so that full
	// articles look like the headline-and-teaser items the model learned
	// from. The taxonomy and actor features read the whole text.
	LeadSentences int `json:"lead_sentences"`
	// Bigrams adds adjacent word pairs to single words.
	Bigrams bool `json:"bigrams"`
	// WordNorm scales word features by 1/sqrt(number of distinct ones),
	// as a length-normalised bag of words.
	WordNorm bool `json:"word_norm"`
	// Taxonomy adds the taxonomy's features (fired, blocked) and each
	// topic's hand-weighted score.
	Taxonomy bool `json:"taxonomy"`
	// Actors adds counts of distinct states, alliances and defence firms
	// and taxonomy features that co-occur with two or more of them.
	Actors bool `json:"actors"`
}

// Prefixes of feature names, one per family (docs/topics.md).
const (
	prefixWord    = "w:"          // a word or word pair of the title or lead
	prefixFired   = "tx:"         // a taxonomy feature fired: tx:topic/feature
	prefixBlocked = "tx-blocked:" // occurred but its requirement failed
	prefixScore   = "tx-score:"   // a topic's hand-weighted taxonomy score
	prefixActors  = "actors:"     // counts of distinct actors by kind
	prefixCo      = "co:"         // a taxonomy feature in a sentence with 2+ actors
)

// Kinds of feature values, for explanations.
const (
	fvWord = iota
	fvTaxonomy
	fvScore
	fvActors
)

// fval is one feature of an article: its hashed name, value and where it
// came from (the sentence, and the taxonomy occurrence when there is one).
type fval struct {
	key  uint64
	val  float64
	span int32
	hit  int32 // index in sc.ehits, -1 for none
	kind uint8
}

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

func fnvBytes(h uint64, b []byte) uint64 {
	for _, c := range b {
		h ^= uint64(c)
		h *= fnvPrime
	}
	return h
}

func fnvString(h uint64, s string) uint64 {
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= fnvPrime
	}
	return h
}

// featureKey is the hash of a feature name, how models index weights.
func featureKey(name string) uint64 { return fnvString(fnvOffset, name) }

// featureKeys are the precomputed keys of the taxonomy-derived features.
type featureKeys struct {
	fired, blocked, co [][]uint64 // [topic][feature]
	score              []uint64   // [topic]
	actors             map[string]uint64
	names              map[uint64]string // every name above, for training
}

func (c *Classifier) buildFeatureKeys() {
	k := &c.keys
	k.names = map[uint64]string{}
	add := func(name string) uint64 {
		key := featureKey(name)
		k.names[key] = name
		return key
	}
	for _, tp := range c.topics {
		var fired, blocked, co []uint64
		for _, f := range tp.features {
			id := tp.def.Name + "/" + f.name
			fired = append(fired, add(prefixFired+id))
			blocked = append(blocked, add(prefixBlocked+id))
			co = append(co, add(prefixCo+id))
		}
		k.fired, k.blocked, k.co = append(k.fired, fired), append(k.blocked, blocked), append(k.co, co)
		k.score = append(k.score, add(prefixScore+tp.def.Name))
	}
	k.actors = map[string]uint64{}
	for _, n := range actorFeatureNames() {
		k.actors[n] = add(prefixActors + n)
	}
}

// actorFeatureNames are the actor-count features: distinct states in the
// title and lead (1, 2, 3 or more), an alliance or a defence firm named
// there, and a sentence naming two or more distinct actors.
func actorFeatureNames() []string {
	return []string{"states=1", "states=2", "states>=3", "alliance", "industry", "state+alliance", "pair-in-sentence"}
}

// maxCounted bounds the distinct actors counted per sentence.
const maxCounted = 4

// inLead reports whether sentence s is the title or one of the first n
// counted text sentences.
func inLead(d *scan.Doc, sc *scratch, s, n int) bool {
	if d.Sentences[s].Field == scan.FieldTitle {
		return true
	}
	return sc.textIdx[s] >= 0 && int(sc.textIdx[s]) < n
}

// placeFactor weighs where a taxonomy feature occurred: 1 in the title or
// lead, 0.5 in the body.
func (c *Classifier) placeFactor(d *scan.Doc, sc *scratch, s, lead int) float64 {
	if inLead(d, sc, s, lead) {
		return 1
	}
	return 0.5
}

// extract computes the features of an evaluated article into sc.fv, sorted
// by key with one value per key. When names is not nil it also records the
// name of every key (training).
func (c *Classifier) extract(d *scan.Doc, sc *scratch, o *FeatureOptions, names map[uint64]string) {
	fv := sc.fv[:0]
	ns := len(d.Sentences)
	// Words and word pairs of the title and lead.
	nWords := 0
	base := fnvString(fnvOffset, prefixWord)
	for s := range ns {
		if !inLead(d, sc, s, o.LeadSentences) {
			continue
		}
		sn := &d.Sentences[s]
		prev := uint64(0)
		var prevTok []byte
		for ti := sn.FirstToken; ti < sn.EndToken; ti++ {
			t := &d.Tokens[ti]
			tok := d.Buf[t.NStart:t.NEnd]
			if allDigits(tok) {
				tok = zero
			}
			h := fnvBytes(base, tok)
			fv = append(fv, fval{key: h, val: 1, span: int32(s), hit: -1, kind: fvWord})
			if names != nil {
				names[h] = prefixWord + string(tok)
			}
			if o.Bigrams && prev != 0 {
				hb := fnvBytes(fnvBytes(prev, space), tok)
				fv = append(fv, fval{key: hb, val: 1, span: int32(s), hit: -1, kind: fvWord})
				if names != nil {
					names[hb] = prefixWord + string(prevTok) + " " + string(tok)
				}
			}
			prev, prevTok = h, tok
		}
	}
	nWords = len(fv)
	if o.Taxonomy {
		for i := range sc.firings {
			f := &sc.firings[i]
			key := c.keys.fired[f.topic][f.feature]
			if f.failed >= 0 {
				key = c.keys.blocked[f.topic][f.feature]
			}
			fv = append(fv, fval{key: key, val: c.placeFactor(d, sc, int(f.span), o.LeadSentences), span: f.span, hit: f.hit, kind: fvTaxonomy})
		}
		for t := range c.topics {
			v := sc.scores[t] / max(c.topics[t].def.Threshold, 0.1)
			v = min(max(v, -2), 3)
			if v != 0 {
				fv = append(fv, fval{key: c.keys.score[t], val: v, span: c.strongestSpan(sc, t), hit: -1, kind: fvScore})
			}
		}
	}
	if o.Actors {
		fv = c.actorFeatures(d, sc, o, fv)
	}
	// One value per key: the largest, from its first sentence.
	slices.SortStableFunc(fv, func(a, b fval) int {
		switch {
		case a.key < b.key:
			return -1
		case a.key > b.key:
			return 1
		}
		return 0
	})
	out := fv[:0]
	words := 0
	for i := range fv {
		if n := len(out); n > 0 && out[n-1].key == fv[i].key {
			if fv[i].val > out[n-1].val {
				out[n-1].val, out[n-1].span, out[n-1].hit = fv[i].val, fv[i].span, fv[i].hit
			}
			continue
		}
		out = append(out, fv[i])
		if fv[i].kind == fvWord {
			words++
		}
	}
	if o.WordNorm && words > 0 && nWords > 0 {
		w := 1 / math.Sqrt(float64(words))
		for i := range out {
			if out[i].kind == fvWord {
				out[i].val = w
			}
		}
	}
	sc.fv = out
}

var (
	zero  = []byte("0")
	space = []byte(" ")
)

func allDigits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return len(b) > 0
}

// strongestSpan is the sentence of topic t's strongest fired evidence, or
// the title.
func (c *Classifier) strongestSpan(sc *scratch, t int) int32 {
	best, span := 0.0, int32(0)
	for i := range sc.firings {
		f := &sc.firings[i]
		if int(f.topic) == t && f.failed < 0 && math.Abs(f.contrib) > best {
			best, span = math.Abs(f.contrib), f.span
		}
	}
	return span
}

// actorFeatures appends the actor-count and co-occurrence features.
func (c *Classifier) actorFeatures(d *scan.Doc, sc *scratch, o *FeatureOptions, fv []fval) []fval {
	ns := len(d.Sentences)
	states := sc.seen[:0] // distinct states of title and lead
	firstState := int32(-1)
	var alliance, industry, pair int32 = -1, -1, -1
	var local [maxCounted]int32
	for s := range ns {
		lead := inLead(d, sc, s, o.LeadSentences)
		n := 0
		for k := sc.actorFrom[s]; k < sc.actorFrom[s+1]; k++ {
			home := sc.actorHits[k]
			if n < maxCounted && !slices.Contains(local[:n], home) {
				local[n] = home
				n++
			}
			if !lead {
				continue
			}
			switch c.actors[sc.actorRaw[k]].kind {
			case "alliance":
				if alliance < 0 {
					alliance = int32(s)
				}
			case "industry":
				if industry < 0 {
					industry = int32(s)
				}
			}
			if c.actors[home].kind == "state" && !slices.Contains(states, home) {
				states = append(states, home)
				if firstState < 0 {
					firstState = int32(s)
				}
			}
		}
		if n < 2 {
			continue
		}
		if lead && pair < 0 {
			pair = int32(s)
		}
		place := c.placeFactor(d, sc, s, o.LeadSentences)
		for t := range c.topics {
			m := sc.masks[t*ns+s]
			for m != 0 {
				f := bits.TrailingZeros64(m)
				m &^= 1 << uint(f)
				fv = append(fv, fval{key: c.keys.co[t][f], val: place, span: int32(s), hit: -1, kind: fvActors})
			}
		}
	}
	sc.seen = states
	add := func(name string, span int32) {
		if span >= 0 {
			fv = append(fv, fval{key: c.keys.actors[name], val: 1, span: span, hit: -1, kind: fvActors})
		}
	}
	switch n := len(states); {
	case n == 1:
		add("states=1", firstState)
	case n == 2:
		add("states=2", firstState)
	case n >= 3:
		add("states>=3", firstState)
	}
	add("alliance", alliance)
	add("industry", industry)
	if len(states) > 0 && alliance >= 0 {
		add("state+alliance", alliance)
	}
	add("pair-in-sentence", pair)
	return fv
}

// featureLabel is what an explanation shows for a feature: the words for
// a word feature, the feature name otherwise.
func featureLabel(name string) string {
	if len(name) > len(prefixWord) && name[:len(prefixWord)] == prefixWord {
		return strconv.Quote(name[len(prefixWord):])
	}
	return name
}

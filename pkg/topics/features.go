package topics

import (
	"math"
	"math/bits"
	"slices"
	"strconv"
	"strings"

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
	// Stem folds plural and -ing endings of words ("drills", "drilling"
	// read as "drill"), so rare forms share what common ones learned.
	Stem bool `json:"stem,omitempty"`
	// WordNorm scales word features by 1/sqrt(number of distinct ones),
	// as a length-normalised bag of words.
	WordNorm bool `json:"word_norm"`
	// TitleWords adds the title's words once more as title features, so a
	// word can weigh more in the title than in the lead.
	TitleWords bool `json:"title_words"`
	// Taxonomy adds the taxonomy's features (fired, blocked).
	Taxonomy bool `json:"taxonomy"`
	// TitleTaxonomy adds the taxonomy features of the title once more as
	// title features (title-tx:, title-tx-blocked:), so a feature can weigh
	// more in the headline than in the teaser, as TitleWords does for
	// words.
	TitleTaxonomy bool `json:"title_taxonomy,omitempty"`
	// Actors adds counts of distinct states, alliances and defence firms
	// and taxonomy features that co-occur with two or more of them.
	Actors bool `json:"actors"`
	// Clusters adds each word's cluster, at every level of the built-in
	// word clusters (clusters.go), as a feature of the part (cl<k>:<id>),
	// and a title word's once more as a title feature (title-cl<k>:<id>):
	// words of like meaning share what any of them learned, so a word
	// the labelled items never used still counts by its neighbours.
	Clusters bool `json:"clusters,omitempty"`
	// Spelling reads a British spelling as the American one
	// (spelling.txt: "defence" as "defense", "mobilise" as "mobilize")
	// in word features: most labelled items are American news, and
	// analysts read British and Indian outlets too.
	Spelling bool `json:"spelling,omitempty"`
}

// Prefixes of feature names, one per family (docs/topics.md).
const (
	prefixWord         = "w:"                // a word or word pair of the title or lead
	prefixTitle        = "title:"            // a word of the title
	prefixFired        = "tx:"               // a taxonomy feature fired: tx:topic/feature
	prefixBlocked      = "tx-blocked:"       // occurred but its requirement failed
	prefixTitleFired   = "title-tx:"         // a taxonomy feature fired in the title
	prefixTitleBlocked = "title-tx-blocked:" // blocked in the title
	prefixActors       = "actors:"           // counts of distinct actors by kind
	prefixCo           = "co:"               // a taxonomy feature in a sentence with 2+ actors
	prefixLead2        = "lead2:"            // a taxonomy feature in a title and lead with 2+ actors
	prefixCluster      = "cl"                // a word's cluster: cl<k>:<id>
	prefixTitleCluster = "title-cl"          // a title word's cluster: title-cl<k>:<id>
)

// Kinds of feature values, for explanations.
const (
	fvWord = iota
	fvTaxonomy
	fvActors
	fvCluster
)

// fval is one feature of an article: its hashed name, value and where it
// came from (the sentence, and the taxonomy occurrence when there is one).
type fval struct {
	key  uint64
	val  float64
	span int32
	hit  int32 // index in sc.ehits, -1 for none
	row  int32 // at inference: the model's row for key
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
	fired, blocked, co, lead2 [][]uint64        // [topic][feature]
	titleFired, titleBlocked  [][]uint64        // [topic][feature]
	actors                    []uint64          // by actorFeatureNames index
	cluster, titleCluster     [][]uint64        // [level][cluster id]
	names                     map[uint64]string // every name above, for training
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
		var fired, blocked, co, lead2, tFired, tBlocked []uint64
		for _, f := range tp.features {
			id := tp.def.Name + "/" + f.name
			fired = append(fired, add(prefixFired+id))
			blocked = append(blocked, add(prefixBlocked+id))
			co = append(co, add(prefixCo+id))
			lead2 = append(lead2, add(prefixLead2+id))
			tFired = append(tFired, add(prefixTitleFired+id))
			tBlocked = append(tBlocked, add(prefixTitleBlocked+id))
		}
		k.fired, k.blocked, k.co, k.lead2 = append(k.fired, fired), append(k.blocked, blocked), append(k.co, co), append(k.lead2, lead2)
		k.titleFired, k.titleBlocked = append(k.titleFired, tFired), append(k.titleBlocked, tBlocked)
	}
	for _, n := range actorFeatureNames() {
		k.actors = append(k.actors, add(prefixActors+n))
	}
	for _, n := range c.clusters.Levels() {
		cl, tcl := make([]uint64, n), make([]uint64, n)
		for id := range n {
			cl[id] = add(clusterName(prefixCluster, n, id))
			tcl[id] = add(clusterName(prefixTitleCluster, n, id))
		}
		k.cluster, k.titleCluster = append(k.cluster, cl), append(k.titleCluster, tcl)
	}
}

// actorFeatureNames are the actor-count features: distinct states in the
// title and lead (1, 2, 3 or more), an alliance or a defence firm named
// there, and a sentence naming two or more distinct actors.
func actorFeatureNames() []string {
	return []string{"states=1", "states=2", "states>=3", "alliance", "industry", "state+alliance", "pair-in-sentence"}
}

// Indexes of actorFeatureNames.
const (
	actStates1 = iota
	actStates2
	actStates3
	actAlliance
	actIndustry
	actStateAlliance
	actPair
)

// rowOf returns the model row of a taxonomy-derived feature at inference
// (rows were resolved when the model was compiled), or -1 and true in
// training, where every feature is kept; false means the model has no
// weight for it.
func rowOf(rows [][]int32, t, f int, known bool) (int32, bool) {
	if !known {
		return -1, true
	}
	r := rows[t][f]
	return r, r >= 0
}

// maxCounted bounds the distinct actors counted per sentence.
const maxCounted = 4

// slot is an entry of scratch's open-addressing table of feature keys.
type slot struct {
	key uint64
	gen uint32
	idx int32
}

// resetTable readies scratch's open-addressing table for n entries and
// returns its mask: the table is reused across calls and cleared by
// generation, not by zeroing, and kept at most half full.
func (sc *scratch) resetTable(n int) uint64 {
	size := 64
	for size < 2*n {
		size *= 2
	}
	if len(sc.table) < size {
		sc.table = make([]slot, size)
		sc.gen = 0
	}
	sc.gen++
	if sc.gen == 0 {
		clear(sc.table)
		sc.gen = 1
	}
	return uint64(len(sc.table) - 1)
}

// dedupe keeps one value per key, in first-seen order: the largest, from
// the first sentence that has it. It runs in linear time with a hash
// table reused across calls (cleared by generation, not by zeroing). It
// returns the result, reusing fv's array, and the number of word features.
func (sc *scratch) dedupe(fv []fval) ([]fval, int) {
	mask := sc.resetTable(len(fv))
	out := fv[:0]
	words := 0
	for i := range fv {
		f := fv[i]
		for h := (f.key * 0x9E3779B97F4A7C15) >> 20; ; h++ {
			s := &sc.table[h&mask]
			if s.gen != sc.gen {
				s.gen, s.key, s.idx = sc.gen, f.key, int32(len(out))
				out = append(out, f)
				if f.kind == fvWord {
					words++
				}
				break
			}
			if s.key == f.key {
				if o := &out[s.idx]; f.val > o.val {
					o.val, o.span, o.hit = f.val, f.span, f.hit
				}
				break
			}
		}
	}
	return out, words
}

// dedupeRows is dedupe at inference, where extract kept only features
// the model has a weight for, each with its row: duplicates are the
// features of one row, found by the row's stamp (newStampGen), so the cost
// per feature is constant and the memory is the model's, however long
// the part.
func (sc *scratch) dedupeRows(l *learned, fv []fval) ([]fval, int) {
	sc.newStampGen(l)
	stamp, gen, at := sc.rowStamp, sc.stampGen, sc.rowAt
	out := fv[:0]
	words := 0
	for i := range fv {
		f := fv[i] // extract kept only features with a row
		if stamp[f.row] != gen {
			stamp[f.row], at[f.row] = gen, int32(len(out))
			out = append(out, f)
			if f.kind == fvWord {
				words++
			}
			continue
		}
		if o := &out[at[f.row]]; f.val > o.val {
			o.val, o.span, o.hit = f.val, f.span, f.hit
		}
	}
	return out, words
}

// counted reports whether sentence s is evidence: the title or a text
// sentence that is not boilerplate.
func counted(d *scan.Doc, sc *scratch, s int) bool {
	return d.Sentences[s].Field == scan.FieldTitle || sc.textIdx[s] >= 0
}

// leadEnd is the index of the first sentence after the title and the
// first n counted text sentences.
func leadEnd(d *scan.Doc, sc *scratch, n int) int {
	for s := range d.Sentences {
		if d.Sentences[s].Field == scan.FieldText && sc.textIdx[s] >= int32(n) {
			return s
		}
	}
	return len(d.Sentences)
}

// extract computes the features of sentences lo..hi-1 of an evaluated
// article (a part: the title and lead, or a passage of the body) into
// sc.fv, one value per key. Every feature is computed from the part alone,
// so a passage is read like a headline with its teaser. When names is not
// nil it also records the name of every key (training).
func (c *Classifier) extract(d *scan.Doc, sc *scratch, o *FeatureOptions, lo, hi int, names map[uint64]string) {
	known := c.knownIndex(o, names)
	fv := c.collect(d, sc, o, lo, hi, names, known)
	// One value per key: the largest, from its first sentence.
	var out []fval
	var words int
	if known != nil {
		out, words = sc.dedupeRows(c.model, fv)
	} else {
		out, words = sc.dedupe(fv)
	}
	if o.WordNorm && words > 0 {
		w := 1 / math.Sqrt(float64(words))
		for i := range out {
			if out[i].kind == fvWord {
				out[i].val = w
			}
		}
	}
	sc.fv, sc.fvPart = out, part{int32(lo), int32(hi)}
}

// knownIndex is the index extract keeps features of: at inference a word
// the model has no weight for adds nothing, so it is skipped (unless word
// features are length-normalised, when every word counts in the norm).
// Nil means every feature is kept.
func (c *Classifier) knownIndex(o *FeatureOptions, names map[uint64]string) *keyIndex {
	if names == nil && c.model != nil && !o.WordNorm {
		return &c.model.index
	}
	return nil
}

// collect appends the features of sentences lo..hi-1 to sc.fv[:0] and
// returns them, duplicates included, in the order extract's result keeps.
func (c *Classifier) collect(d *scan.Doc, sc *scratch, o *FeatureOptions, lo, hi int, names map[uint64]string, known *keyIndex) []fval {
	fv := sc.fv[:0]
	var pairs []uint8
	if known != nil {
		pairs = c.model.pair
	}
	sc.useCache(known)
	// Words and word pairs.
	base := fnvString(fnvOffset, prefixWord)
	tbase := fnvString(fnvOffset, prefixTitle)
	// At inference the tokens were resolved to rows once per article
	// (wordrows.go), and a passage's words may have been summed already.
	hashWords := !c.wordRowsReady(sc, known)
	if !hashWords && !sc.wordsSummed {
		fv = c.appendWordRows(d, sc, o, lo, hi, fv)
	}
	for s := lo; s < hi && hashWords; s++ {
		if !counted(d, sc, s) {
			continue
		}
		sn := &d.Sentences[s]
		prev := uint64(0)
		prevKnown := false
		prevRow := int32(-1)
		var prevTok []byte
		for ti := sn.FirstToken; ti < sn.EndToken; ti++ {
			t := &d.Tokens[ti]
			tok := d.Buf[t.NStart:t.NEnd]
			tok, h := wordKey(base, tok, o)
			row, isKnown := sc.findCached(known, h)
			if isKnown {
				fv = append(fv, fval{key: h, val: 1, span: int32(s), hit: -1, row: row, kind: fvWord})
			}
			if names != nil {
				names[h] = prefixWord + string(tok)
			}
			if o.TitleWords && sn.Field == scan.FieldTitle {
				ht := fnvBytes(tbase, tok)
				if row, ok := sc.findCached(known, ht); ok {
					fv = append(fv, fval{key: ht, val: 1, span: int32(s), hit: -1, row: row, kind: fvWord})
				}
				if names != nil {
					names[ht] = prefixTitle + string(tok)
				}
			}
			// A pair is in the model only if its first word is the first
			// word of one of the model's pairs and its second word the
			// second of one (compileModel indexes both), so most pairs
			// cost no hashing and no lookup.
			if o.Bigrams && prev != 0 && prevKnown && isKnown && (pairs == nil || pairs[prevRow]&pairFirst != 0 && pairs[row]&pairSecond != 0) {
				hb := fnvBytes(fnvBytes(prev, space), tok)
				if row, ok := sc.findCached(known, hb); ok {
					fv = append(fv, fval{key: hb, val: 1, span: int32(s), hit: -1, row: row, kind: fvWord})
				}
				if names != nil {
					names[hb] = prefixWord + string(prevTok) + " " + string(tok)
				}
			}
			if o.Clusters {
				if i, ok := c.clusters.Index(d.Buf[t.NStart:t.NEnd]); ok {
					fv = c.clusterFeatures(sc, known, i, int32(s), sn.Field == scan.FieldTitle, fv)
				}
			}
			prev, prevTok, prevKnown, prevRow = h, tok, isKnown, row
		}
	}
	if o.Taxonomy {
		// Firings come in sentence order.
		i, _ := slices.BinarySearchFunc(sc.firings, int32(lo), func(f firing, s int32) int { return int(f.span - s) })
		for ; i < len(sc.firings) && int(sc.firings[i].span) < hi; i++ {
			f := &sc.firings[i]
			key, rows := c.keys.fired[f.topic][f.feature], c.rows.fired
			tkey, trows := c.keys.titleFired[f.topic][f.feature], c.rows.titleFired
			if f.failed >= 0 {
				key, rows = c.keys.blocked[f.topic][f.feature], c.rows.blocked
				tkey, trows = c.keys.titleBlocked[f.topic][f.feature], c.rows.titleBlocked
			}
			if row, ok := rowOf(rows, int(f.topic), int(f.feature), known != nil); ok {
				fv = append(fv, fval{key: key, val: 1, span: f.span, hit: f.hit, row: row, kind: fvTaxonomy})
			}
			if o.TitleTaxonomy && d.Sentences[f.span].Field == scan.FieldTitle {
				if row, ok := rowOf(trows, int(f.topic), int(f.feature), known != nil); ok {
					fv = append(fv, fval{key: tkey, val: 1, span: f.span, hit: f.hit, row: row, kind: fvTaxonomy})
				}
			}
		}
	}
	if o.Actors {
		fv = c.actorFeatures(d, sc, lo, hi, known != nil, fv)
	}
	sc.fv = fv
	return fv
}

// clusterFeatures appends the cluster features of the word whose index in
// the word clusters is i, found in sentence span (a title word's title
// features too): for each level its cluster, then its title cluster, the
// order appendWordRows keeps.
func (c *Classifier) clusterFeatures(sc *scratch, known *keyIndex, i int32, span int32, title bool, fv []fval) []fval {
	for j, id := range c.clusters.IDs(i) {
		key := c.keys.cluster[j][id]
		if row, ok := sc.findCached(known, key); ok {
			fv = append(fv, fval{key: key, val: 1, span: span, hit: -1, row: row, kind: fvCluster})
		}
		if title {
			key := c.keys.titleCluster[j][id]
			if row, ok := sc.findCached(known, key); ok {
				fv = append(fv, fval{key: key, val: 1, span: span, hit: -1, row: row, kind: fvCluster})
			}
		}
	}
	return fv
}

var (
	zero  = []byte("0")
	space = []byte(" ")
)

// wordKey folds a token as word features read it, a number as "0", a
// British spelling as the American one when o.Spelling is set and other
// words stemmed when o.Stem is, and returns it with its key: the FNV-1a
// hash continued from base. A stemmed word lost letters, so it was not a
// number; otherwise one pass hashes it and checks for digits.
func wordKey(base uint64, tok []byte, o *FeatureOptions) ([]byte, uint64) {
	if o.Spelling {
		if us, ok := americanSpellings()[string(tok)]; ok {
			tok = us
		}
	}
	if o.Stem {
		if st := stemWord(tok); len(st) < len(tok) {
			return st, fnvBytes(base, st)
		}
	}
	h, digits := base, len(tok) > 0
	for _, c := range tok {
		digits = digits && c >= '0' && c <= '9'
		h ^= uint64(c)
		h *= fnvPrime
	}
	if digits {
		return zero, fnvBytes(base, zero)
	}
	return tok, h
}

// actorFeatures appends the actor-count and co-occurrence features of
// sentences lo..hi-1.
func (c *Classifier) actorFeatures(d *scan.Doc, sc *scratch, lo, hi int, known bool, fv []fval) []fval {
	ns := len(d.Sentences)
	states := sc.seen[:0] // distinct states of the part
	firstState := int32(-1)
	var alliance, industry, pair int32 = -1, -1, -1
	var local, partActors [maxCounted]int32
	nPart := 0
	var partMask [maxTopicsCounted]uint64
	for s := lo; s < hi; s++ {
		n := 0
		for k := sc.actorFrom[s]; k < sc.actorFrom[s+1]; k++ {
			home := sc.actorHits[k]
			if n < maxCounted && !slices.Contains(local[:n], home) {
				local[n] = home
				n++
			}
			if nPart < maxCounted && !slices.Contains(partActors[:nPart], home) {
				partActors[nPart] = home
				nPart++
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
		for t := range min(len(c.topics), maxTopicsCounted) {
			partMask[t] |= sc.masks[t*ns+s]
		}
		if n < 2 {
			continue
		}
		if pair < 0 {
			pair = int32(s)
		}
		for t := range c.topics {
			m := sc.masks[t*ns+s]
			for m != 0 {
				f := bits.TrailingZeros64(m)
				m &^= 1 << uint(f)
				if row, ok := rowOf(c.rows.co, t, f, known); ok {
					fv = append(fv, fval{key: c.keys.co[t][f], val: 1, span: int32(s), hit: -1, row: row, kind: fvActors})
				}
			}
		}
	}
	sc.seen = states
	// Taxonomy features of a part that names two or more distinct actors:
	// "two states and a military subject" across a headline and its
	// teaser, not only within one sentence.
	if nPart >= 2 {
		for t := range min(len(c.topics), maxTopicsCounted) {
			m := partMask[t]
			for m != 0 {
				f := bits.TrailingZeros64(m)
				m &^= 1 << uint(f)
				if row, ok := rowOf(c.rows.lead2, t, f, known); ok {
					fv = append(fv, fval{key: c.keys.lead2[t][f], val: 1, span: int32(lo), hit: -1, row: row, kind: fvActors})
				}
			}
		}
	}
	add := func(a int, span int32) {
		if span < 0 {
			return
		}
		if row, ok := rowOf(c.rows.actors, 0, a, known); ok {
			fv = append(fv, fval{key: c.keys.actors[a], val: 1, span: span, hit: -1, row: row, kind: fvActors})
		}
	}
	switch n := len(states); {
	case n == 1:
		add(actStates1, firstState)
	case n == 2:
		add(actStates2, firstState)
	case n >= 3:
		add(actStates3, firstState)
	}
	add(actAlliance, alliance)
	add(actIndustry, industry)
	if len(states) > 0 && alliance >= 0 {
		add(actStateAlliance, alliance)
	}
	add(actPair, pair)
	return fv
}

// maxTopicsCounted bounds the topics whose part-level co-occurrence
// features are computed.
const maxTopicsCounted = 16

// appendFeatureLabel appends what an explanation shows for a feature to
// b: the words for a word feature, the feature name otherwise.
func appendFeatureLabel(b []byte, name string) []byte {
	if w, ok := strings.CutPrefix(name, prefixWord); ok {
		return strconv.AppendQuote(b, w)
	}
	if w, ok := strings.CutPrefix(name, prefixTitle); ok {
		return append(strconv.AppendQuote(b, w), " in the title"...)
	}
	return append(b, name...)
}

// stemWord strips a plural or -ing ending: a light, deterministic fold, not a
// linguistic stemmer.
func stemWord(w []byte) []byte {
	n := len(w)
	switch {
	case n > 5 && string(w[n-3:]) == "ing":
		return w[:n-3]
	case n > 4 && string(w[n-3:]) == "ies":
		return w[:n-2] // "militias" stays, "parties" -> "parti"
	case n > 3 && w[n-1] == 's' && w[n-2] != 's' && w[n-2] != 'u' && w[n-2] != 'i':
		return w[:n-1]
	}
	return w
}

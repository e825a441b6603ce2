package topics

import (
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
)

// ErrModel is wrapped by every error about an invalid topic model.
var ErrModel = errors.New("topics: invalid model")

// ModelVersion is the version of the model file format.
const ModelVersion = 1

//go:embed model.json
var defaultModelJSON []byte

// Model is a learned topic model: per topic, the weights of a logistic
// regression over named features, the decision threshold chosen by
// cross-validation, and the feature options every topic of the file shares.
// `newswatch topics train` writes it; docs/topics.md describes it.
type Model struct {
	Version  int            `json:"version"`
	Features FeatureOptions `json:"features"`
	Topics   []TopicModel   `json:"topics"`
}

// TopicModel is one topic's learned scorer: the probability of the topic
// is sigmoid(Bias + sum of Weights[name] * value of feature name), and the
// topic is flagged when it reaches Threshold.
type TopicModel struct {
	Name      string  `json:"name"`
	Bias      float64 `json:"bias"`
	Threshold float64 `json:"threshold"`
	// Lambda is the L2 penalty the weights were fitted with.
	Lambda float64 `json:"lambda"`
	// CV is the cross-validated quality measured when training.
	CV *Quality `json:"cv,omitempty"`
	// Positives and Items count the training data.
	Positives int `json:"positives"`
	Items     int `json:"items"`
	// Without lists the feature families of the model's options this
	// topic has no weights for, because cross-validation found it better
	// without them (Train; "clusters").
	Without []string           `json:"without,omitempty"`
	Weights map[string]float64 `json:"weights"`
	// builtin marks a topic of the embedded model: it is scored only when
	// the taxonomy has a topic of its name, so a taxonomy file without the
	// default topics does not get them back. A topic of a model file is
	// scored whether the taxonomy names it or not.
	builtin bool
}

// Quality is precision, recall and F1 at the threshold, and the Brier
// score of the probabilities.
type Quality struct {
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
	F1        float64 `json:"f1"`
	Brier     float64 `json:"brier"`
}

// DefaultModel returns the embedded model learned from the labelled news
// items (docs/topics.md says how to reproduce it).
func DefaultModel() *Model {
	m, err := ParseModel(defaultModelJSON)
	if err != nil {
		panic(fmt.Sprintf("topics: embedded model.json is invalid: %v", err))
	}
	for i := range m.Topics {
		m.Topics[i].builtin = true
	}
	return m
}

// ParseModel decodes and validates a model file.
func ParseModel(b []byte) (*Model, error) {
	var m Model
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%w: %v (write it with `newswatch topics train`)", ErrModel, err)
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return &m, nil
}

// Validate checks the model's version, topics and numbers.
func (m *Model) Validate() error {
	if m.Version != ModelVersion {
		return fmt.Errorf("%w: version %d, want %d (retrain it with `newswatch topics train`)", ErrModel, m.Version, ModelVersion)
	}
	if len(m.Topics) == 0 {
		return fmt.Errorf("%w: no topics", ErrModel)
	}
	seen := map[string]bool{}
	for i, t := range m.Topics {
		switch {
		case t.Name == "":
			return fmt.Errorf("%w: topics[%d]: no name", ErrModel, i)
		case seen[t.Name]:
			return fmt.Errorf("%w: topic %q twice", ErrModel, t.Name)
		case !(t.Threshold > 0 && t.Threshold < 1):
			return fmt.Errorf("%w: topic %q: threshold %g outside (0,1)", ErrModel, t.Name, t.Threshold)
		case math.IsNaN(t.Bias) || math.IsInf(t.Bias, 0):
			return fmt.Errorf("%w: topic %q: bias is not a number", ErrModel, t.Name)
		}
		for name, w := range t.Weights {
			if math.IsNaN(w) || math.IsInf(w, 0) {
				return fmt.Errorf("%w: topic %q: weight of %q is not a number", ErrModel, t.Name, name)
			}
		}
		seen[t.Name] = true
	}
	if m.Features.LeadSentences < 0 {
		return fmt.Errorf("%w: features.lead_sentences %d is negative", ErrModel, m.Features.LeadSentences)
	}
	return nil
}

// Merge returns m with the topics of over added, replacing topics of the
// same name. Both must read the same features.
func (m *Model) Merge(over *Model) (*Model, error) {
	if m.Features != over.Features {
		return nil, fmt.Errorf("%w: its features %+v differ from the built-in model's %+v; train it with `newswatch topics train --grid=false` so it uses the built-in options", ErrModel, over.Features, m.Features)
	}
	out := &Model{Version: m.Version, Features: m.Features}
	names := map[string]bool{}
	for _, t := range over.Topics {
		names[t.Name] = true
	}
	for _, t := range m.Topics {
		if !names[t.Name] {
			out.Topics = append(out.Topics, t)
		}
	}
	out.Topics = append(out.Topics, over.Topics...)
	return out, nil
}

// Marshal encodes the model as indented JSON with sorted weight names, so
// the same training gives the same bytes.
func (m *Model) Marshal() ([]byte, error) {
	b, err := json.MarshalIndent(m, "", " ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// learned is a model compiled against a classifier's taxonomy.
type learned struct {
	opts   FeatureOptions
	topics []learnedTopic
	index  keyIndex  // feature key -> row of weights
	names  []string  // row -> feature name
	w      []float64 // row*len(topics) + topic
	// pair says, per row of a word, whether it is the first (pairFirst)
	// or second (pairSecond) word of a word pair the model has, so that
	// extract hashes and looks up only pairs that can be in it.
	pair []uint8
	// labels holds every row's label (appendFeatureLabel), row r's from labelAt[r] to
	// labelAt[r+1], built once so that evidence costs no quoting.
	labels  string
	labelAt []int32
}

// label is what an explanation shows for the feature of row.
func (l *learned) label(row int32) string { return l.labels[l.labelAt[row]:l.labelAt[row+1]] }

// Bits of learned.pair.
const (
	pairFirst = 1 << iota
	pairSecond
)

type learnedTopic struct {
	name      string
	bias      float64
	threshold float64
	tax       int // index of the taxonomy topic of that name, -1 for none
}

func compileModel(m *Model, c *Classifier) *learned {
	l := &learned{opts: m.Features}
	var use []TopicModel
	for _, t := range m.Topics {
		tax := -1
		for k := range c.topics {
			if c.topics[k].def.Name == t.Name {
				tax = k
			}
		}
		if tax < 0 && t.builtin {
			continue
		}
		use = append(use, t)
		l.topics = append(l.topics, learnedTopic{name: t.Name, bias: t.Bias, threshold: t.Threshold, tax: tax})
	}
	if len(use) == 0 {
		return nil
	}
	nt := len(use)
	seen := map[string]bool{}
	for _, t := range use {
		for name := range t.Weights {
			if !seen[name] {
				seen[name] = true
				l.names = append(l.names, name)
			}
		}
	}
	// Every word of a word pair is in the index (with no weight when the
	// model has none), so that extract can skip looking up the pairs of a
	// word the model does not know.
	for _, name := range slices.Clone(l.names) {
		if w, ok := strings.CutPrefix(name, prefixWord); ok {
			for _, part := range strings.Split(w, " ") {
				if n := prefixWord + part; !seen[n] {
					seen[n] = true
					l.names = append(l.names, n)
				}
			}
		}
	}
	sort.Strings(l.names)
	l.w = make([]float64, len(l.names)*nt)
	keys := make([]uint64, len(l.names))
	for i, name := range l.names {
		keys[i] = featureKey(name)
	}
	l.index = newKeyIndex(keys)
	for ti, t := range use {
		for name, w := range t.Weights {
			row, _ := l.index.lookup(featureKey(name))
			l.w[int(row)*nt+ti] = w
		}
	}
	var labels []byte
	l.labelAt = make([]int32, 0, len(l.names)+1)
	for _, name := range l.names {
		l.labelAt = append(l.labelAt, int32(len(labels)))
		// strconv.AppendQuote grows a short buffer to the exact size it
		// needs, quadratic over many calls: reserve room by doubling.
		if cl, ok := c.clusterLabel(name); ok {
			labels = append(labels, cl...)
			continue
		}
		labels = appendFeatureLabel(slices.Grow(labels, 2*len(name)+16), name)
	}
	l.labelAt = append(l.labelAt, int32(len(labels)))
	l.labels = string(labels)
	l.pair = make([]uint8, len(l.names))
	for _, name := range l.names {
		w, ok := strings.CutPrefix(name, prefixWord)
		if !ok {
			continue
		}
		if a, b, ok := strings.Cut(w, " "); ok {
			ra, _ := l.index.lookup(featureKey(prefixWord + a))
			rb, _ := l.index.lookup(featureKey(prefixWord + b))
			l.pair[ra] |= pairFirst
			l.pair[rb] |= pairSecond
		}
	}
	return l
}

// keyIndex maps feature keys to rows: open addressing with linear
// probing over 8-byte slots (a 32-bit fingerprint and the row), so a
// lookup on the analyzer's hot path costs one cache line. The slot comes
// from the key's low bits after mixing and the fingerprint from its high
// bits, so an unknown key is mistaken for a known one with probability
// about 2^-32 per probe.
type keyIndex struct {
	slots []keySlot
	mask  uint64
}

type keySlot struct {
	fp  uint32
	row int32 // -1: empty
}

func mixKey(k uint64) (slot uint64, fp uint32) {
	h := k * 0x9E3779B97F4A7C15
	return h >> 7, uint32(h>>32) | 1
}

func newKeyIndex(keys []uint64) keyIndex {
	size := 16
	for size < 2*len(keys) {
		size *= 2
	}
	ix := keyIndex{slots: make([]keySlot, size), mask: uint64(size - 1)}
	for i := range ix.slots {
		ix.slots[i].row = -1
	}
	for row, k := range keys {
		h, fp := mixKey(k)
		for ; ; h++ {
			s := &ix.slots[h&ix.mask]
			if s.row < 0 {
				s.fp, s.row = fp, int32(row)
				break
			}
		}
	}
	return ix
}

func (ix *keyIndex) lookup(k uint64) (int32, bool) {
	if len(ix.slots) == 0 {
		return 0, false
	}
	h, fp := mixKey(k)
	for ; ; h++ {
		s := ix.slots[h&ix.mask]
		switch {
		case s.row < 0:
			return 0, false
		case s.fp == fp:
			return s.row, true
		}
	}
}

// rowCacheBits sizes scratch's cache of looked-up keys: 4,096 slots of
// 16 bytes, small enough to stay in the CPU's second-level cache.
const rowCacheBits = 12

// rowCacheSlot is an entry of the cache: a key and its row, -1 when the
// model has no row for it. A zero key is never cached, so an empty slot
// matches nothing.
type rowCacheSlot struct {
	key uint64
	row int32
}

// findCached is ix.lookup through sc's direct-mapped cache of recent
// keys, which useCache(ix) readied. A nil index has every key, at row -1
// (training, where every feature is kept). An article repeats most of its
// words (the 5 KB benchmark article has 117 distinct known words among
// 832), and the cache keeps them, and those of the articles before it,
// out of the model's index, which is too large for the CPU's fast caches.
func (sc *scratch) findCached(ix *keyIndex, k uint64) (int32, bool) {
	if ix == nil {
		return -1, true
	}
	s := &sc.rowCache[(k*0x9E3779B97F4A7C15)>>(64-rowCacheBits)]
	if s.key == k && k != 0 {
		return s.row, s.row >= 0
	}
	return s.fill(ix, k)
}

// fill looks k up in ix and caches the answer in s.
func (s *rowCacheSlot) fill(ix *keyIndex, k uint64) (int32, bool) {
	row, ok := ix.lookup(k)
	if !ok {
		row = -1
	}
	s.key, s.row = k, row
	return row, ok
}

// useCache readies sc's cache for lookups in ix (nil: none). The cache
// belongs to one index: it is emptied when sc meets another.
func (sc *scratch) useCache(ix *keyIndex) {
	if ix == nil || sc.cacheFor == ix && sc.rowCache != nil {
		return
	}
	if sc.rowCache == nil {
		sc.rowCache = make([]rowCacheSlot, 1<<rowCacheBits)
	} else {
		clear(sc.rowCache)
	}
	sc.cacheFor = ix
}

// featureRows are the model rows of the taxonomy-derived features, resolved
// once when the model is compiled so the hot path looks up only words;
// -1 where the model has no weight.
type featureRows struct {
	fired, blocked, co, lead2 [][]int32
	titleFired, titleBlocked  [][]int32
	actors                    [][]int32 // one list, by actorFeatureNames index
	cluster, titleCluster     [][]int32 // [level][cluster id]
}

func (c *Classifier) buildFeatureRows() featureRows {
	var r featureRows
	if c.model == nil {
		return r
	}
	rowsOf := func(keys [][]uint64) [][]int32 {
		out := make([][]int32, len(keys))
		for t, ks := range keys {
			for _, k := range ks {
				row, ok := c.model.index.lookup(k)
				if !ok {
					row = -1
				}
				out[t] = append(out[t], row)
			}
		}
		return out
	}
	r.fired, r.blocked = rowsOf(c.keys.fired), rowsOf(c.keys.blocked)
	r.co, r.lead2 = rowsOf(c.keys.co), rowsOf(c.keys.lead2)
	r.titleFired, r.titleBlocked = rowsOf(c.keys.titleFired), rowsOf(c.keys.titleBlocked)
	r.actors = rowsOf([][]uint64{c.keys.actors})
	r.cluster, r.titleCluster = rowsOf(c.keys.cluster), rowsOf(c.keys.titleCluster)
	return r
}

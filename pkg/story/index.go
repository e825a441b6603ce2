// Package story gives copies of one news story the same story id: wire copy
// republished by several outlets, rewrites under a new headline, trimmed web
// versions. Different stories about the same event (two reports from one
// summit) keep their own ids.
//
// Articles are compared by MinHash signatures of their word shingles. Each
// article is recorded once, in one compact key of a JetStream key-value
// bucket (its signature, publication time and story). Every Index holds the
// recent records in memory, found through a locality-sensitive hashing band
// table, and keeps it current by watching the bucket; the bucket's order of
// records decides every story, so several analyzers sharing the bucket, and
// a restarted one, give the same answers. docs/entities.md has the details.
package story

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/newswatch/newswatch/pkg/events"
)

// Defaults; docs/entities.md (section Stories) explains the threshold.
const (
	DefaultThreshold = 0.25
	DefaultWindow    = 72 * time.Hour
	// defaultTimeout bounds Assign when the caller's context has no deadline.
	defaultTimeout = 10 * time.Second
	// maxBandMembers is how many of the most recent articles of one band
	// are looked at, so that text every article shares (boilerplate that
	// survived extraction) cannot make a lookup scan the whole index.
	maxBandMembers = 64
	// maxCandidates bounds the signature comparisons per article.
	maxCandidates = 16
)

// ErrStore reports a key-value bucket failure; Assign wraps the KV error.
var ErrStore = errors.New("story: key-value store")

// Retention is how long the bucket and the in-memory index keep an
// article's record for a given window: twice the window, so a copy
// published up to a window before or after an article, and stored up to a
// window after its publication, still finds it.
func Retention(window time.Duration) time.Duration {
	if window <= 0 {
		window = DefaultWindow
	}
	return 2 * window
}

// Metrics are the story index's Prometheus metrics.
type Metrics struct {
	Records     prometheus.Gauge
	Corrections prometheus.Counter
	Applied     prometheus.Counter
}

// NewMetrics registers the story index's metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	f := promauto.With(reg)
	return &Metrics{
		Records: f.NewGauge(prometheus.GaugeOpts{
			Name: "newswatch_story_index_records",
			Help: "Article records in this analyzer's in-memory story index (those stored within the retention, twice the story window).",
		}),
		Applied: f.NewCounter(prometheus.CounterOpts{
			Name: "newswatch_story_index_applied_total",
			Help: "Article records read from the newswatch_stories bucket into the in-memory index, this analyzer's and others'.",
		}),
		Corrections: f.NewCounter(prometheus.CounterOpts{
			Name: "newswatch_story_corrections_total",
			Help: "Articles whose story changed after recording because another analyzer recorded a copy at the same time.",
		}),
	}
}

// Option configures an Index.
type Option func(*Index)

// WithThreshold sets the similarity (estimated Jaccard similarity of word
// shingles, 0..1) at or above which an article joins an existing story. Zero
// or less keeps DefaultThreshold, so an unset config value is harmless.
func WithThreshold(t float64) Option {
	return func(ix *Index) {
		if t > 0 {
			ix.threshold = t
		}
	}
}

// WithWindow sets how far apart in publication time two articles may be and
// still be one story. Zero or less keeps DefaultWindow. Records are kept
// for Retention(window).
func WithWindow(d time.Duration) Option {
	return func(ix *Index) {
		if d > 0 {
			ix.window = d
		}
	}
}

// WithMetrics reports the index's size and corrections in m.
func WithMetrics(m *Metrics) Option { return func(ix *Index) { ix.metrics = m } }

// Index assigns story ids. Its state is the bucket; the in-memory band
// table is a cache of the bucket's recent records, rebuilt by watching the
// bucket from its start. It is safe for concurrent use, and several Index
// values (analyzers) may share one bucket.
type Index struct {
	kv        jetstream.KeyValue
	threshold float64
	window    time.Duration
	metrics   *Metrics

	mu      sync.Mutex
	watch   *watchState // nil until the first Assign, and after the watch ended
	startMu sync.Mutex
}

// watchState is one watch of the bucket and the table it fills.
type watchState struct {
	table   *table
	applied uint64        // highest bucket revision applied
	changed chan struct{} // closed and replaced after every apply
	err     error         // set when the watch ended
	stop    func()
}

// New returns an Index over kv, a bucket created by the caller; give it a
// TTL of Retention(window) so that old records expire.
func New(kv jetstream.KeyValue, opts ...Option) *Index {
	ix := &Index{kv: kv, threshold: DefaultThreshold, window: DefaultWindow}
	for _, o := range opts {
		o(ix)
	}
	return ix
}

// NewStoryID is the id of a story first seen in the given article.
func NewStoryID(articleID string) string { return events.HashID("story", articleID) }

func articleKey(id string) string { return "a." + events.HashID("article", id) }

// Assign returns the story id of the article: the story of the most similar
// article published within the window, if that similarity reaches the
// threshold, else a new story id derived from articleID. It records the
// article so that later copies find it. Assigning an article again returns
// the id it got the first time.
func (ix *Index) Assign(ctx context.Context, articleID, title, text string, published time.Time) (string, error) {
	return ix.AssignSignature(ctx, articleID, Fingerprint(title, text), published)
}

// AssignSignature is Assign for an article whose signature the caller has
// computed (FingerprintDoc on the analyzer's normalised article).
//
// The article's record is created in the bucket (one key, compare-and-set:
// an article is recorded once) with the story this index finds for it. Its
// final story is decided when the record is read back in bucket order: the
// story of the most similar earlier record. Every Index reads the same
// order, so two analyzers that record two copies of a new story at the same
// moment agree that the second copy joins the first's story; the second
// analyzer then rewrites its record with that story, so that a rebuilt
// index agrees too.
func (ix *Index) AssignSignature(ctx context.Context, articleID string, sig Signature, published time.Time) (string, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, defaultTimeout)
		defer cancel()
	}
	w, err := ix.started()
	if err != nil {
		return "", err
	}
	akey := articleKey(articleID)
	ix.mu.Lock()
	if s, ok := w.table.storyOf(akey); ok {
		ix.mu.Unlock()
		return s, nil
	}
	if published.IsZero() {
		published = time.Now()
	}
	rec := record{Story: NewStoryID(articleID), Published: published.Unix(), Shingles: sig.Shingles, Mins: sig.Mins}
	if sig.Shingles > 0 {
		if best := w.table.best(&sig, rec.Published, ix.window, ix.threshold); best != "" {
			rec.Story = best
		}
	}
	ix.mu.Unlock()

	rev, err := ix.kv.Create(ctx, akey, rec.encode())
	created := err == nil
	fallback := rec.Story
	if errors.Is(err, jetstream.ErrKeyExists) {
		// Recorded before (a redelivery, a revision, another analyzer):
		// that record's story stands.
		var entry jetstream.KeyValueEntry
		if entry, err = ix.kv.Get(ctx, akey); err == nil {
			rev = entry.Revision()
			prev, ok := decodeRecord(entry.Value())
			if !ok {
				return "", fmt.Errorf("%w: %s holds no story record", ErrStore, akey)
			}
			fallback = prev.Story
		}
	}
	if err != nil {
		return "", fmt.Errorf("%w: recording article %q in the stories bucket: %w", ErrStore, articleID, err)
	}
	final, ok, err := ix.storyAt(ctx, w, akey, rev)
	if err != nil {
		return "", err
	}
	if !ok {
		// The record fell out of the retention already (an old article
		// recorded long ago): its stored story stands.
		return fallback, nil
	}
	if created && final != rec.Story {
		// Another analyzer recorded a copy just before this one.
		if ix.metrics != nil {
			ix.metrics.Corrections.Inc()
		}
		rec.Story = final
		if _, err := ix.kv.Update(ctx, akey, rec.encode(), rev); err != nil &&
			!errors.Is(err, jetstream.ErrKeyExists) && !errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
			return "", fmt.Errorf("%w: correcting the story of article %q: %w", ErrStore, articleID, err)
		}
	}
	return final, nil
}

// storyAt waits until the watch has applied revision rev of the bucket and
// returns the story the table gave akey; false when the table no longer
// holds it.
func (ix *Index) storyAt(ctx context.Context, w *watchState, akey string, rev uint64) (string, bool, error) {
	for {
		ix.mu.Lock()
		if w.err != nil {
			ix.mu.Unlock()
			return "", false, w.err
		}
		if w.applied >= rev {
			s, ok := w.table.storyOf(akey)
			ix.mu.Unlock()
			return s, ok, nil
		}
		ch := w.changed
		ix.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return "", false, fmt.Errorf("%w: waiting for the stories bucket watch to reach revision %d: %w", ErrStore, rev, ctx.Err())
		}
	}
}

// started starts the bucket watch once (again after it ended).
func (ix *Index) started() (*watchState, error) {
	ix.startMu.Lock()
	defer ix.startMu.Unlock()
	ix.mu.Lock()
	w := ix.watch
	ix.mu.Unlock()
	if w != nil && w.err == nil {
		return w, nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	kw, err := ix.kv.Watch(ctx, "a.>")
	if err != nil {
		cancel()
		return nil, fmt.Errorf("%w: watching the stories bucket: %w", ErrStore, err)
	}
	w = &watchState{table: newTable(Retention(ix.window)), changed: make(chan struct{}), stop: func() { _ = kw.Stop(); cancel() }}
	ix.mu.Lock()
	ix.watch = w
	ix.mu.Unlock()
	go ix.follow(w, kw)
	return w, nil
}

// Close stops watching the bucket. An Assign after Close starts again.
func (ix *Index) Close() {
	ix.mu.Lock()
	w := ix.watch
	ix.watch = nil
	ix.mu.Unlock()
	if w != nil {
		w.stop()
	}
}

// follow applies the bucket's records in revision order.
func (ix *Index) follow(w *watchState, kw jetstream.KeyWatcher) {
	for e := range kw.Updates() {
		if e == nil {
			continue // end of the initial records
		}
		ix.mu.Lock()
		if e.Operation() == jetstream.KeyValuePut {
			if rec, ok := decodeRecord(e.Value()); ok {
				w.table.apply(e.Key(), rec, e.Created(), ix.window, ix.threshold)
				if ix.metrics != nil {
					ix.metrics.Applied.Inc()
				}
			}
		}
		if r := e.Revision(); r > w.applied {
			w.applied = r
		}
		if ix.metrics != nil {
			ix.metrics.Records.Set(float64(w.table.len()))
		}
		close(w.changed)
		w.changed = make(chan struct{})
		ix.mu.Unlock()
	}
	ix.mu.Lock()
	w.err = fmt.Errorf("%w: the stories bucket watch ended (connection closed?)", ErrStore)
	close(w.changed)
	w.changed = make(chan struct{})
	ix.mu.Unlock()
}

// record is the value of an article key.
type record struct {
	Story     string
	Published int64 // Unix seconds
	Shingles  int
	Mins      [NumHashes]uint32
}

// recordV1 marks the binary layout: version, published (int64), shingles
// (uint32), the minima (NumHashes uint32), then the story id; all little
// endian. 525 bytes plus the story id.
const (
	recordV1     = 1
	recordHeader = 1 + 8 + 4 + 4*NumHashes
)

func (r *record) encode() []byte {
	b := make([]byte, recordHeader, recordHeader+len(r.Story))
	b[0] = recordV1
	binary.LittleEndian.PutUint64(b[1:], uint64(r.Published))
	binary.LittleEndian.PutUint32(b[9:], uint32(r.Shingles))
	for i, m := range r.Mins {
		binary.LittleEndian.PutUint32(b[13+4*i:], m)
	}
	return append(b, r.Story...)
}

func decodeRecord(b []byte) (record, bool) {
	var r record
	switch {
	case len(b) > recordHeader && b[0] == recordV1:
		r.Published = int64(binary.LittleEndian.Uint64(b[1:]))
		r.Shingles = int(binary.LittleEndian.Uint32(b[9:]))
		for i := range r.Mins {
			r.Mins[i] = binary.LittleEndian.Uint32(b[13+4*i:])
		}
		r.Story = string(b[recordHeader:])
		return r, true
	case len(b) > 0 && b[0] == '{':
		// The JSON records of the earlier index (one key per article plus
		// one per band): still read, so stories survive an upgrade.
		var old struct {
			Story     string `json:"story"`
			Published int64  `json:"published"`
			Shingles  int    `json:"shingles"`
			Mins      string `json:"mins"`
		}
		if json.Unmarshal(b, &old) != nil || old.Story == "" {
			return r, false
		}
		r.Story, r.Published = old.Story, old.Published
		if buf, err := base64.RawStdEncoding.DecodeString(old.Mins); err == nil && len(buf) == 4*NumHashes {
			r.Shingles = old.Shingles
			for i := range r.Mins {
				r.Mins[i] = binary.LittleEndian.Uint32(buf[4*i:])
			}
		}
		return r, true
	}
	return r, false
}

// table is the in-memory index: the records of the retention in bucket
// order, and per band hash the most recently applied record with that band,
// each record linking to the previous one with the same band. Band hashes
// are cut to 32 bits to halve the table's size: a collision only adds a
// candidate, which the full signature comparison then rejects.
type table struct {
	retention time.Duration
	entries   []entry          // entries[i] has position shift+i
	shift     int32            // position of entries[0]
	oldest    int32            // position of the oldest live entry
	heads     map[uint32]int32 // keyed by the low 32 bits of the band hash
	byKey     map[string]int32
}

type entry struct {
	key       string
	story     string
	published int64
	stored    int64 // the bucket's timestamp, Unix nanoseconds
	shingles  int32
	mins      [NumHashes]uint32
	// next is, per band, the position of the previous entry with the same
	// band hash; positions below oldest have been evicted and end the list.
	next [Bands]int32
}

func newTable(retention time.Duration) *table {
	return &table{retention: retention, heads: map[uint32]int32{}, byKey: map[string]int32{}}
}

func (t *table) len() int { return int(int32(len(t.entries)) + t.shift - t.oldest) }

func (t *table) at(pos int32) *entry { return &t.entries[pos-t.shift] }

func (t *table) storyOf(key string) (string, bool) {
	pos, ok := t.byKey[key]
	if !ok {
		return "", false
	}
	return t.at(pos).story, true
}

// apply adds a record read from the bucket. Its story is the best match
// among the records before it, or the story it was recorded with. A key
// already present (a record rewritten with a corrected story) keeps the
// story this table gave it, which is the same.
func (t *table) apply(key string, rec record, stored time.Time, window time.Duration, threshold float64) {
	if _, ok := t.byKey[key]; ok {
		return
	}
	e := entry{key: key, story: rec.Story, published: rec.Published, stored: stored.UnixNano(), shingles: int32(rec.Shingles), mins: rec.Mins}
	if rec.Shingles > 0 {
		sig := Signature{Mins: rec.Mins, Shingles: rec.Shingles}
		if best := t.best(&sig, rec.Published, window, threshold); best != "" {
			e.story = best
		}
	}
	pos := t.shift + int32(len(t.entries))
	if rec.Shingles > 0 {
		for b := range Bands {
			h := e.bandHash(b)
			if prev, ok := t.heads[h]; ok {
				e.next[b] = prev
			} else {
				e.next[b] = -1
			}
			t.heads[h] = pos
		}
	}
	t.entries = append(t.entries, e)
	t.byKey[key] = pos
	t.evict(e.stored - int64(t.retention))
}

// evict drops the entries stored before cutoff (Unix nanoseconds). Band
// lists are not walked: an evicted position ends a list.
func (t *table) evict(cutoff int64) {
	end := t.shift + int32(len(t.entries))
	for t.oldest < end {
		e := t.at(t.oldest)
		if e.stored >= cutoff {
			break
		}
		if e.shingles > 0 {
			for b := range Bands {
				h := e.bandHash(b)
				if t.heads[h] == t.oldest {
					delete(t.heads, h)
				}
			}
		}
		delete(t.byKey, e.key)
		*e = entry{}
		t.oldest++
	}
	// Give the evicted prefix's memory back once it is half the slice.
	if dead := int(t.oldest - t.shift); dead > 1024 && dead > len(t.entries)/2 {
		t.entries = slices.Clone(t.entries[dead:])
		t.shift = t.oldest
	}
}

func (e *entry) bandHash(b int) uint32 { return uint32(bandHash(&e.mins, b)) }

// best returns the story of the most similar entry published within the
// window of published, at or above the threshold, or "". Candidates are
// the entries sharing a band, those sharing most bands first, at most
// maxCandidates of them; ties go to the smaller story id, so the answer
// depends only on the table's contents.
func (t *table) best(sig *Signature, published int64, window time.Duration, threshold float64) string {
	lo, hi := published-int64(window/time.Second), published+int64(window/time.Second)
	shared := map[int32]int{}
	for b := range Bands {
		pos, ok := t.heads[uint32(sig.bandHash(b))]
		for n := 0; ok && pos >= t.oldest && n < maxBandMembers; n++ {
			e := t.at(pos)
			if e.published >= lo && e.published <= hi {
				shared[pos]++
			}
			pos = e.next[b]
		}
	}
	if len(shared) == 0 {
		return ""
	}
	cands := make([]int32, 0, len(shared))
	for p := range shared {
		cands = append(cands, p)
	}
	slices.SortFunc(cands, func(a, b int32) int {
		if shared[a] != shared[b] {
			return shared[b] - shared[a]
		}
		return strings.Compare(t.at(a).key, t.at(b).key)
	})
	if len(cands) > maxCandidates {
		cands = cands[:maxCandidates]
	}
	best, bestSim := "", 0.0
	for _, p := range cands {
		e := t.at(p)
		s := Similarity(*sig, Signature{Mins: e.mins, Shingles: int(e.shingles)})
		if s >= threshold && (s > bestSim || s == bestSim && e.story < best) {
			best, bestSim = e.story, s
		}
	}
	return best
}

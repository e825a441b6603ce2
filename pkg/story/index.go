// Package story gives copies of one news story the same story id: wire copy
// republished by several outlets, rewrites under a new headline, trimmed web
// versions. Different stories about the same event (two reports from one
// summit) keep their own ids.
//
// Articles are compared by MinHash signatures of their word shingles. Recent
// signatures live in a JetStream key-value bucket and are found through
// locality-sensitive hashing: each signature is cut into bands and every band
// is a KV key listing the articles that share it, so assigning an article
// costs a fixed number of gets however large the bucket grows.
package story

import (
	"cmp"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/newswatch/newswatch/pkg/events"
)

// Defaults; docs/entities.md (section Stories) explains the threshold.
const (
	DefaultThreshold = 0.25
	DefaultWindow    = 72 * time.Hour
	// defaultTimeout bounds Assign when the caller's context has no deadline.
	defaultTimeout = 10 * time.Second
	// maxBandMembers caps a band key's list so that text every article
	// shares (boilerplate that survived extraction) cannot grow one value
	// without bound; the oldest members go first.
	maxBandMembers = 64
	// maxCandidates bounds the signature gets per article.
	maxCandidates = 16
	// casRetries is how often a band update is retried when another
	// analyzer wrote the same key in between.
	casRetries = 8
)

// ErrStore reports a key-value bucket failure; Assign wraps the KV error.
var ErrStore = errors.New("story: key-value store")

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
// still be one story. Zero or less keeps DefaultWindow.
func WithWindow(d time.Duration) Option {
	return func(ix *Index) {
		if d > 0 {
			ix.window = d
		}
	}
}

// Index assigns story ids. It keeps no state of its own beyond the bucket, so
// several analyzers may share one bucket and a restarted analyzer continues
// where it left off. It is safe for concurrent use.
type Index struct {
	kv        jetstream.KeyValue
	threshold float64
	window    time.Duration
}

// New returns an Index over kv, a bucket created by the caller (give it a
// TTL somewhat longer than the window so that old stories expire).
func New(kv jetstream.KeyValue, opts ...Option) *Index {
	ix := &Index{kv: kv, threshold: DefaultThreshold, window: DefaultWindow}
	for _, o := range opts {
		o(ix)
	}
	return ix
}

// record is the value of an article key: the article's story and signature.
type record struct {
	Story     string `json:"story"`
	Article   string `json:"article"`
	Published int64  `json:"published"`
	Shingles  int    `json:"shingles"`
	Mins      string `json:"mins"` // base64 of NumHashes little-endian uint32
}

// member is one article in a band key's list.
type member struct {
	Key       string `json:"a"` // article key suffix
	Story     string `json:"s"`
	Published int64  `json:"t"`
}

func articleKey(id string) string { return "a." + events.HashID("article", id) }

func bandKey(band int, h uint64) string {
	return "b." + strconv.Itoa(band) + "." + strconv.FormatUint(h, 16)
}

// NewStoryID is the id of a story first seen in the given article.
func NewStoryID(articleID string) string { return events.HashID("story", articleID) }

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
func (ix *Index) AssignSignature(ctx context.Context, articleID string, sig Signature, published time.Time) (string, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, defaultTimeout)
		defer cancel()
	}
	akey := articleKey(articleID)
	if rec, err := ix.getRecord(ctx, akey); err == nil {
		return rec.Story, nil
	} else if !errors.Is(err, jetstream.ErrKeyNotFound) {
		return "", err
	}
	if published.IsZero() {
		published = time.Now()
	}

	storyID := NewStoryID(articleID)
	var bands [Bands]band
	if sig.Shingles > 0 {
		best, err := ix.bestMatch(ctx, &sig, published, &bands)
		if err != nil {
			return "", err
		}
		if best != "" {
			storyID = best
		}
	}

	// Bands first, the article record last: if the analyzer dies in
	// between, the redelivered article is assigned again from scratch (the
	// band writes are idempotent), instead of finding its record and never
	// writing the bands that let later copies find it.
	if sig.Shingles > 0 {
		m := member{Key: akey[len("a."):], Story: storyID, Published: published.Unix()}
		if err := ix.addToBands(ctx, &bands, m); err != nil {
			return "", err
		}
	}
	rec := record{Story: storyID, Article: articleID, Published: published.Unix(), Shingles: sig.Shingles, Mins: encodeMins(&sig)}
	val, err := json.Marshal(rec)
	if err != nil {
		return "", err
	}
	if _, err := ix.kv.Create(ctx, akey, val); err != nil {
		if errors.Is(err, jetstream.ErrKeyExists) {
			// Another analyzer assigned the same article meanwhile; its
			// answer stands.
			if prev, err := ix.getRecord(ctx, akey); err == nil {
				return prev.Story, nil
			}
		}
		return "", fmt.Errorf("%w: recording article %q: %w", ErrStore, articleID, err)
	}
	return storyID, nil
}

// bestMatch returns the story of the most similar recorded article at or
// above the threshold, or "".
func (ix *Index) bestMatch(ctx context.Context, sig *Signature, published time.Time, bands *[Bands]band) (string, error) {
	errs := make([]error, Bands)
	var wg sync.WaitGroup
	for b := range Bands {
		wg.Go(func() {
			bd := &bands[b]
			bd.key = bandKey(b, sig.bandHash(b))
			entry, err := ix.kv.Get(ctx, bd.key)
			if err != nil {
				if !errors.Is(err, jetstream.ErrKeyNotFound) {
					errs[b] = fmt.Errorf("%w: reading band %d: %w", ErrStore, b, err)
				}
				return
			}
			bd.members, bd.rev = decodeMembers(entry.Value()), entry.Revision()
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return "", err
	}

	// Candidates sharing more bands are likelier matches; look at those
	// first and at no more than maxCandidates.
	shared := map[string]int{}
	lo, hi := published.Add(-ix.window).Unix(), published.Add(ix.window).Unix()
	for _, bd := range bands {
		for _, m := range bd.members {
			if m.Published >= lo && m.Published <= hi {
				shared[m.Key]++
			}
		}
	}
	keys := make([]string, 0, len(shared))
	for k := range shared {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int {
		if shared[a] != shared[b] {
			return shared[b] - shared[a]
		}
		return strings.Compare(a, b)
	})
	if len(keys) > maxCandidates {
		keys = keys[:maxCandidates]
	}

	recs := make([]*record, len(keys))
	errs = make([]error, len(keys))
	for i, k := range keys {
		wg.Go(func() {
			rec, err := ix.getRecord(ctx, "a."+k)
			if err != nil {
				if !errors.Is(err, jetstream.ErrKeyNotFound) { // expired meanwhile
					errs[i] = err
				}
				return
			}
			recs[i] = rec
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return "", err
	}
	best, bestSim := "", 0.0
	for _, rec := range recs {
		if rec == nil {
			continue
		}
		other, ok := rec.signature()
		if !ok {
			continue
		}
		// Ties go to the earlier story so that the answer does not depend
		// on the order the gets came back in.
		if s := Similarity(*sig, other); s >= ix.threshold && (s > bestSim || s == bestSim && rec.Story < best) {
			best, bestSim = rec.Story, s
		}
	}
	return best, nil
}

// band is one LSH band key of the article being assigned, as last read.
type band struct {
	key     string
	members []member
	rev     uint64 // 0: the key did not exist
}

// addToBands appends the article to each of its band keys, with
// compare-and-set so that concurrent analyzers do not lose each other's
// entries, dropping members that fell out of the window. The first attempt
// reuses what bestMatch read; only a conflict costs another get.
func (ix *Index) addToBands(ctx context.Context, bands *[Bands]band, m member) error {
	errs := make([]error, Bands)
	var wg sync.WaitGroup
	for b := range Bands {
		wg.Go(func() { errs[b] = ix.addToBand(ctx, bands[b], m) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

func (ix *Index) addToBand(ctx context.Context, bd band, m member) error {
	oldest := m.Published - int64(ix.window/time.Second)
	list, rev := bd.members, bd.rev
	for attempt := range casRetries {
		if attempt > 0 {
			list, rev = nil, 0
			entry, err := ix.kv.Get(ctx, bd.key)
			switch {
			case err == nil:
				list, rev = decodeMembers(entry.Value()), entry.Revision()
			case !errors.Is(err, jetstream.ErrKeyNotFound):
				return fmt.Errorf("%w: reading %s: %w", ErrStore, bd.key, err)
			}
		}
		list = slices.DeleteFunc(list, func(x member) bool { return x.Published < oldest || x.Key == m.Key })
		list = append(list, m)
		if len(list) > maxBandMembers {
			slices.SortStableFunc(list, func(a, b member) int { return cmp.Compare(a.Published, b.Published) })
			list = list[len(list)-maxBandMembers:]
		}
		val, err := json.Marshal(list)
		if err != nil {
			return err
		}
		if rev == 0 {
			_, err = ix.kv.Create(ctx, bd.key, val)
		} else {
			_, err = ix.kv.Update(ctx, bd.key, val, rev)
		}
		if err == nil {
			return nil
		}
		if !errors.Is(err, jetstream.ErrKeyExists) && !errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
			return fmt.Errorf("%w: writing %s: %w", ErrStore, bd.key, err)
		}
	}
	return fmt.Errorf("%w: writing %s: gave up after %d concurrent updates", ErrStore, bd.key, casRetries)
}

func (ix *Index) getRecord(ctx context.Context, key string) (*record, error) {
	entry, err := ix.kv.Get(ctx, key)
	if err != nil {
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			return nil, err
		}
		return nil, fmt.Errorf("%w: reading %s: %w", ErrStore, key, err)
	}
	var rec record
	if err := json.Unmarshal(entry.Value(), &rec); err != nil || rec.Story == "" {
		return nil, fmt.Errorf("%w: %s holds no story record (%v)", ErrStore, key, err)
	}
	return &rec, nil
}

func decodeMembers(b []byte) []member {
	var list []member
	if json.Unmarshal(b, &list) != nil {
		return nil // a damaged band only costs recall
	}
	return list
}

func encodeMins(sig *Signature) string {
	buf := make([]byte, 4*NumHashes)
	for i, m := range sig.Mins {
		binary.LittleEndian.PutUint32(buf[4*i:], m)
	}
	return base64.RawStdEncoding.EncodeToString(buf)
}

func (r *record) signature() (Signature, bool) {
	buf, err := base64.RawStdEncoding.DecodeString(r.Mins)
	if err != nil || len(buf) != 4*NumHashes {
		return Signature{}, false
	}
	sig := Signature{Shingles: r.Shingles}
	for i := range sig.Mins {
		sig.Mins[i] = binary.LittleEndian.Uint32(buf[4*i:])
	}
	return sig, true
}

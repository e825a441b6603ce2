// Package watches owns analysts' watches: the Watch type of the config's
// watches: section, its validation, and the newswatch_watches JetStream KV
// bucket that `newswatch watch add|rm|pause|resume` edits at run time and
// every analyzer and notifier replica follows. The config file seeds the
// bucket (ApplyConfig); an operator's change wins until the config entry
// itself changes. Compiling watches for matching is pkg/watchset's job.
package watches

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// Bucket is the KV bucket of the watches, one key per watch id.
const Bucket = "newswatch_watches"

// ErrNotFound is returned for a watch id the bucket does not hold.
var ErrNotFound = errors.New("watches: no such watch")

// Metrics are the watches' metrics.
type Metrics struct {
	// Invalid counts the bucket's entries left out of the evaluated set
	// because they are not valid watches, as of the last change followed.
	Invalid prometheus.Gauge
}

// NewMetrics registers the watches' metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	return &Metrics{Invalid: promauto.With(reg).NewGauge(prometheus.GaugeOpts{
		Name: "newswatch_watches_invalid",
		Help: "Entries of newswatch_watches left out because they are not valid watches (not JSON, id not its key, bad id, unknown sink, bad digest or rate_limit, query that does not parse); `newswatch watch list` shows them, `newswatch watch rm` removes them.",
	})}
}

// Store reads and writes watches in a KV bucket, one key per watch id.
type Store struct {
	kv        jetstream.KeyValue
	knownSink func(string) bool
}

// Option configures a Store.
type Option func(*Store)

// WithSinks makes entries that name a sink known reports false for invalid.
// Leave it out where the sinks are not known (an analyzer-only process).
func WithSinks(known func(string) bool) Option { return func(s *Store) { s.knownSink = known } }

// New returns a store over kv (the Bucket bucket).
func New(kv jetstream.KeyValue, opts ...Option) *Store {
	s := &Store{kv: kv}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Entry is one key of the bucket: a watch, or why it is not one.
type Entry struct {
	Key   string
	Watch Watch
	Err   error // nil for a valid watch
}

// decode reads an entry's value as the watch stored under key.
func (s *Store) decode(key string, value []byte) (Watch, error) {
	var w Watch
	if err := json.Unmarshal(value, &w); err != nil {
		return Watch{}, fmt.Errorf("%w: %s/%s is not a watch: %v (remove it with newswatch watch rm %s)", ErrInvalid, Bucket, key, err, key)
	}
	if w.ID != key {
		return w, fmt.Errorf("%w: %s/%s holds a watch with id %q; the id must be the key (remove it with newswatch watch rm %s and add it again)", ErrInvalid, Bucket, key, w.ID, key)
	}
	if err := w.Validate(s.knownSink); err != nil {
		return w, fmt.Errorf("%w (fix it with newswatch watch add, or remove it with newswatch watch rm %s)", err, key)
	}
	return w, nil
}

func (s *Store) put(ctx context.Context, w Watch) error {
	if err := w.Validate(nil); err != nil {
		return err
	}
	data, err := json.Marshal(w)
	if err != nil {
		return err
	}
	if _, err := s.kv.Put(ctx, w.ID, data); err != nil {
		return fmt.Errorf("watches: saving %q in %s: %w", w.ID, Bucket, err)
	}
	return nil
}

// Put creates or replaces a watch on an operator's behalf. A watch that
// replaces one seeded from the config keeps that origin and seed, so the
// operator's version stays until the config entry changes.
func (s *Store) Put(ctx context.Context, w Watch) error {
	w.Origin, w.Seed = OriginOperator, ""
	if ValidID(w.ID) {
		if e, err := s.kv.Get(ctx, w.ID); err == nil {
			var old Watch
			if json.Unmarshal(e.Value(), &old) == nil && old.Origin == OriginConfig {
				w.Origin, w.Seed = old.Origin, old.Seed
			}
		}
	}
	return s.put(ctx, w)
}

// ApplyConfig seeds the bucket with the config file's watches. A watch the
// bucket does not hold, or whose seed is not the config entry's SeedHash
// (the entry changed since it was applied), is written from the config; one
// seeded from the same entry is left as it is, with whatever an operator
// changed since (paused, another query). Watches added at run time are left
// alone.
func (s *Store) ApplyConfig(ctx context.Context, ws []Watch) error {
	for _, cw := range ws {
		cw.Origin, cw.Seed = OriginConfig, cw.SeedHash()
		e, err := s.kv.Get(ctx, cw.ID)
		switch {
		case err == nil:
			var old Watch
			if json.Unmarshal(e.Value(), &old) == nil && old.Seed == cw.Seed {
				continue
			}
		case !errors.Is(err, jetstream.ErrKeyNotFound):
			return fmt.Errorf("watches: reading %q from %s: %w", cw.ID, Bucket, err)
		}
		if err := s.put(ctx, cw); err != nil {
			return err
		}
	}
	return nil
}

// Get returns one watch; an entry that is not a valid watch is an error
// wrapping ErrInvalid.
func (s *Store) Get(ctx context.Context, id string) (Watch, error) {
	if !ValidID(id) {
		return Watch{}, fmt.Errorf("%w: %q (newswatch watch list shows the ids)", ErrNotFound, id)
	}
	e, err := s.kv.Get(ctx, id)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return Watch{}, fmt.Errorf("%w: %q (newswatch watch list shows the ids)", ErrNotFound, id)
	}
	if err != nil {
		return Watch{}, fmt.Errorf("watches: reading %q: %w", id, err)
	}
	return s.decode(id, e.Value())
}

// Delete removes a watch, valid or not.
func (s *Store) Delete(ctx context.Context, id string) error {
	if !ValidID(id) {
		return fmt.Errorf("%w: %q (newswatch watch list shows the ids)", ErrNotFound, id)
	}
	if _, err := s.kv.Get(ctx, id); errors.Is(err, jetstream.ErrKeyNotFound) {
		return fmt.Errorf("%w: %q (newswatch watch list shows the ids)", ErrNotFound, id)
	} else if err != nil {
		return fmt.Errorf("watches: reading %q: %w", id, err)
	}
	if err := s.kv.Delete(ctx, id); err != nil {
		return fmt.Errorf("watches: deleting %q: %w", id, err)
	}
	return nil
}

// List returns every entry of the bucket, valid or not, sorted by key, read
// in one pass.
func (s *Store) List(ctx context.Context) ([]Entry, error) {
	w, err := s.kv.WatchAll(ctx, jetstream.IgnoreDeletes())
	if err != nil {
		return nil, fmt.Errorf("watches: listing %s: %w", Bucket, err)
	}
	defer w.Stop()
	var out []Entry
	for {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case e := <-w.Updates():
			if e == nil {
				sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
				return out, nil
			}
			wt, err := s.decode(e.Key(), e.Value())
			out = append(out, Entry{Key: e.Key(), Watch: wt, Err: err})
		}
	}
}

// settle is how long Follow waits after a change for more before it hands
// over the new set: compiling 10,000 watches into the analyzer's automaton
// takes about 0.2 s, and `newswatch watch add` in a loop should cost one
// compilation, not one per watch.
const settle = 200 * time.Millisecond

// Follow calls apply with the full set of valid watches now and after
// changes until ctx ends; changes that come within 200 ms of each other are
// applied together. Entries that are not valid watches are logged and left
// out; invalid is how many there are. revision is the bucket revision of
// the last change applied: two followers given the same revision hold the
// same watches, which is how the notifier knows that the analyzer evaluated
// the watches it has.
func (s *Store) Follow(ctx context.Context, logger *slog.Logger, apply func(ws []Watch, invalid int, revision uint64)) error {
	w, err := s.kv.WatchAll(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("watches: following %s: %w", Bucket, err)
	}
	defer w.Stop()
	current := map[string]Watch{}
	bad := map[string]bool{}
	initial := true
	var revision uint64
	emit := func() {
		list := make([]Watch, 0, len(current))
		for _, v := range current {
			list = append(list, v)
		}
		sort.Slice(list, func(i, j int) bool { return list[i].ID < list[j].ID })
		apply(list, len(bad), revision)
	}
	timer := time.NewTimer(settle)
	timer.Stop()
	pending := false
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-timer.C:
			pending = false
			emit()
		case e, ok := <-w.Updates():
			if !ok {
				if ctx.Err() != nil {
					return nil
				}
				return fmt.Errorf("watches: the watch of %s stopped", Bucket)
			}
			if e == nil { // end of the initial values
				initial = false
				emit()
				continue
			}
			revision = max(revision, e.Revision())
			delete(current, e.Key())
			delete(bad, e.Key())
			switch e.Operation() {
			case jetstream.KeyValueDelete, jetstream.KeyValuePurge:
			default:
				if wt, err := s.decode(e.Key(), e.Value()); err != nil {
					logger.Error("ignoring an invalid watch", "key", e.Key(), "err", err)
					bad[e.Key()] = true
				} else {
					current[e.Key()] = wt
				}
			}
			if !initial && !pending {
				pending = true
				timer.Reset(settle)
			}
		}
	}
}

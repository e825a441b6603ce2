// Package watches stores analysts' watches in the newswatch_watches JetStream
// KV bucket, so that `newswatch watch add|rm|pause` changes them at run time
// and every notifier replica sees the change within a second.
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

	"github.com/newswatch/newswatch/pkg/config"
	"github.com/newswatch/newswatch/pkg/topology"
)

// ErrNotFound is returned for a watch id the bucket does not hold.
var ErrNotFound = errors.New("watches: no such watch")

// Store reads and writes watches in a KV bucket, one key per watch id.
type Store struct {
	kv jetstream.KeyValue
}

// New returns a store over kv (the topology.BucketWatches bucket).
func New(kv jetstream.KeyValue) *Store { return &Store{kv: kv} }

// Put creates or replaces a watch.
func (s *Store) Put(ctx context.Context, w config.Watch) error {
	data, err := json.Marshal(w)
	if err != nil {
		return err
	}
	if _, err := s.kv.Put(ctx, w.ID, data); err != nil {
		return fmt.Errorf("watches: saving %q in %s: %w", w.ID, topology.BucketWatches, err)
	}
	return nil
}

// Get returns one watch.
func (s *Store) Get(ctx context.Context, id string) (config.Watch, error) {
	e, err := s.kv.Get(ctx, id)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return config.Watch{}, fmt.Errorf("%w: %q (newswatch watch list shows the ids)", ErrNotFound, id)
	}
	if err != nil {
		return config.Watch{}, fmt.Errorf("watches: reading %q: %w", id, err)
	}
	var w config.Watch
	if err := json.Unmarshal(e.Value(), &w); err != nil {
		return config.Watch{}, fmt.Errorf("watches: %q is not a watch: %w", id, err)
	}
	return w, nil
}

// Delete removes a watch.
func (s *Store) Delete(ctx context.Context, id string) error {
	if _, err := s.Get(ctx, id); err != nil {
		return err
	}
	if err := s.kv.Delete(ctx, id); err != nil {
		return fmt.Errorf("watches: deleting %q: %w", id, err)
	}
	return nil
}

// List returns every watch, sorted by id.
func (s *Store) List(ctx context.Context) ([]config.Watch, error) {
	keys, err := s.kv.Keys(ctx)
	if errors.Is(err, jetstream.ErrNoKeysFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("watches: listing %s: %w", topology.BucketWatches, err)
	}
	sort.Strings(keys)
	out := make([]config.Watch, 0, len(keys))
	for _, k := range keys {
		w, err := s.Get(ctx, k)
		if errors.Is(err, ErrNotFound) {
			continue // deleted meanwhile
		}
		if err != nil {
			return nil, err
		}
		out = append(out, w)
	}
	return out, nil
}

// settle is how long Follow waits after a change for more before it hands
// over the new set: compiling 10,000 watches into the analyzer's automaton
// takes about 0.2 s, and `newswatch watch add` in a loop should cost one
// compilation, not one per watch.
const settle = 200 * time.Millisecond

// Follow calls apply with the full set of watches now and after changes
// until ctx ends; changes that come within 200 ms of each other are applied
// together. Entries that do not decode are logged and left out. revision is
// the bucket revision of the last change applied: two followers given the
// same revision hold the same watches, which is how the notifier knows that
// the analyzer evaluated the watches it has.
func (s *Store) Follow(ctx context.Context, logger *slog.Logger, apply func(ws []config.Watch, revision uint64)) error {
	w, err := s.kv.WatchAll(ctx)
	if err != nil {
		return fmt.Errorf("watches: following %s: %w", topology.BucketWatches, err)
	}
	defer w.Stop()
	current := map[string]config.Watch{}
	initial := true
	var revision uint64
	emit := func() {
		list := make([]config.Watch, 0, len(current))
		for _, v := range current {
			list = append(list, v)
		}
		sort.Slice(list, func(i, j int) bool { return list[i].ID < list[j].ID })
		apply(list, revision)
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
				return nil
			}
			if e == nil { // end of the initial values
				initial = false
				emit()
				continue
			}
			revision = max(revision, e.Revision())
			switch e.Operation() {
			case jetstream.KeyValueDelete, jetstream.KeyValuePurge:
				delete(current, e.Key())
			default:
				var wt config.Watch
				if err := json.Unmarshal(e.Value(), &wt); err != nil {
					logger.Error("ignoring a watch that does not decode", "key", e.Key(), "err", err)
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

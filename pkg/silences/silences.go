// Package silences keeps analysts' silences in the newswatch_silences
// JetStream KV bucket: a whole watch for a while (`newswatch silence add
// --watch W --for 8h`) or one story for a watch (`--story S`).
package silences

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/newswatch/newswatch/pkg/topology"
)

// ErrNotFound is returned when removing a silence that does not exist.
var ErrNotFound = errors.New("silences: no such silence")

// Silence mutes a watch, or one story of a watch, until a time (zero: until removed).
type Silence struct {
	Watch   string    `json:"watch"`
	Story   string    `json:"story,omitempty"`
	Until   time.Time `json:"until,omitzero"`
	Comment string    `json:"comment,omitempty"`
	Created time.Time `json:"created"`
}

// Key is the silence's key in the bucket: the watch id, or <watch>.<story>.
func (s Silence) Key() string {
	if s.Story != "" {
		return s.Watch + "." + s.Story
	}
	return s.Watch
}

// Active reports whether the silence mutes at now.
func (s Silence) Active(now time.Time) bool { return s.Until.IsZero() || now.Before(s.Until) }

// Store reads and writes silences.
type Store struct {
	kv  jetstream.KeyValue
	now func() time.Time

	mu     sync.RWMutex
	cache  map[string]Silence // the bucket, while Follow runs
	cached bool               // cache holds the whole bucket
}

// New returns a store over kv (the topology.BucketSilences bucket).
func New(kv jetstream.KeyValue) *Store { return &Store{kv: kv, now: time.Now} }

// Add saves a silence.
func (s *Store) Add(ctx context.Context, sl Silence) error {
	if sl.Created.IsZero() {
		sl.Created = s.now().UTC()
	}
	data, _ := json.Marshal(sl)
	if _, err := s.kv.Put(ctx, sl.Key(), data); err != nil {
		return fmt.Errorf("silences: saving %s in %s: %w", sl.Key(), topology.BucketSilences, err)
	}
	return nil
}

// Remove deletes the silence of a watch (story empty) or of one story.
func (s *Store) Remove(ctx context.Context, watch, story string) error {
	key := Silence{Watch: watch, Story: story}.Key()
	if _, err := s.kv.Get(ctx, key); errors.Is(err, jetstream.ErrKeyNotFound) {
		return fmt.Errorf("%w: %s (newswatch silence list shows them)", ErrNotFound, key)
	}
	return s.kv.Delete(ctx, key)
}

// List returns every silence, expired ones included, sorted by key.
func (s *Store) List(ctx context.Context) ([]Silence, error) {
	keys, err := s.kv.Keys(ctx)
	if errors.Is(err, jetstream.ErrNoKeysFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("silences: listing: %w", err)
	}
	sort.Strings(keys)
	var out []Silence
	for _, k := range keys {
		if sl, ok, err := s.get(ctx, k); err == nil && ok {
			out = append(out, sl)
		}
	}
	return out, nil
}

func (s *Store) get(ctx context.Context, key string) (Silence, bool, error) {
	e, err := s.kv.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return Silence{}, false, nil
	}
	if err != nil {
		return Silence{}, false, fmt.Errorf("silences: reading %s: %w", key, err)
	}
	var sl Silence
	if err := json.Unmarshal(e.Value(), &sl); err != nil {
		return Silence{}, false, nil
	}
	return sl, true, nil
}

// Follow keeps a copy of the bucket in memory, current through a watch of
// the bucket, from which Silenced answers without reading the bucket (two
// KV reads per alert otherwise). A silence added or removed elsewhere
// applies as soon as the watch delivers it, within milliseconds. Follow
// returns when ctx ends or the watch ends; Silenced then reads the bucket
// again.
func (s *Store) Follow(ctx context.Context) error {
	w, err := s.kv.WatchAll(ctx)
	if err != nil {
		return fmt.Errorf("silences: watching %s: %w", topology.BucketSilences, err)
	}
	defer func() {
		_ = w.Stop()
		s.mu.Lock()
		s.cache, s.cached = nil, false
		s.mu.Unlock()
	}()
	s.mu.Lock()
	s.cache = map[string]Silence{}
	s.mu.Unlock()
	for {
		var e jetstream.KeyValueEntry
		var open bool
		select {
		case e, open = <-w.Updates():
			if !open {
				return nil
			}
		case <-ctx.Done():
			return nil
		}
		s.mu.Lock()
		switch {
		case e == nil: // the bucket's current state has been delivered
			s.cached = true
		case e.Operation() == jetstream.KeyValuePut:
			var sl Silence
			if json.Unmarshal(e.Value(), &sl) == nil {
				s.cache[e.Key()] = sl
			} else {
				delete(s.cache, e.Key())
			}
		default:
			delete(s.cache, e.Key())
		}
		s.mu.Unlock()
	}
}

func (s *Store) cachedGet(key string) (sl Silence, found, cached bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if !s.cached {
		return Silence{}, false, false
	}
	sl, found = s.cache[key]
	return sl, found, true
}

// Silenced reports whether an alert of watch on story is muted now, and by which silence.
func (s *Store) Silenced(ctx context.Context, watch, story string) (Silence, bool, error) {
	now := s.now()
	for _, key := range []string{watch, watch + "." + story} {
		sl, ok, cached := s.cachedGet(key)
		var err error
		if !cached {
			sl, ok, err = s.get(ctx, key)
		}
		if err != nil {
			return Silence{}, false, err
		}
		if ok && sl.Active(now) {
			return sl, true, nil
		}
	}
	return Silence{}, false, nil
}

// String describes the silence for humans.
func (s Silence) String() string {
	var b strings.Builder
	b.WriteString("watch " + s.Watch)
	if s.Story != "" {
		b.WriteString(" story " + s.Story)
	}
	if s.Until.IsZero() {
		b.WriteString(" until removed")
	} else {
		b.WriteString(" until " + s.Until.Format(time.RFC3339))
	}
	return b.String()
}

package fetcher

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"golang.org/x/net/html/charset"

	"github.com/newswatch/newswatch/pkg/config"
	"github.com/newswatch/newswatch/pkg/topology"
)

// ErrFeedNotFound is returned for a feed id the bucket does not hold.
var ErrFeedNotFound = errors.New("fetcher: no such feed")

// ErrOPML is wrapped by every failure to read an OPML file.
var ErrOPML = errors.New("fetcher: not a usable OPML file")

// FeedSpec is a feed as the newswatch_feeds bucket holds it, under its id.
type FeedSpec struct {
	ID       string        `json:"id"`
	URL      string        `json:"url"`
	Interval time.Duration `json:"interval"` // nanoseconds
	Paused   bool          `json:"paused,omitempty"`
	// Origin is "config" for feeds from the configuration file, which
	// come back at the next start if removed, and "operator" otherwise.
	Origin string `json:"origin,omitempty"`
	// Seed is the config.Feed.SeedHash of the config entry that last wrote
	// the feed: while the entry hashes the same, the operator's changes
	// to the feed are kept across restarts (docs/config.md).
	Seed string `json:"seed,omitempty"`
}

// Feed returns the spec as the config.Feed a poll takes.
func (s FeedSpec) Feed() config.Feed { return config.Feed{ID: s.ID, URL: s.URL, Interval: s.Interval} }

// Store reads and writes feeds in a KV bucket, one key per feed id.
type Store struct {
	kv jetstream.KeyValue
}

// NewStore returns a store over kv (the topology.BucketFeeds bucket).
func NewStore(kv jetstream.KeyValue) *Store { return &Store{kv: kv} }

// Put creates or replaces a feed. A feed that replaces one seeded from the
// config keeps that origin and seed, so the change stays until the config
// entry changes.
func (s *Store) Put(ctx context.Context, f FeedSpec) error {
	if old, err := s.Get(ctx, f.ID); err == nil && old.Origin == "config" && old.Seed != "" {
		f.Origin, f.Seed = old.Origin, old.Seed
	}
	return s.put(ctx, f)
}

func (s *Store) put(ctx context.Context, f FeedSpec) error {
	data, err := json.Marshal(f)
	if err != nil {
		return err
	}
	if _, err := s.kv.Put(ctx, f.ID, data); err != nil {
		return fmt.Errorf("fetcher: saving feed %q in %s: %w", f.ID, topology.BucketFeeds, err)
	}
	return nil
}

// Get returns one feed.
func (s *Store) Get(ctx context.Context, id string) (FeedSpec, error) {
	e, err := s.kv.Get(ctx, id)
	if errors.Is(err, jetstream.ErrKeyNotFound) || errors.Is(err, jetstream.ErrInvalidKey) {
		return FeedSpec{}, fmt.Errorf("%w: %q (newswatch feeds list shows the ids)", ErrFeedNotFound, id)
	}
	if err != nil {
		return FeedSpec{}, fmt.Errorf("fetcher: reading feed %q: %w", id, err)
	}
	var f FeedSpec
	if err := json.Unmarshal(e.Value(), &f); err != nil {
		return FeedSpec{}, fmt.Errorf("fetcher: %s/%s is not a feed: %w", topology.BucketFeeds, id, err)
	}
	return f, nil
}

// Delete removes a feed.
func (s *Store) Delete(ctx context.Context, id string) error {
	if _, err := s.Get(ctx, id); err != nil {
		return err
	}
	if err := s.kv.Delete(ctx, id); err != nil {
		return fmt.Errorf("fetcher: deleting feed %q: %w", id, err)
	}
	return nil
}

// List returns every feed, sorted by id, read in one pass over the bucket.
func (s *Store) List(ctx context.Context) ([]FeedSpec, error) {
	var out []FeedSpec
	err := readBucket(ctx, s.kv, func(_ string, f FeedSpec) { out = append(out, f) })
	if err != nil {
		return nil, fmt.Errorf("fetcher: listing %s: %w", topology.BucketFeeds, err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// FeedStates reads the whole newswatch_feed_state bucket (kv) in one pass,
// one stream instead of one request per feed: each feed's state by its id.
func FeedStates(ctx context.Context, kv jetstream.KeyValue) (map[string]FeedState, error) {
	out := map[string]FeedState{}
	if err := readBucket(ctx, kv, func(id string, st FeedState) { out[id] = st }); err != nil {
		return nil, fmt.Errorf("fetcher: reading %s: %w", topology.BucketFeedState, err)
	}
	return out, nil
}

// readBucket passes each entry of kv that decodes as a T to each, in one
// pass over the bucket; entries that do not decode are skipped.
func readBucket[T any](ctx context.Context, kv jetstream.KeyValue, each func(key string, v T)) error {
	w, err := kv.WatchAll(ctx, jetstream.IgnoreDeletes())
	if err != nil {
		return err
	}
	defer w.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case e := <-w.Updates():
			if e == nil {
				return nil
			}
			var v T
			if json.Unmarshal(e.Value(), &v) == nil {
				each(e.Key(), v)
			}
		}
	}
}

// ApplyConfig seeds the bucket with the configuration file's feeds: a feed
// the bucket does not hold, or one whose seed is not its config entry's
// SeedHash (the entry changed since), is written from the config; one
// seeded from the same entry is left as an operator may have changed it
// (paused, another URL or interval). Feeds added at run time are left alone.
func (s *Store) ApplyConfig(ctx context.Context, feeds []config.Feed) error {
	for _, cf := range feeds {
		spec := FeedSpec{ID: cf.ID, URL: cf.URL, Interval: cf.Interval, Origin: "config", Seed: cf.SeedHash()}
		old, err := s.Get(ctx, cf.ID)
		switch {
		case err == nil:
			if old.Seed == spec.Seed {
				continue
			}
			if old.Seed == "" && old.Origin == "config" {
				// Written before seeds were kept: keep the pause, as then.
				spec.Paused = old.Paused
			}
		case !errors.Is(err, ErrFeedNotFound):
			return err
		}
		if err := s.put(ctx, spec); err != nil {
			return err
		}
	}
	return nil
}

// Follow calls apply with the full set of feeds once the bucket has been
// read and after every change, until ctx ends. Entries that do not decode
// are logged and left out.
func (s *Store) Follow(ctx context.Context, logger *slog.Logger, apply func([]FeedSpec)) error {
	w, err := s.kv.WatchAll(ctx)
	if err != nil {
		return fmt.Errorf("fetcher: following %s: %w", topology.BucketFeeds, err)
	}
	defer w.Stop()
	current := map[string]FeedSpec{}
	initial := true
	emit := func() {
		list := make([]FeedSpec, 0, len(current))
		for _, v := range current {
			list = append(list, v)
		}
		apply(list)
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case e, ok := <-w.Updates():
			if !ok {
				return nil
			}
			if e == nil {
				initial = false
				emit()
				continue
			}
			switch e.Operation() {
			case jetstream.KeyValueDelete, jetstream.KeyValuePurge:
				delete(current, e.Key())
			default:
				var f FeedSpec
				if err := json.Unmarshal(e.Value(), &f); err != nil || f.URL == "" {
					logger.Error("ignoring a feed that does not decode", "key", e.Key(), "err", err)
					continue
				}
				f.ID = e.Key()
				current[f.ID] = f
			}
			if !initial {
				emit()
			}
		}
	}
}

// OPMLFeed is one feed outline of an OPML file.
type OPMLFeed struct {
	Title string
	URL   string
}

// ParseOPML returns the feed outlines (those with an xmlUrl) of an OPML
// subscription list, at any depth of nesting, in document order.
func ParseOPML(r io.Reader) ([]OPMLFeed, error) {
	type outline struct {
		Text     string    `xml:"text,attr"`
		Title    string    `xml:"title,attr"`
		XMLURL   string    `xml:"xmlUrl,attr"`
		Outlines []outline `xml:"outline"`
	}
	var doc struct {
		XMLName xml.Name  `xml:"opml"`
		Body    []outline `xml:"body>outline"`
	}
	dec := xml.NewDecoder(io.LimitReader(r, 16<<20))
	dec.Strict = false
	dec.CharsetReader = charsetReader
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrOPML, err)
	}
	var out []OPMLFeed
	var walk func([]outline, int)
	walk = func(os []outline, depth int) {
		if depth > 64 {
			return
		}
		for _, o := range os {
			if u := strings.TrimSpace(o.XMLURL); u != "" {
				title := o.Title
				if title == "" {
					title = o.Text
				}
				out = append(out, OPMLFeed{Title: strings.TrimSpace(title), URL: u})
			}
			walk(o.Outlines, depth+1)
		}
	}
	walk(doc.Body, 0)
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: no <outline xmlUrl=...> elements", ErrOPML)
	}
	return out, nil
}

// charsetReader decodes OPML files in the encodings their XML declaration names.
var charsetReader = charset.NewReaderLabel

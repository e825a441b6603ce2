package fetcher

import (
	"log/slog"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Defaults of the options below. They are set here and nowhere else.
const (
	// DefaultHostConcurrency is how many requests (feeds and pages) may be
	// in flight to one host at once: two, as RFC 2616 once advised and as
	// browsers still do per origin for HTTP/1.1 politeness.
	DefaultHostConcurrency = 2
	// DefaultHostGap is the least time between the starts of two requests
	// to one host. Half a second lets a host with 50 feeds be polled in
	// under a minute while never seeing more than two requests a second.
	DefaultHostGap = 500 * time.Millisecond
	// DefaultJitter spreads each feed's next poll over interval ±10 %, so
	// feeds added together do not stay in lock-step.
	DefaultJitter = 0.1
	// DefaultLeaseGrace is how long past a feed's next poll its lease
	// stays valid, and so how long a dead replica's feeds wait before
	// another replica takes them over.
	DefaultLeaseGrace = time.Minute
	// DefaultMaxCacheHint bounds how far Cache-Control, Expires or an RSS
	// <ttl> may push a feed's next poll, so a feed that says "fresh for a
	// week" is still looked at a few times a day.
	DefaultMaxCacheHint = 6 * time.Hour
	// DefaultRobotsTTL is how long a host's robots.txt is cached.
	DefaultRobotsTTL = 12 * time.Hour
)

// Option configures a Fetcher.
type Option func(*Fetcher)

// WithClock replaces time.Now for the times a poll records and computes; the
// scheduler's timers keep real time, so Run needs the real clock.
func WithClock(now func() time.Time) Option { return func(f *Fetcher) { f.now = now } }

// WithLogger sets the logger.
func WithLogger(l *slog.Logger) Option { return func(f *Fetcher) { f.logger = l } }

// WithHostLimits sets the per-host politeness: at most perHost requests in
// flight to one host and at least gap between the starts of two of them.
// perHost < 1 keeps the default; gap < 0 keeps the default.
func WithHostLimits(perHost int, gap time.Duration) Option {
	return func(f *Fetcher) {
		if perHost >= 1 {
			f.hostConcurrency = perHost
		}
		if gap >= 0 {
			f.hostGap = gap
		}
	}
}

// WithJitter sets the fraction (0 to 0.5) by which a feed's interval is
// randomly lengthened or shortened on each poll.
func WithJitter(frac float64) Option {
	return func(f *Fetcher) {
		if frac >= 0 && frac <= 0.5 {
			f.jitter = frac
		}
	}
}

// WithFeedStore makes Run follow the feeds in store (the newswatch_feeds
// bucket) instead of the fixed list given to New, so that feeds added,
// removed, paused or resumed at run time take effect without a restart.
func WithFeedStore(store *Store) Option { return func(f *Fetcher) { f.store = store } }

// WithLeases makes replicas share feeds: a feed is polled only by the
// replica holding its lease in kv (the newswatch_leases bucket). owner names
// this replica and must differ between replicas; grace is how long past the
// next poll a lease outlives its holder (0 keeps DefaultLeaseGrace).
func WithLeases(kv jetstream.KeyValue, owner string, grace time.Duration) Option {
	return func(f *Fetcher) {
		f.leases = newLeases(kv, owner)
		if grace > 0 {
			f.leaseGrace = grace
		}
	}
}

// WithPageFetch turns the download and extraction of article pages on or
// off (on by default); off, an article carries the feed's summary. The
// polling benchmark uses it to measure feed handling alone.
func WithPageFetch(on bool) Option { return func(f *Fetcher) { f.fetchPages = on } }

// WithRobots turns robots.txt checks for article pages on or off (on by
// default, fetcher.respect_robots). Feeds themselves are always fetched: a
// publisher who lists a feed invites its polling.
func WithRobots(on bool) Option { return func(f *Fetcher) { f.respectRobots = on } }

// WithMaxCacheHint bounds how far a feed's cache headers or RSS <ttl> may
// delay its next poll.
func WithMaxCacheHint(d time.Duration) Option {
	return func(f *Fetcher) {
		if d > 0 {
			f.maxCacheHint = d
		}
	}
}

package fetcher

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/newswatch/newswatch/pkg/config"
	"github.com/newswatch/newswatch/pkg/extract"
	"github.com/newswatch/newswatch/pkg/httpguard"
	"github.com/newswatch/newswatch/pkg/natstest"
	"github.com/newswatch/newswatch/pkg/testwait"
	"github.com/newswatch/newswatch/pkg/topology"
)

// startRecorder notes when each request leaves the fetcher: the server sees
// arrivals, which a fresh connection's dial can delay past a later request
// on a kept-alive one.
type startRecorder struct {
	next   Getter
	mu     sync.Mutex
	starts []time.Time
}

func (s *startRecorder) Get(ctx context.Context, url string, hdr http.Header) (*httpguard.Response, error) {
	s.mu.Lock()
	s.starts = append(s.starts, time.Now())
	s.mu.Unlock()
	return s.next.Get(ctx, url, hdr)
}

// replica is one fetcher with its own NATS connection, as a pod would have.
type replica struct {
	starts  *startRecorder
	f       *Fetcher
	nc      *nats.Conn
	metrics *Metrics
	cancel  context.CancelFunc
	done    chan error
}

// buckets opens the fetcher's KV buckets through js.
type buckets struct {
	seen, state, feeds, leases jetstream.KeyValue
}

func openBuckets(t testing.TB, ns *natstest.Server, js jetstream.JetStream) buckets {
	t.Helper()
	topo := topology.New(js, ns.Cfg)
	var b buckets
	for _, x := range []struct {
		kv   *jetstream.KeyValue
		name string
	}{{&b.seen, topology.BucketSeen}, {&b.state, topology.BucketFeedState}, {&b.feeds, topology.BucketFeeds}, {&b.leases, topology.BucketLeases}} {
		kv, err := topo.KV(context.Background(), x.name, 0, 1)
		if err != nil {
			t.Fatal(err)
		}
		*x.kv = kv
	}
	return b
}

// newReplica builds a fetcher on its own connection to ns; ua names it in
// the requests it sends.
func newReplica(t testing.TB, ns *natstest.Server, ua string, feeds []config.Feed, concurrency int, opts func(b buckets) []Option) *replica {
	t.Helper()
	nc, err := nats.Connect(ns.URL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	b := openBuckets(t, ns, js)
	cfg := config.Default().Fetcher
	cfg.Concurrency = concurrency
	cfg.UserAgent = ua
	cfg.Timeout = 2 * time.Second
	client := httpguard.New(httpguard.WithAllowPrivateNetworks(true), httpguard.WithUserAgent(ua),
		httpguard.WithTimeouts(time.Second, time.Second, cfg.Timeout))
	m := NewMetrics(prometheus.NewRegistry())
	o := []Option{WithLogger(slog.New(slog.DiscardHandler))}
	if opts != nil {
		o = append(o, opts(b)...)
	}
	rec := &startRecorder{next: client}
	return &replica{f: New(js, rec, extract.New(), b.seen, b.state, cfg, feeds, m, o...), nc: nc, metrics: m, starts: rec}
}

func (r *replica) start() {
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	r.done = make(chan error, 1)
	go func() { r.done <- r.f.Run(ctx) }()
}

func (r *replica) stop(t testing.TB) {
	t.Helper()
	r.cancel()
	select {
	case err := <-r.done:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
}

// hits records the requests a test server receives.
type hits struct {
	mu       sync.Mutex
	byPath   map[string][]hit
	inflight atomic.Int32
	maxSeen  atomic.Int32
}

type hit struct {
	at time.Time
	ua string
}

func newHits() *hits { return &hits{byPath: map[string][]hit{}} }

func (h *hits) record(r *http.Request) func() {
	n := h.inflight.Add(1)
	for {
		m := h.maxSeen.Load()
		if n <= m || h.maxSeen.CompareAndSwap(m, n) {
			break
		}
	}
	h.mu.Lock()
	now := time.Now()
	h.byPath[r.URL.Path] = append(h.byPath[r.URL.Path], hit{at: now, ua: r.UserAgent()})
	h.mu.Unlock()
	return func() { h.inflight.Add(-1) }
}

func (h *hits) of(path string) []hit {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]hit(nil), h.byPath[path]...)
}

func (h *hits) paths() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.byPath)
}

// notModifiedServer answers every feed with 304 after a short pause, long
// enough for concurrent requests to overlap.
func notModifiedServer(t testing.TB, h *hits, pause time.Duration) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer h.record(r)()
		time.Sleep(pause)
		w.WriteHeader(http.StatusNotModified)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func manyFeeds(base string, n int, interval time.Duration) []config.Feed {
	feeds := make([]config.Feed, n)
	for i := range feeds {
		feeds[i] = config.Feed{ID: fmt.Sprintf("f%04d", i), URL: fmt.Sprintf("%s/feed/%d.xml", base, i), Interval: interval}
	}
	return feeds
}

func TestPerHostLimit(t *testing.T) {
	tests := []struct {
		name    string
		perHost int
		gap     time.Duration
	}{
		{"two in flight, no gap", 2, 0},
		{"one in flight, 5ms gap", 1, 5 * time.Millisecond},
		{"three in flight, 10ms gap", 3, 10 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ns := natstest.Start(t)
			h := newHits()
			srv := notModifiedServer(t, h, 3*time.Millisecond)
			feeds := manyFeeds(srv.URL, 100, time.Hour)
			r := newReplica(t, ns, "newswatch-test", feeds, 16, func(buckets) []Option {
				return []Option{WithHostLimits(tt.perHost, tt.gap)}
			})
			// The limiter's own marks, taken under its lock: a request's
			// note in the Getter may come late when its goroutine is
			// preempted, which on a busy machine shrinks the gap seen there.
			var marksMu sync.Mutex
			var marks []time.Time
			r.f.hosts.marked = func(_ string, at time.Time) {
				marksMu.Lock()
				marks = append(marks, at)
				marksMu.Unlock()
			}
			r.start()
			testwait.True(t, time.Minute, "every feed polled", func() bool { return h.paths() == 100 })
			r.stop(t)
			if got := h.maxSeen.Load(); got > int32(tt.perHost) {
				t.Errorf("%d requests in flight to one host, limit %d", got, tt.perHost)
			}
			if tt.perHost == 2 && h.maxSeen.Load() < 2 {
				t.Errorf("never two requests in flight: the limit is not used fully")
			}
			r.starts.mu.Lock()
			requests := len(r.starts.starts)
			r.starts.mu.Unlock()
			marksMu.Lock()
			starts := append([]time.Time(nil), marks...)
			marksMu.Unlock()
			if len(starts) != requests {
				t.Fatalf("%d requests left the fetcher but the limiter marked %d starts: a request bypassed it", requests, len(starts))
			}
			sort.Slice(starts, func(i, j int) bool { return starts[i].Before(starts[j]) })
			for i := 1; i < len(starts); i++ {
				if d := starts[i].Sub(starts[i-1]); d < tt.gap {
					t.Fatalf("requests %d and %d to one host %s apart, gap %s", i-1, i, d, tt.gap)
				}
			}
			for i := range feeds {
				if n := len(h.of(fmt.Sprintf("/feed/%d.xml", i))); n != 1 {
					t.Errorf("feed %d polled %d times in its first interval", i, n)
				}
			}
		})
	}
}

// pollsBy counts the polls of each feed by ua after t.
func pollsBy(h *hits, feeds []config.Feed, ua string, after time.Time) []int {
	out := make([]int, len(feeds))
	for i := range feeds {
		for _, x := range h.of(fmt.Sprintf("/feed/%d.xml", i)) {
			if x.at.After(after) && (ua == "" || x.ua == ua) {
				out[i]++
			}
		}
	}
	return out
}

func atLeast(counts []int, n int) bool {
	for _, c := range counts {
		if c < n {
			return false
		}
	}
	return true
}

func TestLeasesShareFeedsAndTakeOver(t *testing.T) {
	ns := natstest.Start(t)
	h := newHits()
	srv := notModifiedServer(t, h, 0)
	const interval = 2 * time.Second
	const grace = time.Second
	feeds := manyFeeds(srv.URL, 200, interval)
	opts := func(owner string) func(b buckets) []Option {
		return func(b buckets) []Option {
			return []Option{WithHostLimits(64, 0), WithJitter(0), WithLeases(b.leases, owner, grace)}
		}
	}
	a := newReplica(t, ns, "replica-a", feeds, 8, opts("a"))
	b := newReplica(t, ns, "replica-b", feeds, 8, opts("b"))
	a.start()
	b.start()

	// Three polls of every feed with both running.
	testwait.True(t, time.Minute, "every feed polled three times", func() bool { return atLeast(pollsBy(h, feeds, "", time.Time{}), 3) })
	// A replica stalled past the grace on a busy machine loses a lease to
	// the other and counts it until its next claim, so the sum settles.
	testwait.True(t, time.Minute, "200 leases shared by both replicas", func() bool {
		heldA, heldB := testutil.ToFloat64(a.metrics.LeasesHeld), testutil.ToFloat64(b.metrics.LeasesHeld)
		return heldA+heldB == 200 && heldA > 0 && heldB > 0
	})

	// Replica a dies without releasing anything: its connection goes first.
	a.nc.Close()
	a.stop(t)
	died := time.Now()
	// Its leases expire (a poll under way: the client timeout plus the
	// grace; a finished one: its next poll plus the grace) and b takes
	// every feed over, then polls each again an interval later.
	testwait.True(t, time.Minute, "every feed polled twice by b after a died", func() bool { return atLeast(pollsBy(h, feeds, "replica-b", died), 2) })

	for i := range feeds {
		hs := h.of(fmt.Sprintf("/feed/%d.xml", i))
		// A lease keeps a feed with one replica for an interval: a
		// change of hands comes a whole interval after the previous poll.
		// (A replica's own polls follow its schedule; how late a request
		// reaches the server on a busy machine is no concern here.)
		for j := 1; j < len(hs); j++ {
			if hs[j].ua != hs[j-1].ua {
				if d := hs[j].at.Sub(hs[j-1].at); d < interval-200*time.Millisecond {
					t.Errorf("feed %d polled by %s then %s within %s", i, hs[j-1].ua, hs[j].ua, d)
				}
			}
		}
		for _, x := range hs {
			if x.at.After(died) && x.ua == "replica-a" {
				t.Errorf("feed %d polled by the dead replica", i)
			}
		}
	}
	if got := testutil.ToFloat64(b.metrics.LeasesHeld); got != 200 {
		t.Errorf("replica b holds %v leases after the takeover, want 200", got)
	}
	b.stop(t)
}

package fetcher

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/newswatch/newswatch/pkg/config"
	"github.com/newswatch/newswatch/pkg/events"
	"github.com/newswatch/newswatch/pkg/natstest"
	"github.com/newswatch/newswatch/pkg/testwait"
	"github.com/newswatch/newswatch/pkg/topology"
)

// site serves one feed of n items at /feed.xml, newest first, and their
// pages at /news/<i>; it counts the downloads of each page. onPage, when
// set, runs before a page is served (with the number of page downloads so
// far, this one included).
type site struct {
	srv    *httptest.Server
	n      int
	mu     sync.Mutex
	pages  map[string]int
	total  atomic.Int32
	feeds  atomic.Int32
	first  atomic.Int64 // unix nanos of the first feed request
	onPage func(path string, n int32)
	body   func(path string) string
}

func newSite(t testing.TB, n int) *site {
	s := &site{n: n, pages: map[string]int{}}
	now := time.Now()
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/feed.xml":
			s.first.CompareAndSwap(0, time.Now().UnixNano())
			s.feeds.Add(1)
			var b strings.Builder
			for i := range s.n {
				fmt.Fprintf(&b, `<item><title>Story %d</title><link>%s/news/%d</link><guid>%d</guid><description>Summary %d.</description><pubDate>%s</pubDate></item>`,
					i, s.srv.URL, i, i, i, now.Add(-time.Duration(i)*time.Minute).Format(time.RFC1123Z))
			}
			w.Header().Set("Content-Type", "application/rss+xml")
			fmt.Fprint(w, rssFeed(s.srv.URL, b.String()))
		case strings.HasPrefix(r.URL.Path, "/news/"):
			s.mu.Lock()
			s.pages[r.URL.Path]++
			s.mu.Unlock()
			k := s.total.Add(1)
			if s.onPage != nil {
				s.onPage(r.URL.Path, k)
			}
			if s.body != nil {
				fmt.Fprint(w, s.body(r.URL.Path))
				return
			}
			fmt.Fprintf(w, page, "Story "+r.URL.Path, "Story "+r.URL.Path)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *site) twice() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.pages {
		if c > 1 {
			n++
		}
	}
	return n
}

// streamArticles reads every article on ARTICLES.
func streamArticles(t testing.TB, js jetstream.JetStream) []events.Article {
	t.Helper()
	var out []events.Article
	for _, data := range natstest.Messages(t, js, topology.StreamArticles, "") {
		var a events.Article
		if err := json.Unmarshal(data, &a); err != nil {
			t.Fatal(err)
		}
		out = append(out, a)
	}
	return out
}

func streamCount(js jetstream.JetStream) uint64 {
	s, err := js.Stream(context.Background(), topology.StreamArticles)
	if err != nil {
		return 0
	}
	info, err := s.Info(context.Background())
	if err != nil {
		return 0
	}
	return info.State.Msgs
}

// checkOnce fails unless arts holds want articles, each id once, none with
// only the feed's summary.
func checkOnce(t *testing.T, arts []events.Article, want int) {
	t.Helper()
	ids := map[string]bool{}
	for _, a := range arts {
		if ids[a.ID] {
			t.Errorf("article %s (%s) published twice", a.ID, a.URL)
		}
		ids[a.ID] = true
		if a.ExtractError != "" || !strings.Contains(a.Text, "31 MQ-9B drones") {
			t.Errorf("article %s is summary-only: extract_error %q", a.URL, a.ExtractError)
		}
	}
	if len(ids) != want {
		t.Errorf("%d distinct articles, want %d", len(ids), want)
	}
}

// A poll publishes each article as soon as its page is extracted: when the
// last of 60 pages is requested, earlier articles are already on the stream
// and recorded as seen.
func TestPollStreamsArticles(t *testing.T) {
	s := newSite(t, 60)
	fx := newFixture(t, func(string) http.Handler { return s.srv.Config.Handler }, WithHostLimits(2, 5*time.Millisecond))
	fx.feed.URL = s.srv.URL + "/feed.xml"
	fx.now = time.Now()
	seen, _ := fx.ns.Topo.KV(t.Context(), topology.BucketSeen, 0, 1)
	var atLast, seenAtLast, firstAt atomic.Int64
	s.onPage = func(path string, n int32) {
		if n == 1 {
			return
		}
		if firstAt.Load() == 0 && streamCount(fx.ns.JS) > 0 {
			firstAt.Store(time.Now().UnixNano())
		}
		if path == "/news/59" { // the oldest item, so the last page
			atLast.Store(int64(streamCount(fx.ns.JS)))
			keys, _ := seen.ListKeys(context.Background())
			var k int64
			for range keys.Keys() {
				k++
			}
			seenAtLast.Store(k)
		}
	}
	res, err := fx.f.PollOnce(t.Context(), fx.feed)
	if err != nil {
		t.Fatal(err)
	}
	if res.Published != 60 {
		t.Fatalf("published %d of 60", res.Published)
	}
	if atLast.Load() < 1 || seenAtLast.Load() < 1 {
		t.Fatalf("when the last page was requested the stream held %d articles and %s %d records; want them published as they come",
			atLast.Load(), topology.BucketSeen, seenAtLast.Load())
	}
	t.Logf("first article on the stream %s after the feed request; %d of 60 published before the last page was requested",
		time.Duration(firstAt.Load()-s.first.Load()), atLast.Load())
	checkOnce(t, streamArticles(t, fx.ns.JS), 60)
	if got := testutil.CollectAndCount(fx.metrics.PublishLatency); got != 1 {
		t.Errorf("latency histogram has %d series", got)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(fx.metrics.PublishLatency)
	mfs, err := reg.Gather()
	if err != nil || len(mfs) != 1 {
		t.Fatal(err)
	}
	if got := mfs[0].GetMetric()[0].GetHistogram().GetSampleCount(); got != 60 {
		t.Errorf("latency histogram counted %d articles, want 60", got)
	}
}

// A poll takes at most fetcher.max_items_per_poll new items, newest first,
// and leaves the rest for a next poll that comes at once; old items of a
// first poll cut short are still only recorded, never published.
func TestPollIsBounded(t *testing.T) {
	s := newSite(t, 25)
	fx := newFixture(t, func(string) http.Handler { return s.srv.Config.Handler }, WithHostLimits(2, 0))
	fx.feed.URL = s.srv.URL + "/feed.xml"
	fx.now = time.Now()
	fx.f.maxItems = 10
	fx.f.cfg.MaxItemAge = 20*time.Minute + 30*time.Second // items 21..24 are too old
	var polls int
	for ; polls < 10; polls++ {
		res, next, err := fx.f.poll(t.Context(), fx.feed)
		if err != nil {
			t.Fatal(err)
		}
		st, _ := fx.f.readState(t.Context(), fx.feed.ID)
		if !res.Backlog {
			if st.Backlog || st.Initial {
				t.Errorf("state after the last poll %+v", st)
			}
			break
		}
		if res.Published != 10 || !st.Backlog || !st.Initial || next.After(fx.now) {
			t.Fatalf("poll %d: %+v, state %+v, next %s", polls, res, st, next.Sub(fx.now))
		}
	}
	arts := streamArticles(t, fx.ns.JS)
	if polls != 2 || len(arts) != 21 {
		t.Fatalf("%d polls, %d articles; want 3 polls and items 0..20 published", polls+1, len(arts))
	}
	first := map[string]bool{}
	for _, a := range arts[:10] {
		first[a.Title] = true
	}
	for i := range 10 {
		if !first[fmt.Sprintf("Story %d", i)] {
			t.Errorf("first poll did not publish Story %d (newest first): %v", i, first)
		}
	}
}

// A fetcher killed mid-poll (no clean stop: its connection is gone) is
// followed by a new one with another owner: it resumes without downloading
// again the pages already published, and every article is published once.
func TestRestartMidPollResumes(t *testing.T) {
	ns := natstest.Start(t)
	s := newSite(t, 60)
	feeds := []config.Feed{{ID: "wire", URL: s.srv.URL + "/feed.xml", Interval: time.Hour}}
	opts := func(owner string) func(b buckets) []Option {
		return func(b buckets) []Option {
			return []Option{WithHostLimits(2, 0), WithRobots(false), WithLeases(b.leases, owner, time.Second)}
		}
	}
	a := newReplica(t, ns, "replica-a", feeds, 1, opts("a"))
	a.f.shutdownGrace = 0
	killed := make(chan struct{})
	var once sync.Once
	s.onPage = func(_ string, n int32) {
		if n == 12 {
			once.Do(func() {
				a.nc.Close() // as SIGKILL: nothing more reaches NATS
				a.cancel()
				close(killed)
			})
		}
	}
	a.start()
	<-killed
	a.stop(t)
	before := streamCount(ns.JS)
	if before < 5 {
		t.Errorf("only %d articles published before the kill at the 12th page", before)
	}
	b := newReplica(t, ns, "replica-b", feeds, 1, opts("b"))
	b.start()
	defer b.stop(t)
	testwait.True(t, time.Minute, "all 60 articles published", func() bool { return streamCount(ns.JS) >= 60 })
	testwait.True(t, time.Minute, "the poll saved", func() bool { return testutil.ToFloat64(b.metrics.Polls.WithLabelValues("ok")) >= 1 })
	checkOnce(t, streamArticles(t, ns.JS), 60)
	if n := s.twice(); n > 6 {
		t.Errorf("%d of 60 pages downloaded twice, want at most 10%%", n)
	}
	t.Logf("%d articles before the kill; %d pages downloaded twice", before, s.twice())
}

// SIGTERM mid-poll: the fetcher finishes the item in hand (or cancels it
// after fetcher.shutdown_grace, publishing nothing for it), releases its
// lease after its last write, and a new fetcher (new owner) polls the feed
// at once and publishes every article, none summary-only.
func TestStopMidPollHandsOver(t *testing.T) {
	for _, tt := range []struct {
		name  string
		grace time.Duration
		slow  time.Duration
	}{
		{"item finished within the grace", 5 * time.Second, 300 * time.Millisecond},
		{"item cancelled after the grace", 20 * time.Millisecond, 2 * time.Second},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ns := natstest.Start(t)
			s := newSite(t, 5)
			started := make(chan struct{}, 16)
			var slow atomic.Bool
			slow.Store(true)
			s.onPage = func(string, int32) {
				started <- struct{}{}
				if slow.Load() {
					time.Sleep(tt.slow) // a slow site, not synchronisation
				}
			}
			feeds := []config.Feed{{ID: "wire", URL: s.srv.URL + "/feed.xml", Interval: time.Hour}}
			var leasesKV jetstream.KeyValue
			opts := func(owner string) func(b buckets) []Option {
				return func(b buckets) []Option {
					leasesKV = b.leases
					// A grace far longer than the test: only a released
					// lease lets the new owner poll at once.
					return []Option{WithHostLimits(2, 0), WithRobots(false), WithLeases(b.leases, owner, 10*time.Minute)}
				}
			}
			a := newReplica(t, ns, "replica-a", feeds, 2, opts("a"))
			a.f.shutdownGrace = tt.grace
			a.start()
			<-started
			a.stop(t)
			if _, err := leasesKV.Get(context.Background(), "wire"); !errors.Is(err, jetstream.ErrKeyNotFound) {
				t.Fatalf("lease of the stopped fetcher still there: %v", err)
			}
			for _, art := range streamArticles(t, ns.JS) {
				if art.ExtractError != "" {
					t.Fatalf("the stop published a summary-only article: %s (%s)", art.URL, art.ExtractError)
				}
			}
			if n := testutil.CollectAndCount(a.metrics.ExtractionFailures); n != 0 {
				t.Errorf("a cancelled download counted as an extraction failure (%d series)", n)
			}
			slow.Store(false)
			b := newReplica(t, ns, "replica-b", feeds, 2, opts("b"))
			b.start()
			defer b.stop(t)
			testwait.True(t, time.Minute, "all 5 articles published", func() bool { return streamCount(ns.JS) >= 5 })
			checkOnce(t, streamArticles(t, ns.JS), 5)
		})
	}
}

// Two feeds with a huge backlog (100,000 items; 10,000 with -short or
// -race, under which parsing is ten times slower) and two workers: a third
// feed is still polled at its interval while both backlogs progress.
func TestHugeBacklogSharesWorkers(t *testing.T) {
	n := 100_000
	if testing.Short() || raceEnabled {
		n = 10_000
	}
	ns := natstest.Start(t)
	var bodies sync.Map // host -> feed of n items on that host
	h := newHits()
	mux := http.NewServeMux()
	mux.HandleFunc("/big/", func(w http.ResponseWriter, r *http.Request) {
		body, ok := bodies.Load(r.Host)
		if !ok {
			var b strings.Builder
			b.WriteString(`<?xml version="1.0"?><rss version="2.0"><channel><title>Big</title>`)
			for i := range n {
				fmt.Fprintf(&b, `<item><link>http://%s/p/%d</link></item>`, r.Host, i)
			}
			b.WriteString(`</channel></rss>`)
			body, _ = bodies.LoadOrStore(r.Host, b.String())
		}
		w.Header().Set("Content-Type", "application/rss+xml")
		fmt.Fprint(w, body)
	})
	mux.HandleFunc("/p/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, page, "Story", "Story")
	})
	mux.HandleFunc("/small.xml", func(w http.ResponseWriter, r *http.Request) {
		defer h.record(r)()
		w.WriteHeader(http.StatusNotModified)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	// Each big feed on its own host name for the same server.
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	feeds := []config.Feed{
		{ID: "big1", URL: "http://127.0.0.1:" + port + "/big/1.xml", Interval: time.Hour},
		{ID: "big2", URL: "http://localhost:" + port + "/big/2.xml", Interval: time.Hour},
		{ID: "small", URL: srv.URL + "/small.xml", Interval: time.Second},
	}
	r := newReplica(t, ns, "newswatch-test", feeds, 2, func(buckets) []Option {
		return []Option{WithHostLimits(4, 0), WithRobots(false), WithJitter(0)}
	})
	r.f.slice = 300 * time.Millisecond
	r.start()
	defer r.stop(t)
	testwait.True(t, time.Minute, "the small feed polled 5 times", func() bool { return len(h.of("/small.xml")) >= 5 })
	testwait.True(t, time.Minute, "both backlogs progressing", func() bool {
		s, err := ns.JS.Stream(context.Background(), topology.StreamArticles)
		if err != nil {
			return false
		}
		info, err := s.Info(context.Background(), jetstream.WithSubjectFilter(topology.ArticleSubject("*")))
		if err != nil {
			return false
		}
		return info.State.Subjects[topology.ArticleSubject("big1")] > 0 && info.State.Subjects[topology.ArticleSubject("big2")] > 0
	})
	for _, id := range []string{"big1", "big2"} {
		if st, _ := r.f.readState(context.Background(), id); !st.Backlog {
			t.Errorf("feed %s has no backlog left: the small feed's polls did not overlap it (%+v)", id, st)
		}
	}
	hs := h.of("/small.xml")
	for i := 1; i < len(hs); i++ {
		t.Logf("small feed poll %d after %s", i, hs[i].at.Sub(hs[i-1].at).Round(time.Millisecond))
	}
}

// An article whose text is far over the limit is cut at a paragraph
// boundary and marked; one that could never fit is a failure of the feed,
// remembered so its page is not downloaded on every poll.
func TestOversizedText(t *testing.T) {
	var hb strings.Builder
	hb.WriteString("<!doctype html><html><body><article><h1>Huge</h1>")
	for i := range 1500 {
		fmt.Fprintf(&hb, "<p>Paragraph %d. %s</p>", i, strings.Repeat(fmt.Sprintf("Officials said %d drones would be delivered within two years. ", i), 20))
	}
	hb.WriteString("</article></body></html>")
	huge := hb.String()
	t.Run("truncated", func(t *testing.T) {
		s := newSite(t, 1)
		s.body = func(string) string { return huge }
		fx := newFixture(t, func(string) http.Handler { return s.srv.Config.Handler }, WithHostLimits(2, 0), WithRobots(false))
		fx.feed.URL = s.srv.URL + "/feed.xml"
		fx.now = time.Now()
		for range 2 {
			if _, err := fx.f.PollOnce(t.Context(), fx.feed); err != nil {
				t.Fatal(err)
			}
		}
		arts := streamArticles(t, fx.ns.JS)
		if len(arts) != 1 {
			t.Fatalf("%d articles", len(arts))
		}
		a := arts[0]
		if !a.TextTruncated || len(a.Text) > fx.f.maxText || len(a.Text) < fx.f.maxText/2 || !strings.HasSuffix(a.Text, "years.") {
			t.Errorf("text of %d bytes (limit %d), truncated %v, ends %q", len(a.Text), fx.f.maxText, a.TextTruncated, a.Text[max(0, len(a.Text)-20):])
		}
		if s.total.Load() != 1 {
			t.Errorf("page downloaded %d times", s.total.Load())
		}
	})
	t.Run("too large even so", func(t *testing.T) {
		s := newSite(t, 1)
		s.body = func(string) string { return huge }
		fx := newFixture(t, func(string) http.Handler { return s.srv.Config.Handler }, WithHostLimits(2, 0), WithRobots(false))
		fx.feed.URL = s.srv.URL + "/feed.xml"
		fx.now = time.Now()
		fx.f.maxText = 4 << 20 // as if the limit were set above the max payload
		_, err := fx.f.PollOnce(t.Context(), fx.feed)
		if !errors.Is(err, ErrPublish) || !strings.Contains(err.Error(), "max payload") {
			t.Fatalf("poll error %v, want ErrPublish naming the max payload", err)
		}
		st, _ := fx.f.readState(t.Context(), fx.feed.ID)
		if st.ConsecutiveFailures != 1 || !strings.Contains(st.LastError, "max_text_bytes") {
			t.Errorf("feed state %+v: the failure must show", st)
		}
		if got := testutil.ToFloat64(fx.metrics.PublishFailures.WithLabelValues("too_large")); got != 1 {
			t.Errorf("publish failures %v", got)
		}
		if _, err := fx.f.PollOnce(t.Context(), fx.feed); err != nil {
			t.Fatalf("second poll: %v", err)
		}
		if s.total.Load() != 1 {
			t.Errorf("page downloaded %d times: it loops", s.total.Load())
		}
	})
}

// A transient failure (connection refused, 5xx) is retried after 15 s,
// doubling; a permanent one (404) after the interval.
func TestTransientFailuresRetrySoon(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := "http://" + l.Addr().String() + "/feed.xml"
	l.Close()
	var status atomic.Int32
	fx := newFixture(t, func(string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(int(status.Load())) })
	})
	fx.feed.Interval = 10 * time.Minute
	for _, tt := range []struct {
		name   string
		url    string
		status int
		want   []time.Duration
	}{
		{"connection refused", refused, 0, []time.Duration{15 * time.Second, 30 * time.Second, time.Minute}},
		{"502", fx.feed.URL, 502, []time.Duration{15 * time.Second, 30 * time.Second}},
		{"404", fx.feed.URL, 404, []time.Duration{10 * time.Minute, 20 * time.Minute}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			feed := fx.feed
			feed.ID, feed.URL = strings.ReplaceAll(tt.name, " ", "-"), tt.url
			status.Store(int32(tt.status))
			for i, want := range tt.want {
				_, next, err := fx.f.poll(t.Context(), feed)
				if err == nil {
					t.Fatal("poll succeeded")
				}
				if got := next.Sub(fx.now); got != want {
					t.Errorf("failure %d: next poll in %s, want %s (%v)", i+1, got, want, err)
				}
			}
		})
	}
	if got := retryDelay(10*time.Minute, 7, true); got != 16*time.Minute {
		t.Errorf("7th transient failure: %s, want the doubling to go past the interval", got)
	}
	if got := retryDelay(5*time.Second, 1, true); got != 5*time.Second {
		t.Errorf("a 5 s feed's first retry in %s", got)
	}
}

// Failure reasons of pages are labelled by what failed, not "other".
func TestExtractionFailureReasons(t *testing.T) {
	fx := newFixture(t, func(base string) http.Handler {
		mux := http.NewServeMux()
		mux.HandleFunc("/feed.xml", func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprint(w, rssFeed(base, item(base, "/gone", "Gone", time.Now()), item(base, "/empty", "Empty", time.Now())))
		})
		mux.HandleFunc("/gone", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "gone", http.StatusGone) })
		mux.HandleFunc("/empty", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "<html><body></body></html>") })
		return mux
	}, WithHostLimits(2, 0), WithRobots(false))
	fx.now = time.Now()
	if _, err := fx.f.PollOnce(t.Context(), fx.feed); err != nil {
		t.Fatal(err)
	}
	for reason, want := range map[string]float64{"http_status": 1, "extract": 1, "other": 0} {
		if got := testutil.ToFloat64(fx.metrics.ExtractionFailures.WithLabelValues(reason)); got != want {
			t.Errorf("reason %s: %v, want %v", reason, got, want)
		}
	}
}

// The fetcher's asynchronous publishes that fail are counted in
// newswatch_jetstream_publish_errors_total, the poll fails (transiently)
// and the items stay unseen, published once the stream is back.
func TestAsyncPublishErrorsCounted(t *testing.T) {
	s := newSite(t, 3)
	reg := prometheus.NewRegistry()
	fx := newFixture(t, func(string) http.Handler { return s.srv.Config.Handler }, WithHostLimits(2, 0), WithRobots(false))
	fx.f.js = topology.CountPublishErrors(fx.ns.JS, reg)
	fx.feed.URL = s.srv.URL + "/feed.xml"
	fx.now = time.Now()
	if err := fx.ns.JS.DeleteStream(t.Context(), topology.StreamArticles); err != nil {
		t.Fatal(err)
	}
	_, next, err := fx.f.poll(t.Context(), fx.feed)
	if !errors.Is(err, ErrPublish) || !isTransient(err) {
		t.Fatalf("poll error %v, want a transient ErrPublish", err)
	}
	if next.Sub(fx.now) != firstRetry {
		t.Errorf("next poll in %s", next.Sub(fx.now))
	}
	mfs, _ := reg.Gather()
	var n float64
	for _, mf := range mfs {
		if mf.GetName() == "newswatch_jetstream_publish_errors_total" {
			for _, m := range mf.GetMetric() {
				n += m.GetCounter().GetValue()
			}
		}
	}
	if n != 3 {
		t.Errorf("publish errors counted %v, want 3", n)
	}
	if err := fx.ns.Topo.EnsureStreams(t.Context()); err != nil {
		t.Fatal(err)
	}
	if res, err := fx.f.PollOnce(t.Context(), fx.feed); err != nil || res.Published != 3 {
		t.Fatalf("after the stream is back: %+v, %v", res, err)
	}
}

// A removed (or paused) failing feed no longer counts as in backoff.
func TestBackoffGaugeFollowsRemoval(t *testing.T) {
	ns := natstest.Start(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusInternalServerError) }))
	t.Cleanup(srv.Close)
	var store *Store
	r := newReplica(t, ns, "newswatch-test", nil, 2, func(b buckets) []Option {
		store = NewStore(b.feeds)
		return []Option{WithFeedStore(store), WithHostLimits(8, 0)}
	})
	ctx := context.Background()
	for _, id := range []string{"bad1", "bad2"} {
		if err := store.Put(ctx, FeedSpec{ID: id, URL: srv.URL + "/" + id, Interval: time.Hour}); err != nil {
			t.Fatal(err)
		}
	}
	r.start()
	defer r.stop(t)
	testwait.True(t, time.Minute, "both feeds in backoff", func() bool { return testutil.ToFloat64(r.metrics.FeedsInBackoff) == 2 })
	if err := store.Delete(ctx, "bad1"); err != nil {
		t.Fatal(err)
	}
	testwait.True(t, time.Minute, "the removed feed out of the gauge", func() bool { return testutil.ToFloat64(r.metrics.FeedsInBackoff) == 1 })
	spec, _ := store.Get(ctx, "bad2")
	spec.Paused = true
	if err := store.Put(ctx, spec); err != nil {
		t.Fatal(err)
	}
	testwait.True(t, time.Minute, "the paused feed out of the gauge", func() bool { return testutil.ToFloat64(r.metrics.FeedsInBackoff) == 0 })
}

func TestTruncateText(t *testing.T) {
	for _, tt := range []struct {
		name, in string
		limit    int
		want     string
		cut      bool
	}{
		{"short", "one\n\ntwo", 100, "one\n\ntwo", false},
		{"paragraph", "first paragraph here\n\nsecond paragraph here", 30, "first paragraph here", true},
		{"space", "aaaa bbbb cccc dddd", 12, "aaaa bbbb", true},
		{"rune", "ééééé", 5, "éé", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, cut := truncateText(tt.in, tt.limit)
			if got != tt.want || cut != tt.cut {
				t.Errorf("truncateText(%q, %d) = %q, %v; want %q, %v", tt.in, tt.limit, got, cut, tt.want, tt.cut)
			}
		})
	}
}

package fetcher

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/newswatch/newswatch/pkg/config"
	"github.com/newswatch/newswatch/pkg/events"
	"github.com/newswatch/newswatch/pkg/extract"
	"github.com/newswatch/newswatch/pkg/httpguard"
	"github.com/newswatch/newswatch/pkg/natstest"
	"github.com/newswatch/newswatch/pkg/topology"
)

func rssFeed(base string, items ...string) string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0"?><rss version="2.0"><channel><title>Test Wire</title><link>` + base + `</link>`)
	for _, it := range items {
		b.WriteString(it)
	}
	b.WriteString(`</channel></rss>`)
	return b.String()
}

func item(base, path, title string, pub time.Time) string {
	return fmt.Sprintf(`<item><title>%s</title><link>%s%s?utm_source=rss&amp;utm_medium=feed</link><guid>%s</guid><description>Summary of %s.</description><pubDate>%s</pubDate></item>`,
		title, base, path, path, title, pub.Format(time.RFC1123Z))
}

const page = `<!doctype html><html lang="en"><head><title>%s</title></head><body>
<nav><a href="/">Home</a> <a href="/world">World</a></nav>
<article><h1>%s</h1>
<p>India and the United States agreed on Friday to co-produce armoured infantry vehicles and to speed up the delivery of 31 MQ-9B drones, officials said after the talks.</p>
<p>The two sides also discussed the Quad, the security of the Indo-Pacific and the joint production of GE F-414 jet engines in India by Hindustan Aeronautics.</p>
<p>Ministers condemned the 26/11 Mumbai attack and called for action against Lashkar-e-Tayyiba and Jaish-e-Mohammed.</p>
</article><footer>Copyright Test Wire</footer></body></html>`

type fixture struct {
	f       *Fetcher
	ns      *natstest.Server
	metrics *Metrics
	srv     *httptest.Server
	feed    config.Feed
	now     time.Time
}

func newFixture(t *testing.T, h func(base string) http.Handler, opts ...Option) *fixture {
	t.Helper()
	ns := natstest.Start(t)
	seen, err := ns.Topo.KV(t.Context(), topology.BucketSeen, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	state, err := ns.Topo.KV(t.Context(), topology.BucketFeedState, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	fx := &fixture{ns: ns, now: time.Now()}
	mux := http.NewServeMux()
	fx.srv = httptest.NewServer(mux)
	t.Cleanup(fx.srv.Close)
	mux.Handle("/", h(fx.srv.URL))
	cfg := config.Default().Fetcher
	cfg.AllowPrivateNetworks = true
	fx.metrics = NewMetrics(prometheus.NewRegistry())
	client := httpguard.New(httpguard.WithAllowPrivateNetworks(true), httpguard.WithTimeouts(time.Second, time.Second, 2*time.Second))
	fx.feed = config.Feed{ID: "wire", URL: fx.srv.URL + "/feed.xml", Interval: time.Minute}
	fx.f = New(ns.JS, client, extract.New(), seen, state, cfg, []config.Feed{fx.feed}, fx.metrics,
		append([]Option{WithLogger(slog.New(slog.DiscardHandler)), WithClock(func() time.Time { return fx.now })}, opts...)...)
	return fx
}

func (fx *fixture) articles(t *testing.T) []events.Article {
	t.Helper()
	return streamArticles(t, fx.ns.JS)
}

func sitePages(base string, items func() string) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/feed.xml", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml")
		fmt.Fprint(w, items())
	})
	mux.HandleFunc("/news/", func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "broken") {
			http.Error(w, "gone", http.StatusGone)
			return
		}
		fmt.Fprintf(w, page, "Story "+r.URL.Path, "Story "+r.URL.Path)
	})
	return mux
}

func TestPollPublishesOnceAndStripsTracking(t *testing.T) {
	var fx *fixture
	fx = newFixture(t, func(base string) http.Handler {
		return sitePages(base, func() string {
			return rssFeed(base, item(base, "/news/a", "Drones deal", fx.now.Add(-time.Hour)),
				item(base, "/news/b", "Engines deal", fx.now.Add(-2*time.Hour)))
		})
	})
	res, err := fx.f.PollOnce(t.Context(), fx.feed)
	if err != nil {
		t.Fatal(err)
	}
	if res.Published != 2 || res.Result != "ok" {
		t.Fatalf("first poll %+v", res)
	}
	arts := fx.articles(t)
	if len(arts) != 2 {
		t.Fatalf("%d articles", len(arts))
	}
	for _, a := range arts {
		if strings.Contains(a.CanonicalURL, "utm_") || a.ID != events.HashID(a.CanonicalURL) {
			t.Errorf("article %s: canonical %s", a.ID, a.CanonicalURL)
		}
		if !strings.Contains(a.Text, "31 MQ-9B drones") || strings.Contains(a.Text, "Copyright") {
			t.Errorf("body %q", a.Text)
		}
		if a.Source != "Test Wire" || a.Schema != events.ArticleSchema || a.Feed != "wire" {
			t.Errorf("article fields %+v", a)
		}
	}
	res, err = fx.f.PollOnce(t.Context(), fx.feed)
	if err != nil || res.Published != 0 || res.Duplicates != 2 {
		t.Errorf("second poll %+v %v", res, err)
	}
	if got := testutil.ToFloat64(fx.metrics.DuplicatesSkipped); got != 2 {
		t.Errorf("duplicates metric %v", got)
	}
}

func TestFirstPollSkipsOldItems(t *testing.T) {
	var fx *fixture
	fx = newFixture(t, func(base string) http.Handler {
		return sitePages(base, func() string {
			return rssFeed(base, item(base, "/news/new", "New", fx.now.Add(-time.Hour)),
				item(base, "/news/old", "Old", fx.now.Add(-72*time.Hour)))
		})
	})
	res, err := fx.f.PollOnce(t.Context(), fx.feed)
	if err != nil {
		t.Fatal(err)
	}
	if res.Published != 1 || res.Skipped != 1 {
		t.Errorf("first poll %+v, want 1 published and 1 old item skipped", res)
	}
	res, _ = fx.f.PollOnce(t.Context(), fx.feed)
	if res.Published != 0 {
		t.Errorf("old item published later: %+v", res)
	}
}

func TestPageFailureFallsBackToSummary(t *testing.T) {
	var fx *fixture
	fx = newFixture(t, func(base string) http.Handler {
		return sitePages(base, func() string { return rssFeed(base, item(base, "/news/broken", "Gone", fx.now)) })
	})
	if _, err := fx.f.PollOnce(t.Context(), fx.feed); err != nil {
		t.Fatal(err)
	}
	arts := fx.articles(t)
	if len(arts) != 1 || arts[0].Text != "Summary of Gone." || arts[0].ExtractError == "" {
		t.Fatalf("articles %+v", arts)
	}
	if got := testutil.ToFloat64(fx.metrics.ExtractionFailures.WithLabelValues("http_status")); got != 1 {
		t.Errorf("extraction failure metric = %v", got)
	}
}

func TestConditionalGet(t *testing.T) {
	var conditional atomic.Int32
	var fx *fixture
	fx = newFixture(t, func(base string) http.Handler {
		mux := http.NewServeMux()
		mux.Handle("/news/", sitePages(base, nil))
		mux.HandleFunc("/feed.xml", func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("If-None-Match") == `"v1"` && r.Header.Get("If-Modified-Since") != "" {
				conditional.Add(1)
				w.WriteHeader(http.StatusNotModified)
				return
			}
			w.Header().Set("ETag", `"v1"`)
			w.Header().Set("Last-Modified", fx.now.UTC().Format(http.TimeFormat))
			fmt.Fprint(w, rssFeed(base, item(base, "/news/a", "A", fx.now)))
		})
		return mux
	})
	if res, err := fx.f.PollOnce(t.Context(), fx.feed); err != nil || res.Published != 1 {
		t.Fatalf("%+v %v", res, err)
	}
	res, err := fx.f.PollOnce(t.Context(), fx.feed)
	if err != nil || res.Result != "not_modified" || conditional.Load() != 1 {
		t.Errorf("second poll %+v %v, conditional requests %d", res, err, conditional.Load())
	}
	if got := testutil.ToFloat64(fx.metrics.Polls.WithLabelValues("not_modified")); got != 1 {
		t.Errorf("not_modified polls = %v", got)
	}
}

func TestFailuresBackOffAndRetryAfter(t *testing.T) {
	var status atomic.Int32
	var retryAfterValue atomic.Value
	retryAfterValue.Store("")
	fx := newFixture(t, func(base string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if v := retryAfterValue.Load().(string); v != "" {
				w.Header().Set("Retry-After", v)
			}
			if s := status.Load(); s != 0 {
				w.WriteHeader(int(s))
				return
			}
			fmt.Fprint(w, "<rss><channel><item><title>broken")
		})
	})
	ctx := context.Background()
	// Malformed XML: an error naming the feed, then a growing interval.
	var nexts []time.Duration
	for i := 0; i < 3; i++ {
		_, next, err := fx.f.poll(ctx, fx.feed)
		if !errors.Is(err, ErrFeedParse) || !strings.Contains(err.Error(), fx.feed.URL) {
			t.Fatalf("poll %d: err %v", i, err)
		}
		nexts = append(nexts, next.Sub(fx.now))
	}
	if !(nexts[0] == time.Minute && nexts[1] == 2*time.Minute && nexts[2] == 4*time.Minute) {
		t.Errorf("backoff %v, want 1m 2m 4m", nexts)
	}
	st, _ := fx.f.loadState(ctx, fx.feed.ID)
	if st.ConsecutiveFailures != 3 || st.LastError == "" {
		t.Errorf("state %+v", st)
	}
	if got := testutil.ToFloat64(fx.metrics.FeedsInBackoff); got != 1 {
		t.Errorf("feeds in backoff = %v", got)
	}

	tests := []struct {
		name   string
		status int
		header string
		want   time.Duration
	}{
		{"429 seconds", 429, "600", 600 * time.Second},
		{"503 http date", 503, fx.now.Add(3 * time.Hour).UTC().Format(http.TimeFormat), 3 * time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status.Store(int32(tt.status))
			retryAfterValue.Store(tt.header)
			res, next, err := fx.f.poll(ctx, fx.feed)
			if res.Result != "rate_limited" || err == nil {
				t.Fatalf("%+v %v", res, err)
			}
			if d := next.Sub(fx.now); d < tt.want-time.Second || d > tt.want+time.Second {
				t.Errorf("next poll in %s, want %s", d, tt.want)
			}
		})
	}
}

func TestBackoffIsCapped(t *testing.T) {
	for _, tt := range []struct {
		failures int
		want     time.Duration
	}{{1, 5 * time.Minute}, {2, 10 * time.Minute}, {4, 40 * time.Minute}, {20, maxBackoff}, {1000, maxBackoff}} {
		if got := backoff(5*time.Minute, tt.failures); got != tt.want {
			t.Errorf("backoff(5m, %d) = %s, want %s", tt.failures, got, tt.want)
		}
	}
}

func TestCanonicalURL(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"https://WWW.Example.com/a?utm_source=x&id=3&fbclid=y#top", "https://www.example.com/a?id=3"},
		{"http://example.com:80", "http://example.com/"},
		{"https://example.com/a?b=2&a=1&gclid=z", "https://example.com/a?a=1&b=2"},
		{"not a url", "not a url"},
	} {
		if got := CanonicalURL(tt.in); got != tt.want {
			t.Errorf("CanonicalURL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

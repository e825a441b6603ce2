package fetcher

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"golang.org/x/text/encoding/charmap"

	"github.com/newswatch/newswatch/pkg/config"
	"github.com/newswatch/newswatch/pkg/natstest"
	"github.com/newswatch/newswatch/pkg/testwait"
	"github.com/newswatch/newswatch/pkg/topology"
)

func TestCacheHint(t *testing.T) {
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	date := now.Format(http.TimeFormat)
	tests := []struct {
		name string
		hdr  map[string]string
		body string
		want time.Duration
	}{
		{"nothing", nil, "", 0},
		{"max-age", map[string]string{"Cache-Control": "public, max-age=900"}, "", 15 * time.Minute},
		{"max-age less age", map[string]string{"Cache-Control": "max-age=900", "Age": "300"}, "", 10 * time.Minute},
		{"no-cache", map[string]string{"Cache-Control": "no-cache"}, "", 0},
		{"expires against date", map[string]string{"Date": date, "Expires": now.Add(2 * time.Hour).Format(http.TimeFormat)}, "", 2 * time.Hour},
		{"expires in the past", map[string]string{"Date": date, "Expires": now.Add(-time.Hour).Format(http.TimeFormat)}, "", 0},
		{"max-age beats expires", map[string]string{"Cache-Control": "max-age=60", "Date": date, "Expires": now.Add(2 * time.Hour).Format(http.TimeFormat)}, "", time.Minute},
		{"rss ttl", nil, "<rss><channel><ttl>120</ttl></channel></rss>", 2 * time.Hour},
		{"rss ttl longer than max-age", map[string]string{"Cache-Control": "max-age=60"}, "<rss><channel><ttl> 30 </ttl></channel></rss>", 30 * time.Minute},
		{"bad ttl", nil, "<rss><channel><ttl>soon</ttl></channel></rss>", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			for k, v := range tt.hdr {
				h.Set(k, v)
			}
			if got := cacheHint(h, []byte(tt.body), now); got != tt.want {
				t.Errorf("cacheHint = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestNextPollRespectsServer(t *testing.T) {
	var hdr atomic.Value
	hdr.Store([2]string{})
	fx := newFixture(t, func(base string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h := hdr.Load().([2]string)
			if h[0] != "" {
				w.Header().Set(h[0], h[1])
			}
			if r.Header.Get("If-None-Match") != "" {
				w.WriteHeader(http.StatusNotModified)
				return
			}
			w.Header().Set("ETag", `"1"`)
			fmt.Fprint(w, `<?xml version="1.0"?><rss version="2.0"><channel><title>T</title><ttl>90</ttl></channel></rss>`)
		})
	})
	fx.f.jitter = 0
	tests := []struct {
		name   string
		header [2]string
		want   time.Duration
	}{
		{"rss ttl on 200", [2]string{}, 90 * time.Minute},
		{"interval when the 304 says nothing", [2]string{}, time.Minute},
		{"max-age on 304", [2]string{"Cache-Control", "max-age=1800"}, 30 * time.Minute},
		{"max-age capped", [2]string{"Cache-Control", "max-age=604800"}, DefaultMaxCacheHint},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hdr.Store(tt.header)
			_, next, err := fx.f.poll(context.Background(), fx.feed)
			if err != nil {
				t.Fatal(err)
			}
			if got := next.Sub(fx.now); got != tt.want {
				t.Errorf("next poll in %s, want %s", got, tt.want)
			}
		})
	}
}

func TestJitter(t *testing.T) {
	seen := map[time.Duration]bool{}
	for range 200 {
		d := jittered(time.Hour, 0.1)
		if d < 54*time.Minute || d > 66*time.Minute {
			t.Fatalf("jittered(1h, 10%%) = %s", d)
		}
		seen[d] = true
	}
	if len(seen) < 100 {
		t.Errorf("only %d distinct intervals in 200 draws", len(seen))
	}
}

func TestRevisions(t *testing.T) {
	var version atomic.Int32
	var pageHits atomic.Int32
	var fx *fixture
	fx = newFixture(t, func(base string) http.Handler {
		mux := http.NewServeMux()
		mux.HandleFunc("/feed.xml", func(w http.ResponseWriter, r *http.Request) {
			v := version.Load()
			updated := fx.now.Add(-time.Hour)
			if v >= 2 {
				updated = fx.now // the publisher marks the edit
			}
			fmt.Fprint(w, rssFeed(base, fmt.Sprintf(`<item><title>Deal</title><link>%s/news/a</link><guid>a</guid><description>Summary.</description><pubDate>%s</pubDate><atom:updated xmlns:atom="http://www.w3.org/2005/Atom">%s</atom:updated></item>`,
				base, fx.now.Add(-time.Hour).Format(time.RFC1123Z), updated.Format(time.RFC3339))))
		})
		mux.HandleFunc("/news/a", func(w http.ResponseWriter, r *http.Request) {
			pageHits.Add(1)
			body := fmt.Sprintf(page, "Deal", "Deal")
			switch version.Load() {
			case 1: // markup only
				body = strings.ReplaceAll(body, "<p>", "<p class=\"x\">  ")
			case 2: // the words change
				body = strings.Replace(body, "31 MQ-9B drones", "32 MQ-9B drones", 1)
			}
			fmt.Fprint(w, body)
		})
		return mux
	})
	ctx := context.Background()
	poll := func() PollResult {
		t.Helper()
		res, err := fx.f.PollOnce(ctx, fx.feed)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	if res := poll(); res.Published != 1 {
		t.Fatalf("first poll %+v", res)
	}
	version.Store(1)
	if res := poll(); res.Duplicates != 1 || pageHits.Load() != 1 {
		t.Errorf("unchanged item: %+v, %d page downloads; want a duplicate and no download", res, pageHits.Load())
	}
	version.Store(2)
	if res := poll(); res.Revisions != 1 || pageHits.Load() != 2 {
		t.Errorf("edited item: %+v, %d page downloads; want one revision", res, pageHits.Load())
	}
	if res := poll(); res.Revisions != 0 || res.Duplicates != 1 || pageHits.Load() != 2 {
		t.Errorf("edited item again: %+v, %d page downloads; want a duplicate", res, pageHits.Load())
	}
	arts := fx.articles(t)
	if len(arts) != 2 || arts[0].ID != arts[1].ID || arts[0].Revision != 0 || arts[1].Revision != 1 {
		t.Fatalf("articles %+v", arts)
	}
	if !strings.Contains(arts[1].Text, "32 MQ-9B") {
		t.Errorf("revision text %q", arts[1].Text)
	}
	s, _ := fx.ns.JS.Stream(ctx, topology.StreamArticles)
	m, err := s.GetMsg(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Header.Get("Nats-Msg-Id"); got != arts[0].ID+"-r1" {
		t.Errorf("Nats-Msg-Id %q, want %s-r1", got, arts[0].ID)
	}
	if got := testutil.ToFloat64(fx.metrics.Revisions); got != 1 {
		t.Errorf("revisions metric %v", got)
	}
}

func TestRobots(t *testing.T) {
	var robotsHits atomic.Int32
	var fx *fixture
	fx = newFixture(t, func(base string) http.Handler {
		mux := http.NewServeMux()
		mux.Handle("/", sitePages(base, func() string {
			return rssFeed(base, item(base, "/news/open", "Open", fx.now), item(base, "/news/private/a", "Closed", fx.now),
				item(base, "/news/private/b", "Closed too", fx.now))
		}))
		mux.HandleFunc("/robots.txt", func(w http.ResponseWriter, r *http.Request) {
			robotsHits.Add(1)
			fmt.Fprint(w, "User-agent: *\nDisallow: /news/private/\n")
		})
		return mux
	})
	if _, err := fx.f.PollOnce(context.Background(), fx.feed); err != nil {
		t.Fatal(err)
	}
	for _, a := range fx.articles(t) {
		private := strings.Contains(a.URL, "/private/")
		if private != (a.ExtractError != "") || private && !strings.Contains(a.Text, "Summary of") {
			t.Errorf("%s: text %.40q, extract error %q", a.URL, a.Text, a.ExtractError)
		}
	}
	if n := robotsHits.Load(); n != 1 {
		t.Errorf("robots.txt fetched %d times, want once for the host", n)
	}
	if got := testutil.ToFloat64(fx.metrics.ExtractionFailures.WithLabelValues("robots")); got != 2 {
		t.Errorf("robots failures %v", got)
	}
}

func TestParseRobots(t *testing.T) {
	const txt = `# comment
User-agent: otherbot
Disallow: /

User-agent: newswatch
User-agent: someone
Disallow: /private/
Allow: /private/press/
Disallow: /*.pdf$
Disallow: /search?q=

User-agent: *
Disallow: /everything-else/
`
	tests := []struct {
		agent, path string
		want        bool
	}{
		{"newswatch", "/news/a", true},
		{"newswatch", "/private/x", false},
		{"newswatch", "/private/press/release", true},
		{"newswatch", "/files/report.pdf", false},
		{"newswatch", "/files/report.pdf?x=1", true},
		{"newswatch", "/search?q=drones", false},
		{"newswatch", "/everything-else/x", true},
		{"otherbot", "/news/a", false},
		{"curl", "/everything-else/x", false},
		{"curl", "/private/x", true},
	}
	for _, tt := range tests {
		t.Run(tt.agent+tt.path, func(t *testing.T) {
			if got := parseRobots([]byte(txt), tt.agent).allowed(tt.path); got != tt.want {
				t.Errorf("allowed(%s) for %s = %v, want %v", tt.path, tt.agent, got, tt.want)
			}
		})
	}
}

func TestFeedCharsets(t *testing.T) {
	const title = "Café “Entente” – défense"
	tests := []struct {
		name, label string
		enc         func(string) []byte
		want        string
	}{
		{"windows-1252", "windows-1252", func(s string) []byte { b, _ := charmap.Windows1252.NewEncoder().Bytes([]byte(s)); return b }, title},
		// ISO-8859-1 has no curly quotes or en dash: use the Latin-1 part.
		{"ISO-8859-1", "ISO-8859-1", func(s string) []byte { b, _ := charmap.ISO8859_1.NewEncoder().Bytes([]byte(s)); return b }, "Café défense à Noël"},
		// Labelled UTF-8 but written in Windows-1252, wholly or in part:
		// read leniently, byte by byte, instead of refused on every poll.
		{"UTF-8 label, Windows-1252 bytes", "UTF-8", func(s string) []byte { b, _ := charmap.Windows1252.NewEncoder().Bytes([]byte(s)); return b }, title},
		{"UTF-8 with a stray Windows-1252 dash", "utf-8", func(s string) []byte { return []byte(strings.Replace(s, "–", "\x96", 1)) }, title},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var fx *fixture
			fx = newFixture(t, func(base string) http.Handler {
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					var b bytes.Buffer
					fmt.Fprintf(&b, `<?xml version="1.0" encoding="%s"?><rss version="2.0"><channel><title>Wire</title>`, tt.label)
					b.Write(tt.enc(fmt.Sprintf(`<item><title>%s</title><link>%s/news/x</link><description>%s</description><pubDate>%s</pubDate></item>`,
						tt.want, base, tt.want, fx.now.Format(time.RFC1123Z))))
					b.WriteString(`</channel></rss>`)
					w.Header().Set("Content-Type", "application/rss+xml")
					w.Write(b.Bytes())
				})
			})
			fx.f.fetchPages = false
			if _, err := fx.f.PollOnce(context.Background(), fx.feed); err != nil {
				t.Fatal(err)
			}
			arts := fx.articles(t)
			if len(arts) != 1 || arts[0].Title != tt.want || arts[0].Summary != tt.want {
				t.Fatalf("articles %+v, want title and summary %q", arts, tt.want)
			}
		})
	}
}

func TestFeedsFollowTheBucket(t *testing.T) {
	ns := natstest.Start(t)
	h := newHits()
	srv := notModifiedServer(t, h, 0)
	var store *Store
	r := newReplica(t, ns, "newswatch-test", nil, 4, func(b buckets) []Option {
		store = NewStore(b.feeds)
		return []Option{WithFeedStore(store), WithHostLimits(8, 0)}
	})
	ctx := context.Background()
	// tick, polled every second, shows time passing with the scheduler
	// at work, instead of a sleep.
	if err := store.ApplyConfig(ctx, []config.Feed{{ID: "cfg", URL: srv.URL + "/cfg.xml", Interval: time.Hour},
		{ID: "tick", URL: srv.URL + "/tick.xml", Interval: time.Second}}); err != nil {
		t.Fatal(err)
	}
	ticks := func(what string) {
		t.Helper()
		n := len(h.of("/tick.xml"))
		testwait.True(t, time.Minute, what, func() bool { return len(h.of("/tick.xml")) >= n+3 })
	}
	r.start()
	defer r.stop(t)
	testwait.True(t, time.Minute, "the config feed polled", func() bool { return len(h.of("/cfg.xml")) == 1 })

	// Added at run time: polled without a restart.
	if err := store.Put(ctx, FeedSpec{ID: "new", URL: srv.URL + "/new.xml", Interval: time.Second, Origin: "operator"}); err != nil {
		t.Fatal(err)
	}
	testwait.True(t, time.Minute, "the added feed polled twice", func() bool { return len(h.of("/new.xml")) >= 2 })

	// Paused: no more polls; the gauge counts active feeds only.
	spec, _ := store.Get(ctx, "new")
	spec.Paused = true
	if err := store.Put(ctx, spec); err != nil {
		t.Fatal(err)
	}
	testwait.True(t, time.Minute, "the pause applied", func() bool { return testutil.ToFloat64(r.metrics.Feeds) == 2 })
	n := len(h.of("/new.xml"))
	ticks("more than two intervals")
	if m := len(h.of("/new.xml")); m > n+1 {
		t.Errorf("paused feed polled %d more times", m-n)
	}

	// Resumed: polled at once although its interval is an hour.
	if err := store.Put(ctx, FeedSpec{ID: "cfg", URL: srv.URL + "/cfg.xml", Interval: time.Hour, Paused: true}); err != nil {
		t.Fatal(err)
	}
	testwait.True(t, time.Minute, "cfg paused", func() bool { return testutil.ToFloat64(r.metrics.Feeds) == 1 })
	if err := store.Put(ctx, FeedSpec{ID: "cfg", URL: srv.URL + "/cfg.xml", Interval: time.Hour}); err != nil {
		t.Fatal(err)
	}
	testwait.True(t, time.Minute, "the resumed feed polled", func() bool { return len(h.of("/cfg.xml")) == 2 })

	// Removed: gone from the schedule.
	spec.Paused = false
	if err := store.Put(ctx, spec); err != nil {
		t.Fatal(err)
	}
	testwait.True(t, time.Minute, "new resumed", func() bool { return testutil.ToFloat64(r.metrics.Feeds) == 3 })
	if err := store.Delete(ctx, "new"); err != nil {
		t.Fatal(err)
	}
	testwait.True(t, time.Minute, "the removal applied", func() bool { return testutil.ToFloat64(r.metrics.Feeds) == 2 })
	n = len(h.of("/new.xml"))
	ticks("more than two intervals")
	if m := len(h.of("/new.xml")); m > n+1 {
		t.Errorf("removed feed polled %d more times", m-n)
	}

	// The config keeps an operator's pause across a restart.
	spec, _ = store.Get(ctx, "cfg")
	spec.Paused = true
	store.Put(ctx, spec)
	if err := store.ApplyConfig(ctx, []config.Feed{{ID: "cfg", URL: srv.URL + "/cfg.xml", Interval: time.Hour}}); err != nil {
		t.Fatal(err)
	}
	if got, _ := store.Get(ctx, "cfg"); !got.Paused {
		t.Errorf("ApplyConfig resumed a paused feed: %+v", got)
	}
}

func TestParseOPML(t *testing.T) {
	tests := []struct {
		name    string
		doc     string
		want    []OPMLFeed
		wantErr bool
	}{
		{"nested", `<?xml version="1.0"?><opml version="2.0"><head><title>x</title></head><body>
<outline text="Defence"><outline text="Wire" title="The Wire" type="rss" xmlUrl="https://example.com/feed.xml"/>
<outline text="Other" xmlUrl=" https://example.org/rss "/></outline><outline text="no feed"/></body></opml>`,
			[]OPMLFeed{{"The Wire", "https://example.com/feed.xml"}, {"Other", "https://example.org/rss"}}, false},
		{"latin-1", "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><opml><body><outline text=\"Caf\xe9\" xmlUrl=\"https://e.com/f\"/></body></opml>",
			[]OPMLFeed{{"Café", "https://e.com/f"}}, false},
		{"no outlines", `<opml><body></body></opml>`, nil, true},
		{"not xml", `hello`, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseOPML(strings.NewReader(tt.doc))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err %v", err)
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

// The config seeds a feed; an operator's change to it (pause, another
// interval) stays across restarts until the config entry itself changes.
func TestApplyConfigKeepsOperatorChanges(t *testing.T) {
	ns := natstest.Start(t)
	ctx := t.Context()
	kv, err := ns.Topo.KV(ctx, topology.BucketFeeds, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	store := NewStore(kv)
	entry := config.Feed{ID: "cfg", URL: "https://example.com/feed.xml", Interval: time.Hour}
	if err := store.ApplyConfig(ctx, []config.Feed{entry}); err != nil {
		t.Fatal(err)
	}
	// The operator pauses it and polls it less often (as `newswatch feeds add` would).
	if err := store.Put(ctx, FeedSpec{ID: "cfg", URL: entry.URL, Interval: 2 * time.Hour, Paused: true, Origin: "operator"}); err != nil {
		t.Fatal(err)
	}
	if err := store.ApplyConfig(ctx, []config.Feed{entry}); err != nil { // a restart
		t.Fatal(err)
	}
	if got, _ := store.Get(ctx, "cfg"); !got.Paused || got.Interval != 2*time.Hour || got.Origin != "config" {
		t.Errorf("after a restart with the same config entry: %+v, want the operator's version", got)
	}
	entry.URL = "https://example.com/moved.xml"
	if err := store.ApplyConfig(ctx, []config.Feed{entry}); err != nil {
		t.Fatal(err)
	}
	if got, _ := store.Get(ctx, "cfg"); got.Paused || got.URL != entry.URL || got.Interval != time.Hour {
		t.Errorf("after the config entry changed: %+v, want the new entry", got)
	}
}

package fetcher

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/newswatch/newswatch/pkg/config"
	"github.com/newswatch/newswatch/pkg/natstest"
	"github.com/newswatch/newswatch/pkg/topology"
)

// benchNATS is the JetStream the polling benchmarks use: the server at
// $NEWSWATCH_BENCH_NATS when set, so that the process's memory is the
// fetcher's alone, else an embedded one in a temp dir.
func benchNATS(b *testing.B) *natstest.Server {
	url := os.Getenv("NEWSWATCH_BENCH_NATS")
	if url == "" {
		return natstest.Start(b)
	}
	nc, err := nats.Connect(url)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(nc.Close)
	js, _ := jetstream.New(nc)
	cfg := config.Default()
	topo := topology.New(js, &cfg)
	ctx := context.Background()
	// Start from empty buckets and streams on every run.
	for _, bk := range []string{topology.BucketSeen, topology.BucketFeedState, topology.BucketFeeds, topology.BucketLeases} {
		_ = js.DeleteKeyValue(ctx, bk)
	}
	for _, sc := range topo.StreamConfigs() {
		_ = js.DeleteStream(ctx, sc.Name)
	}
	if err := topo.EnsureStreams(ctx); err != nil {
		b.Fatal(err)
	}
	return &natstest.Server{URL: url, Conn: nc, JS: js, Topo: topo, Cfg: &cfg}
}

// benchFeedServer serves n feeds at /feed/<i>.xml. With newItems 0 a feed
// answers 200 with an empty channel and an ETag the first time, then 304;
// otherwise every request returns newItems items never seen before, with
// no validators, as a busy wire does.
func benchFeedServer(b *testing.B, newItems int, requests *atomic.Int64) *httptest.Server {
	var counter atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		if newItems == 0 {
			if r.Header.Get("If-None-Match") != "" {
				w.WriteHeader(http.StatusNotModified)
				return
			}
			w.Header().Set("ETag", `"v1"`)
			w.Header().Set("Content-Type", "application/rss+xml")
			fmt.Fprint(w, `<?xml version="1.0"?><rss version="2.0"><channel><title>Bench Wire</title><link>https://wire.example/</link></channel></rss>`)
			return
		}
		now := time.Now().Format(time.RFC1123Z)
		var sb strings.Builder
		sb.WriteString(`<?xml version="1.0"?><rss version="2.0"><channel><title>Bench Wire</title><link>https://wire.example/</link>`)
		for range newItems {
			n := counter.Add(1)
			fmt.Fprintf(&sb, `<item><title>Story %d on drones and engines</title><link>https://wire.example%s/%d?utm_source=rss</link><guid>%d</guid><description>Officials said on Friday that the two countries would co-produce armoured vehicles, story %d.</description><pubDate>%s</pubDate></item>`,
				n, r.URL.Path, n, n, n, now)
		}
		sb.WriteString(`</channel></rss>`)
		w.Header().Set("Content-Type", "application/rss+xml")
		fmt.Fprint(w, sb.String())
	}))
	b.Cleanup(srv.Close)
	return srv
}

// benchFetcher is the fetcher as the app builds it, with leases, state and
// seen records in JetStream, but without pages and with politeness off: all
// feeds share one test host, and the benchmark measures the fetcher.
func benchFetcher(b *testing.B, ns *natstest.Server, feeds []config.Feed) *replica {
	r := newReplica(b, ns, "newswatch-bench", feeds, 16, func(bk buckets) []Option {
		return []Option{WithHostLimits(1<<20, 0), WithJitter(0), WithPageFetch(false), WithLeases(bk.leases, "bench", time.Minute)}
	})
	return r
}

// BenchmarkPolling measures sustained polls per second through Run (the
// scheduler, the worker pool, leases, conditional GET, feed parsing, seen
// records and state writes) against 2,000 feeds on a local server. Every
// feed is always due (a 1 ms interval), so the figure is the fetcher's
// capacity, not the schedule's.
func BenchmarkPolling(b *testing.B) {
	for _, bc := range []struct {
		name     string
		newItems int
	}{{"304", 0}, {"200_10_new_items", 10}} {
		b.Run(bc.name, func(b *testing.B) {
			ns := benchNATS(b)
			var requests atomic.Int64
			srv := benchFeedServer(b, bc.newItems, &requests)
			feeds := manyFeeds(srv.URL, 2000, time.Millisecond)
			r := benchFetcher(b, ns, feeds)
			r.start()
			defer r.stop(b)
			// Warm up: every feed polled once (leases created, ETags stored).
			for requests.Load() < int64(len(feeds)) {
				time.Sleep(5 * time.Millisecond)
			}
			start, from := time.Now(), requests.Load()
			b.ResetTimer()
			for requests.Load() < from+int64(b.N) {
				time.Sleep(time.Millisecond)
			}
			b.StopTimer()
			el := time.Since(start)
			polls := float64(requests.Load() - from)
			b.ReportMetric(polls/el.Seconds(), "polls/s")
			if bc.newItems > 0 {
				b.ReportMetric(polls*float64(bc.newItems)/el.Seconds(), "items/s")
			}
		})
	}
}

// BenchmarkMemory50k polls 50,000 feeds once each (200 then on the 304 path)
// and reports the Go heap in use and the process's resident memory. With
// $NEWSWATCH_BENCH_NATS set the NATS server runs in its own process and the
// figures are the fetcher's (and the small test feed server's) alone.
func BenchmarkMemory50k(b *testing.B) {
	for range b.N {
		ns := benchNATS(b)
		var requests atomic.Int64
		srv := benchFeedServer(b, 0, &requests)
		feeds := manyFeeds(srv.URL, 50000, time.Hour)
		r := benchFetcher(b, ns, feeds)
		r.start()
		for requests.Load() < int64(len(feeds)) {
			time.Sleep(50 * time.Millisecond)
		}
		time.Sleep(time.Second) // let the last polls write their state
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		b.ReportMetric(float64(ms.HeapInuse)/(1<<20), "heap-MiB")
		b.ReportMetric(float64(rssBytes())/(1<<20), "rss-MiB")
		r.stop(b)
	}
}

// rssBytes reads VmRSS from /proc/self/status (Linux).
func rssBytes() int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

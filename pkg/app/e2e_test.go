package app_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/newswatch/newswatch/pkg/app"
	"github.com/newswatch/newswatch/pkg/config"
	"github.com/newswatch/newswatch/pkg/delivery"
	"github.com/newswatch/newswatch/pkg/demosite"
	"github.com/newswatch/newswatch/pkg/events"
	"github.com/newswatch/newswatch/pkg/natstest"
	"github.com/newswatch/newswatch/pkg/sink/webhook"
	"github.com/newswatch/newswatch/pkg/testwait"
	"github.com/newswatch/newswatch/pkg/topology"
)

func testLogger(t *testing.T) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

const hookSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

func e2eConfig(t *testing.T, feedURL, hookURL, dir string) *config.Config {
	t.Helper()
	cfg, err := config.Parse([]byte(fmt.Sprintf(`
nats:
  listen: 127.0.0.1:0
  store_dir: %s
http:
  listen: 127.0.0.1:0
fetcher:
  allow_private_networks: true
feeds:
  - id: demo
    url: %s
    interval: 1h
sinks:
  - name: hook
    type: webhook
    url: %s
    secret: %s
    allow_private_networks: true
watches:
  - id: mq-9b
    query: '"MQ-9B"'
    sinks: [hook]
  - id: quad
    query: 'Quad'
`, dir, feedURL, hookURL, hookSecret)), "e2e.yaml", func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// hookReceiver records the alerts a webhook sink delivers, verifying each
// signature.
type hookReceiver struct {
	t      *testing.T
	mu     sync.Mutex
	events []events.CloudEvent
	ids    []string
}

func (h *hookReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if err := webhook.Verify(hookSecret, r.Header, body, time.Minute); err != nil {
		h.t.Errorf("webhook signature: %v", err)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	var ev events.CloudEvent
	if err := json.Unmarshal(body, &ev); err != nil {
		h.t.Errorf("webhook body: %v", err)
	}
	h.mu.Lock()
	h.events = append(h.events, ev)
	h.ids = append(h.ids, r.Header.Get("webhook-id"))
	h.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func (h *hookReceiver) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.events)
}

// streamMessages returns every message stored in a stream.
func streamMessages(t *testing.T, ctx context.Context, js jetstream.JetStream, name string) []*jetstream.RawStreamMsg {
	t.Helper()
	s, err := js.Stream(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var out []*jetstream.RawStreamMsg
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq && info.State.Msgs > 0; seq++ {
		m, err := s.GetMsg(ctx, seq)
		if err != nil {
			continue
		}
		out = append(out, m)
	}
	return out
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	testwait.For(t, 60*time.Second, what, func() error {
		if !cond() {
			return errors.New("not yet")
		}
		return nil
	})
}

// waitIdle waits until a worker's durable consumer has handled every message
// stored so far, so that what it produced can be counted.
func waitIdle(t *testing.T, ctx context.Context, js jetstream.JetStream, stream, consumer string) {
	t.Helper()
	testwait.For(t, 60*time.Second, consumer+" to finish", func() error {
		return natstest.ConsumerIdle(ctx, js, stream, consumer)
	})
}

func TestEndToEnd(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	site := httptest.NewServer(demosite.Handler())
	defer site.Close()
	hook := &hookReceiver{t: t}
	hookSrv := httptest.NewServer(hook)
	defer hookSrv.Close()
	dir := t.TempDir()
	cfg := e2eConfig(t, site.URL+"/feed.xml", hookSrv.URL, dir)

	a, err := app.Start(ctx, cfg, app.All, true, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	stopped := false
	defer func() {
		if !stopped {
			a.Stop()
		}
	}()
	js := a.JetStream()

	pages := demosite.Pages()
	waitFor(t, "every page analyzed", func() bool {
		return len(streamMessages(t, ctx, js, topology.StreamAnalyzed)) == len(pages)
	})
	waitFor(t, "two alerts", func() bool { return len(streamMessages(t, ctx, js, topology.StreamAlerts)) >= 2 })
	waitIdle(t, ctx, js, topology.StreamAnalyzed, topology.ConsumerNotifier) // any wrong extra alert is out by then

	seed := demosite.SeedPage()
	t.Run("analyzed articles", func(t *testing.T) {
		for _, m := range streamMessages(t, ctx, js, topology.StreamAnalyzed) {
			var an events.AnalyzedArticle
			if err := json.Unmarshal(m.Data, &an); err != nil {
				t.Fatal(err)
			}
			isSeed := strings.HasSuffix(an.Article.URL, seed.Path)
			if isSeed {
				for _, topic := range []string{"defence-cooperation", "terrorism"} {
					if !an.HasTopic(topic) {
						t.Errorf("seed article lacks topic %s: %+v", topic, an.Topics)
					}
				}
				for _, tp := range an.Topics {
					if len(tp.Evidence) == 0 || tp.Score < tp.Threshold {
						t.Errorf("topic %s without evidence or under its threshold: %+v", tp.Name, tp)
					}
				}
				if strings.Contains(an.Article.Text, "Milestone Alert") || !strings.Contains(an.Article.Text, "31 MQ-9B drones") {
					t.Errorf("seed body badly extracted: %.300q", an.Article.Text)
				}
				// The analyzer evaluated the watches in its one pass.
				var matched []string
				if an.Watches != nil {
					for _, m := range an.Watches.Matches {
						matched = append(matched, m.WatchID)
					}
				}
				if an.Watches == nil || an.Watches.Revision == 0 || strings.Join(matched, " ") != "mq-9b quad" {
					t.Errorf("seed watch results %+v, want mq-9b and quad at a bucket revision", an.Watches)
				}
			} else if len(an.Topics) > 0 {
				t.Errorf("unrelated page %s flagged %+v", an.Article.URL, an.Topics)
			}
		}
	})

	t.Run("one alert per watch for the seed, with snippets", func(t *testing.T) {
		alerts := streamMessages(t, ctx, js, topology.StreamAlerts)
		if len(alerts) != 2 {
			t.Fatalf("got %d alerts, want 2", len(alerts))
		}
		want := map[string]string{"alerts.mq-9b": "MQ-9B", "alerts.quad": "Quad"}
		for _, m := range alerts {
			term, ok := want[m.Subject]
			if !ok {
				t.Errorf("alert on unexpected subject %s", m.Subject)
				continue
			}
			delete(want, m.Subject)
			var ev events.CloudEvent
			if err := json.Unmarshal(m.Data, &ev); err != nil {
				t.Fatal(err)
			}
			if ev.SpecVersion != "1.0" || ev.Type != events.AlertEventType || ev.ID == "" || ev.ID != ev.Data.AlertID {
				t.Errorf("not a CloudEvent alert: %+v", ev)
			}
			if m.Header.Get("Nats-Msg-Id") != ev.ID {
				t.Errorf("Nats-Msg-Id %q, want the alert id %q", m.Header.Get("Nats-Msg-Id"), ev.ID)
			}
			if !strings.HasSuffix(ev.Data.URL, seed.Path) {
				t.Errorf("%s fired on %s, want the seed article", m.Subject, ev.Data.URL)
			}
			if len(ev.Data.Matches) == 0 || !strings.Contains(ev.Data.Matches[0].Snippet, term) {
				t.Errorf("%s: no snippet with %q: %+v", m.Subject, term, ev.Data.Matches)
			}
		}
		if len(want) > 0 {
			t.Errorf("no alert on %v", want)
		}
	})

	t.Run("the notifier used the analyzer's watch results", func(t *testing.T) {
		resp, err := http.Get("http://" + a.StatusAddr() + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		want := fmt.Sprintf("newswatch_notifier_watch_evaluations_total{by=\"analyzer\"} %d\n", len(pages))
		if !strings.Contains(string(body), want) || strings.Contains(string(body), `by="notifier"`) {
			t.Errorf("metrics lack %q or show evaluations by the notifier:\n%s", want, grepLines(string(body), "watch_evaluations"))
		}
	})

	t.Run("the mq-9b alert reaches its webhook, signed", func(t *testing.T) {
		waitFor(t, "the webhook delivery", func() bool { return hook.count() >= 1 })
		waitIdle(t, ctx, js, topology.StreamAlerts, delivery.ConsumerName("hook"))
		if n := hook.count(); n != 1 {
			t.Fatalf("webhook got %d deliveries, want 1 (quad has no sink)", n)
		}
		if ev := hook.events[0]; ev.Data.WatchID != "mq-9b" || hook.ids[0] == "" {
			t.Errorf("webhook got %+v with id %q", ev.Data, hook.ids[0])
		}
	})

	articles := len(streamMessages(t, ctx, js, topology.StreamArticles))
	if articles != len(pages) {
		t.Fatalf("ARTICLES holds %d messages, want %d", articles, len(pages))
	}

	t.Run("polling again publishes nothing", func(t *testing.T) {
		res, err := a.FetcherWorker().PollOnce(ctx, cfg.Feeds[0])
		if err != nil {
			t.Fatal(err)
		}
		if res.Published != 0 || res.Duplicates != len(pages) {
			t.Errorf("second poll: %+v, want 0 published and %d duplicates", res, len(pages))
		}
		if n := len(streamMessages(t, ctx, js, topology.StreamArticles)); n != articles {
			t.Errorf("ARTICLES grew from %d to %d", articles, n)
		}
	})

	if err := a.Stop(); err != nil {
		t.Fatal(err)
	}
	stopped = true

	t.Run("restart publishes nothing twice", func(t *testing.T) {
		b, err := app.Start(ctx, cfg, app.All, true, testLogger(t))
		if err != nil {
			t.Fatal(err)
		}
		defer b.Stop()
		res, err := b.FetcherWorker().PollOnce(ctx, cfg.Feeds[0])
		if err != nil {
			t.Fatal(err)
		}
		if res.Published != 0 {
			t.Errorf("poll after restart published %d articles", res.Published)
		}
		js := b.JetStream()
		waitIdle(t, ctx, js, topology.StreamArticles, topology.ConsumerAnalyzer)
		waitIdle(t, ctx, js, topology.StreamAnalyzed, topology.ConsumerNotifier)
		waitIdle(t, ctx, js, topology.StreamAlerts, delivery.ConsumerName("hook"))
		if n := len(streamMessages(t, ctx, js, topology.StreamArticles)); n != articles {
			t.Errorf("ARTICLES holds %d after restart, want %d", n, articles)
		}
		if n := len(streamMessages(t, ctx, js, topology.StreamAlerts)); n != 2 {
			t.Errorf("ALERTS holds %d after restart, want 2", n)
		}
		if n := hook.count(); n != 1 {
			t.Errorf("webhook got %d deliveries after restart, want 1", n)
		}
	})
}

func TestStatusEndpoints(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cfg := natstest.AppConfig(t)
	a, err := app.Start(ctx, &cfg, []string{app.Analyzer, app.Notifier}, true, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Stop()
	get := func(path string) (int, string) {
		resp, err := http.Get("http://" + a.StatusAddr() + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, _ := get("/healthz"); code != http.StatusOK {
		t.Errorf("/healthz = %d", code)
	}
	if code, body := get("/readyz"); code != http.StatusOK {
		t.Errorf("/readyz = %d %s", code, body)
	}
	code, body := get("/metrics")
	for _, name := range []string{"newswatch_analyzer_articles_total", "newswatch_notifier_duplicates_suppressed_total", "go_goroutines"} {
		if code != http.StatusOK || !strings.Contains(body, name) {
			t.Errorf("/metrics lacks %s", name)
		}
	}
	// A deleted consumer stops the analyzer, which stops the app with an
	// error naming it (the process exits non-zero and is restarted).
	if err := a.JetStream().DeleteConsumer(ctx, topology.StreamArticles, topology.ConsumerAnalyzer); err != nil {
		t.Fatal(err)
	}
	select {
	case <-a.Failed():
	case <-ctx.Done():
		t.Fatal("the app kept running with its analyzer consumer deleted")
	}
	if err := a.Stop(); err == nil || !strings.Contains(err.Error(), "analyzer") {
		t.Errorf("Stop after the analyzer failed = %v", err)
	}
}

func TestWorkerNeedsNATS(t *testing.T) {
	cfg := config.Default()
	_, err := app.Start(context.Background(), &cfg, []string{app.Analyzer}, false, testLogger(t))
	if !errors.Is(err, app.ErrNeedsNATS) || !strings.Contains(err.Error(), "NEWSWATCH_NATS_URL") {
		t.Errorf("err = %v", err)
	}
}

func TestExtractorSiteRules(t *testing.T) {
	cfg := config.Default()
	cfg.Fetcher.SiteRules = map[string]config.SiteRule{"www.paper.example": {Keep: []string{"div[["}}}
	if _, err := app.Extractor(&cfg); err == nil || !strings.Contains(err.Error(), "paper.example") || !strings.Contains(err.Error(), "fetcher.site_rules") {
		t.Errorf("bad selector: err = %v", err)
	}
	cfg.Fetcher.SiteRules = map[string]config.SiteRule{"www.paper.example": {Keep: []string{"div.story"}, Remove: []string{".promo"}}}
	ex, err := app.Extractor(&cfg)
	if err != nil {
		t.Fatal(err)
	}
	page := `<html><body><div class="nav">Home World Sport Opinion Markets Technology</div><div class="story"><p>India and the United States agreed to co-produce armoured vehicles at the 2+2 dialogue in New Delhi on Friday.</p><p class="promo">Subscribe to our newsletter for daily updates on defence.</p></div></body></html>`
	res, err := ex.Extract([]byte(page), "https://paper.example/a")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(res.Text, "armoured vehicles") || strings.Contains(res.Text, "Subscribe") || strings.Contains(res.Text, "Opinion") {
		t.Errorf("site rules not applied: %q", res.Text)
	}
}

func grepLines(s, substr string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, substr) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

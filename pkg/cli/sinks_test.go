package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/newswatch/newswatch/pkg/app"
	"github.com/newswatch/newswatch/pkg/config"
	"github.com/newswatch/newswatch/pkg/delivery"
	"github.com/newswatch/newswatch/pkg/events"
	"github.com/newswatch/newswatch/pkg/testwait"
	"github.com/newswatch/newswatch/pkg/topology"
)

// startWith writes yaml as the config file and runs every component with
// an embedded server.
func startWith(t *testing.T, ctx context.Context, yaml string) (*app.App, string) {
	t.Helper()
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "newswatch.yaml")
	yaml = fmt.Sprintf("nats:\n  listen: 127.0.0.1:0\n  store_dir: %s\nhttp:\n  listen: 127.0.0.1:0\n", filepath.Join(dir, "data")) + yaml
	if err := os.WriteFile(cfgFile, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(cfgFile)
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.Start(ctx, cfg, app.All, true, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Stop() })
	return a, cfgFile
}

func publishAlert(t *testing.T, ctx context.Context, a *app.App, watchID string) events.CloudEvent {
	t.Helper()
	ev := events.NewAlertEvent(events.Alert{
		Schema: events.AlertSchema, AlertID: "alert-" + watchID, WatchID: watchID, Query: `"MQ-9B"`,
		StoryID: "s1", ArticleID: "x1", Title: "US to supply 31 MQ-9B drones to India", URL: "https://news.example/mq9b",
		CreatedAt: time.Now().UTC(),
	}, events.AlertEventType)
	data, _ := json.Marshal(ev)
	if _, err := a.JetStream().Publish(ctx, topology.AlertSubject(watchID), data); err != nil {
		t.Fatal(err)
	}
	return ev
}

// metric returns the value of one series on the app's /metrics, or -1.
func metric(t *testing.T, a *app.App, series string) float64 {
	t.Helper()
	v, err := testwait.Metric("http://"+a.StatusAddr()+"/metrics", series)
	if err != nil {
		return -1
	}
	return v
}

// A webhook and a Slack sink whose receiver answers 302 do not follow it:
// the redirect target sees no request, nothing is recorded as delivered, and
// both alerts are in `dlq list` with reason status_3xx and the Location.
// `dlq replay --id` then delivers once the receiver answers, and says so
// (exiting 1) when the same id is replayed again.
func TestRedirectingSinksAreDeadLettered(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var targetHits, accepted atomic.Int32
	var accept atomic.Bool
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { targetHits.Add(1) }))
	defer target.Close()
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if accept.Load() {
			accepted.Add(1)
			w.WriteHeader(http.StatusOK)
			return
		}
		http.Redirect(w, r, target.URL+"/moved", http.StatusFound)
	}))
	defer receiver.Close()
	a, cfgFile := startWith(t, ctx, fmt.Sprintf(`
sinks:
  - {name: hook, type: webhook, url: %s/hook, secret: s3cret, allow_private_networks: true}
  - {name: chat, type: slack, url: %s/services/T0/B0/XXXX, allow_private_networks: true}
watches:
  - {id: mq-9b, query: '"MQ-9B"', sinks: [hook, chat]}
`, receiver.URL, receiver.URL))
	url := a.Conn().ConnectedUrl()
	ev := publishAlert(t, ctx, a, "mq-9b")

	var out string
	testwait.True(t, time.Minute, "both dead letters in dlq list", func() bool {
		_, out, _ = runCLI(t, "dlq", "list", "-nats-url", url)
		n := 0
		for _, line := range strings.Split(out, "\n") {
			if strings.Contains(line, "  status_3xx  ") {
				n++
			}
		}
		return n == 2
	})
	for _, want := range []string{"hook", "chat", "mq-9b", target.URL + "/moved"} {
		if !strings.Contains(out, want) {
			t.Errorf("dlq list lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "XXXX") {
		t.Errorf("dlq list shows the Slack URL's token:\n%s", out)
	}
	if n := targetHits.Load(); n != 0 {
		t.Errorf("the redirect target got %d requests", n)
	}
	records, err := a.JetStream().KeyValue(ctx, topology.BucketDeliveries)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"hook", "chat"} {
		// The dead letter is published before the record is written (so a
		// crash between the two loses nothing): wait for the record.
		testwait.For(t, time.Minute, s+"'s record says dead_letter", func() error {
			rec, err := delivery.LookupRecord(ctx, records, delivery.ID(ev.ID, s))
			if err != nil {
				return err
			}
			if rec.Result != delivery.ResultDeadLetter {
				return fmt.Errorf("record %+v, want dead_letter", rec)
			}
			return nil
		})
		if v := metric(t, a, `newswatch_notifier_deliveries_total{result="ok",sink="`+s+`"}`); v != 0 {
			t.Errorf("%s: deliveries ok = %v, want 0", s, v)
		}
	}

	id := delivery.ID(ev.ID, "hook")
	if code, _, errOut := runCLI(t, "dlq", "replay", "-config", cfgFile, "-nats-url", url, "--id", id); code != 1 || !strings.Contains(errOut, "status_3xx") {
		t.Errorf("replay against the redirect: %d %q, want 1 and status_3xx", code, errOut)
	}
	accept.Store(true)
	if code, out, errOut := runCLI(t, "dlq", "replay", "-config", cfgFile, "-nats-url", url, "--id", id); code != 0 || !strings.Contains(out, "delivered to hook") {
		t.Fatalf("replay: %d %q %q", code, out, errOut)
	}
	code, _, errOut := runCLI(t, "dlq", "replay", "-config", cfgFile, "-nats-url", url, "--id", id)
	if code != 1 || !strings.Contains(errOut, "already replayed") {
		t.Errorf("second replay of %s: %d %q, want 1 and already replayed", id, code, errOut)
	}
	if code, _, errOut := runCLI(t, "dlq", "replay", "-config", cfgFile, "-nats-url", url, "--id", "no-such-id"); code != 1 || !strings.Contains(errOut, "no dead letter with delivery id no-such-id") {
		t.Errorf("replay of an unknown id: %d %q", code, errOut)
	}
	if n := accepted.Load(); n != 1 {
		t.Errorf("receiver accepted %d requests, want 1", n)
	}
}

// A sink's own allow_private_networks lets it reach a loopback receiver,
// while the fetcher, under the default config, still refuses a loopback feed.
func TestSinkNetworkPolicyIsItsOwn(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var feedHits, hookHits atomic.Int32
	feed := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { feedHits.Add(1) }))
	defer feed.Close()
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hookHits.Add(1)
		w.WriteHeader(http.StatusNoContent)
	}))
	defer hook.Close()
	a, _ := startWith(t, ctx, fmt.Sprintf(`
feeds:
  - {id: local, url: %s/feed.xml, interval: 1h}
sinks:
  - {name: hook, type: webhook, url: %s, secret: s3cret, allow_private_networks: true}
watches:
  - {id: mq-9b, query: '"MQ-9B"', sinks: [hook]}
`, feed.URL, hook.URL))
	publishAlert(t, ctx, a, "mq-9b")
	testwait.True(t, time.Minute, "the loopback receiver to get the alert", func() bool { return hookHits.Load() == 1 })
	testwait.True(t, time.Minute, "the fetcher to poll the loopback feed", func() bool {
		return metric(t, a, `newswatch_fetcher_polls_total{result="error"}`) >= 1
	})
	if n := feedHits.Load(); n != 0 {
		t.Errorf("the loopback feed got %d requests under the default fetcher config", n)
	}
}

// A sink whose receiver never answers, within newswatch run, holds back
// none of the healthy sink's alerts, and its own end up in dlq list with
// reason timeout once its attempts are spent.
func TestTimingOutSinkLeavesOthersFlowing(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	release := make(chan struct{})
	hung := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer hung.Close()
	defer close(release)
	var healthyHits atomic.Int32
	healthy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		healthyHits.Add(1)
		w.WriteHeader(http.StatusNoContent)
	}))
	defer healthy.Close()
	a, _ := startWith(t, ctx, fmt.Sprintf(`
notifier:
  max_deliveries: 2
sinks:
  - {name: hung, type: webhook, url: %s, secret: s3cret, timeout: 300ms, allow_private_networks: true}
  - {name: healthy, type: webhook, url: %s, secret: s3cret, allow_private_networks: true}
watches:
  - {id: w1, query: '"MQ-9B"', sinks: [hung, healthy]}
  - {id: w2, query: '"MQ-9B"', sinks: [hung, healthy]}
  - {id: w3, query: '"MQ-9B"', sinks: [hung, healthy]}
`, hung.URL, healthy.URL))
	url := a.Conn().ConnectedUrl()
	for _, w := range []string{"w1", "w2", "w3"} {
		publishAlert(t, ctx, a, w)
	}
	testwait.True(t, time.Minute, "the healthy sink to get all three alerts", func() bool { return healthyHits.Load() == 3 })
	var out string
	testwait.True(t, time.Minute, "the hung sink's three alerts in dlq list", func() bool {
		_, out, _ = runCLI(t, "dlq", "list", "-nats-url", url, "--sink", "hung")
		return strings.Count(out, "  timeout  ") == 3
	})
	if strings.Contains(out, "healthy") {
		t.Errorf("dlq list --sink hung shows the healthy sink:\n%s", out)
	}
}

// A dead-lettered digest is replayed as one digest (a CloudEvents batch for
// a webhook), and listed under its watch.
func TestReplayDigestDeadLetter(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var batches atomic.Int32
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var evs []events.CloudEvent
		if r.Header.Get("Content-Type") == "application/cloudevents-batch+json" && json.NewDecoder(r.Body).Decode(&evs) == nil && len(evs) == 2 {
			batches.Add(1)
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer hook.Close()
	a, cfgFile := startWith(t, ctx, fmt.Sprintf(`
sinks:
  - {name: hook, type: webhook, url: %s, secret: s3cret, allow_private_networks: true}
watches:
  - {id: baltic, query: baltic, sinks: [hook], digest: 1h}
`, hook.URL))
	url := a.Conn().ConnectedUrl()
	ev := func(id string) events.CloudEvent {
		return events.NewAlertEvent(events.Alert{Schema: events.AlertSchema, AlertID: id, WatchID: "baltic", Title: id, CreatedAt: time.Now().UTC()}, events.AlertEventType)
	}
	dl := delivery.DeadLetter{DeliveryID: delivery.ID("digest:baltic.1", "hook"), Sink: "hook", Error: "x", Reason: "status_5xx",
		Attempts: 8, FailedAt: time.Now().UTC(), WatchID: "baltic", Digest: []events.CloudEvent{ev("a1"), ev("a2")}}
	data, _ := json.Marshal(dl)
	if _, err := a.JetStream().Publish(ctx, topology.DeadLetterSubject("hook"), data); err != nil {
		t.Fatal(err)
	}
	if _, out, _ := runCLI(t, "dlq", "list", "-nats-url", url); !strings.Contains(out, "baltic") {
		t.Errorf("dlq list does not name the digest's watch:\n%s", out)
	}
	if code, out, errOut := runCLI(t, "dlq", "replay", "-config", cfgFile, "-nats-url", url, "--id", dl.DeliveryID); code != 0 || batches.Load() != 1 {
		t.Fatalf("replay: %d %q %q, %d batches", code, out, errOut, batches.Load())
	}
}

package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
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
	"github.com/newswatch/newswatch/pkg/consume"
	"github.com/newswatch/newswatch/pkg/events"
	"github.com/newswatch/newswatch/pkg/natstest"
	"github.com/newswatch/newswatch/pkg/topology"
	"github.com/newswatch/newswatch/pkg/watches"
)

func parseConfig(t *testing.T, yaml string) *config.Config {
	t.Helper()
	cfg, err := config.Parse([]byte(yaml), "test.yaml", func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// A config whose sink has a key the sink does not know is refused before
// the embedded server starts or any request leaves the process, and
// `run --check` reports the same error, with every other error.
func TestBadConfigStartsNothing(t *testing.T) {
	var hits atomic.Int64
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { hits.Add(1) }))
	defer site.Close()
	dir := t.TempDir()
	cfg := parseConfig(t, fmt.Sprintf(`
nats: {listen: "127.0.0.1:0", store_dir: %s}
http: {listen: "127.0.0.1:0"}
fetcher: {allow_private_networks: true}
feeds: [{id: demo, url: %s/feed.xml, interval: 1s}]
sinks:
  - {name: hook, type: webhook, url: %s/hook, retries: 3}
  - {name: chat, type: slack, webhook_url: %s/slack, colour: red}
watches:
  - {id: broken, query: '"MQ-9B" AND (', sinks: [hook]}
`, dir, site.URL, site.URL, site.URL))

	var stderr bytes.Buffer
	if code := app.RunUntilDone(t.Context(), cfg, app.All, true, testLogger(t), &stderr); code != 1 {
		t.Fatalf("exit code %d, want 1; stderr:\n%s", code, stderr.String())
	}
	for _, want := range []string{"retries", "colour", "watches[0]"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("the error does not name %s:\n%s", want, stderr.String())
		}
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("%d requests left the process before the config was refused", n)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("the embedded server started: the store dir holds %v", entries)
	}

	var out, errOut bytes.Buffer
	if code := app.CheckMain(cfg, nil, app.All, &out, &errOut); code != 1 {
		t.Errorf("check exit code %d, want 1", code)
	}
	for _, want := range []string{"watches[0].query", "sinks[0] (hook)", "field retries not found", "sinks[1] (chat)", "field colour not found"} {
		if !strings.Contains(errOut.String(), want) {
			t.Errorf("check does not report %q:\n%s", want, errOut.String())
		}
	}
	good := parseConfig(t, fmt.Sprintf("nats: {store_dir: %s}\nsinks: [{name: hook, type: webhook, url: https://example.com/hook, secret: whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw}]\nwatches: [{id: w, query: Quad, sinks: [hook]}]\n", dir))
	out.Reset()
	errOut.Reset()
	if code := app.CheckMain(good, nil, app.All, &out, &errOut); code != 0 || !strings.Contains(out.String(), "config ok") {
		t.Errorf("good config: code %d, %q %s", code, out.String(), errOut.String())
	}
}

// A component that stops inside a running process stops the others and
// makes the process exit non-zero, so that its orchestrator restarts it.
func TestComponentFailureExitsNonZero(t *testing.T) {
	ns := natstest.Start(t)
	cfgFile := filepath.Join(t.TempDir(), "newswatch.yaml")
	if err := os.WriteFile(cfgFile, []byte("http:\n  listen: 127.0.0.1:0\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- app.WorkerMain(app.Analyzer, []string{"--config", cfgFile, "-nats-url", ns.URL}, &stdout, &stderr)
	}()
	waitFor(t, "the analyzer's consumer", func() bool {
		_, err := ns.JS.Consumer(t.Context(), topology.StreamArticles, topology.ConsumerAnalyzer)
		return err == nil
	})
	// Deleting the durable consumer under a running analyzer stops it.
	if err := ns.JS.DeleteConsumer(t.Context(), topology.StreamArticles, topology.ConsumerAnalyzer); err != nil {
		t.Fatal(err)
	}
	select {
	case code := <-done:
		if code != 1 || !strings.Contains(stderr.String(), "analyzer") || !strings.Contains(stderr.String(), "consumer stopped") {
			t.Errorf("exit code %d, want 1 naming the analyzer; stderr:\n%s", code, stderr.String())
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("the worker kept running with a dead analyzer; stderr:\n%s", stderr.String())
	}
}

// An operator's pause of a watch from the config survives a restart; a
// change of the config entry itself wins over it.
func TestPausedConfigWatchStaysPaused(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	dir := t.TempDir()
	conf := func(query string) *config.Config {
		return parseConfig(t, fmt.Sprintf("nats: {listen: \"127.0.0.1:0\", store_dir: %s}\nhttp: {listen: \"127.0.0.1:0\"}\nwatches: [{id: mq-9b, query: '%s'}]\n", dir, query))
	}
	start := func(cfg *config.Config) (*app.App, *watches.Store) {
		a, err := app.Start(ctx, cfg, []string{app.Notifier}, true, testLogger(t))
		if err != nil {
			t.Fatal(err)
		}
		kv, err := a.JetStream().KeyValue(ctx, topology.BucketWatches)
		if err != nil {
			t.Fatal(err)
		}
		return a, watches.New(kv)
	}
	a, store := start(conf(`"MQ-9B"`))
	w, err := store.Get(ctx, "mq-9b")
	if err != nil || w.Paused || w.Origin != watches.OriginConfig {
		t.Fatalf("seeded watch %+v, %v", w, err)
	}
	w.Paused = true // as `newswatch watch pause mq-9b` does
	if err := store.Put(ctx, w); err != nil {
		t.Fatal(err)
	}
	if err := a.Stop(); err != nil {
		t.Fatal(err)
	}

	a, store = start(conf(`"MQ-9B"`))
	if w, err := store.Get(ctx, "mq-9b"); err != nil || !w.Paused {
		t.Errorf("after a restart the watch is %+v, %v; want it still paused", w, err)
	}
	if err := a.Stop(); err != nil {
		t.Fatal(err)
	}

	a, store = start(conf(`"MQ-9B" OR SeaGuardian`))
	defer a.Stop()
	if w, err := store.Get(ctx, "mq-9b"); err != nil || w.Paused || w.Query != `"MQ-9B" OR SeaGuardian` {
		t.Errorf("after the config entry changed the watch is %+v, %v; want the new config entry", w, err)
	}
}

// A poison article, a poison analyzed message and bad entries in the
// watches bucket each leave the rest flowing: alerts for good articles keep
// arriving, and the poison waits in the dead-letter stream.
func TestPoisonLeavesTheRestFlowing(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cfg := parseConfig(t, fmt.Sprintf("nats: {listen: \"127.0.0.1:0\", store_dir: %s}\nhttp: {listen: \"127.0.0.1:0\"}\nwatches: [{id: mq-9b, query: '\"MQ-9B\"'}]\n", t.TempDir()))
	a, err := app.Start(ctx, cfg, []string{app.Analyzer, app.Notifier}, true, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Stop()
	js := a.JetStream()
	kv, err := js.KeyValue(ctx, topology.BucketWatches)
	if err != nil {
		t.Fatal(err)
	}
	for key, value := range map[string]string{
		"badid":  `{"id":"bad id","query":"MQ-9B"}`,
		"junk":   `not json`,
		"nosink": `{"id":"nosink","query":"MQ-9B","sinks":["nowhere"]}`,
		"neg":    `{"id":"neg","query":"MQ-9B","digest":-5}`,
	} {
		if _, err := kv.PutString(ctx, key, value); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "the invalid watches counted", func() bool {
		return strings.Contains(metrics(t, a), "newswatch_watches_invalid 4\n")
	})

	publish := func(subject string, v any) {
		data, ok := v.([]byte)
		if !ok {
			data, _ = json.Marshal(v)
		}
		if _, err := js.Publish(ctx, subject, data); err != nil {
			t.Fatal(err)
		}
	}
	publish(topology.ArticleSubject("wire"), []byte(`{not json`))
	// An article whose feed id cannot name the subject of its analyzed form.
	publish(topology.ArticleSubject("wire"), events.Article{Schema: events.ArticleSchema, ID: "nofeed", Feed: "a.b", Text: "MQ-9B"})
	publish(topology.AnalyzedSubject("wire"), []byte(`{"schema":"newswatch.analyzed.v1"`))
	stories := []string{
		"The navy will lease two more MQ-9B drones for maritime patrols over the Indian Ocean next year.",
		"Parliament approved a budget line for MQ-9B maintenance, spares and pilot training at a new base.",
		"A test flight of an MQ-9B from the coast tracked a fishing fleet for thirty hours without landing.",
	}
	for i, text := range stories {
		publish(topology.ArticleSubject("wire"), events.Article{Schema: events.ArticleSchema, ID: fmt.Sprintf("good%d", i), Feed: "wire",
			URL: fmt.Sprintf("https://example.com/%d", i), Title: fmt.Sprintf("Story %d", i), Text: text, FetchedAt: time.Now()})
	}
	waitFor(t, "an alert for each good article", func() bool {
		return len(streamMessages(t, ctx, js, topology.StreamAlerts)) == len(stories)
	})
	for _, m := range streamMessages(t, ctx, js, topology.StreamAlerts) {
		if m.Subject != topology.AlertSubject("mq-9b") {
			t.Errorf("alert on %s from an invalid watch", m.Subject)
		}
	}
	var stages map[string][]consume.DeadLetter
	waitFor(t, "the three poisons dead-lettered", func() bool {
		stages = map[string][]consume.DeadLetter{}
		for _, m := range streamMessages(t, ctx, js, topology.StreamDeadLetter) {
			if dl, ok := consume.ParseDeadLetter(m.Subject, m.Header, m.Data); ok {
				stages[dl.Stage] = append(stages[dl.Stage], dl)
			}
		}
		return len(stages[topology.ConsumerAnalyzer]) == 2 && len(stages[topology.ConsumerNotifier]) == 1
	})
	if dl := stages[topology.ConsumerAnalyzer][0]; dl.Reason != consume.ReasonPermanent || string(dl.Data) != `{not json` || dl.Subject != topology.ArticleSubject("wire") {
		t.Errorf("analyzer dead letter %+v", dl)
	}
	if dl := stages[topology.ConsumerAnalyzer][1]; dl.Reason != consume.ReasonPermanent || !strings.Contains(dl.Error, `feed "a.b"`) {
		t.Errorf("analyzer dead letter %+v", dl)
	}
	if dl := stages[topology.ConsumerNotifier][0]; dl.Reason != consume.ReasonPermanent || dl.Stream != topology.StreamAnalyzed {
		t.Errorf("notifier dead letter %+v", dl)
	}
	for _, name := range []string{topology.ConsumerAnalyzer, topology.ConsumerNotifier} {
		waitFor(t, name+" consumer drained", func() bool {
			c, err := js.Consumer(ctx, map[string]string{topology.ConsumerAnalyzer: topology.StreamArticles, topology.ConsumerNotifier: topology.StreamAnalyzed}[name], name)
			if err != nil {
				return false
			}
			ci, err := c.Info(ctx)
			return err == nil && ci.NumPending == 0 && ci.NumAckPending == 0
		})
	}
}

func metrics(t *testing.T, a *app.App) string {
	t.Helper()
	resp, err := http.Get("http://" + a.StatusAddr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// The fetcher has a readiness check: /readyz names it when it cannot do
// its work (here, its feeds bucket is gone); if that stops the fetcher, the
// app stops with an error naming it.
func TestFetcherReadiness(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cfg := parseConfig(t, fmt.Sprintf("nats: {listen: \"127.0.0.1:0\", store_dir: %s}\nhttp: {listen: \"127.0.0.1:0\"}\n", t.TempDir()))
	a, err := app.Start(ctx, cfg, []string{app.Fetcher}, true, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Stop()
	readyz := func() (int, string) {
		resp, err := http.Get("http://" + a.StatusAddr() + "/readyz")
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := readyz(); code != http.StatusOK {
		t.Fatalf("/readyz = %d %s", code, body)
	}
	if err := a.JetStream().DeleteKeyValue(ctx, topology.BucketFeeds); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the fetcher reported unready or failed", func() bool {
		select {
		case <-a.Failed():
			return true
		default:
		}
		code, body := readyz()
		return code == http.StatusServiceUnavailable && strings.Contains(body, "fetcher")
	})
	select {
	case <-a.Failed():
		if err := a.Stop(); err == nil || !strings.Contains(err.Error(), "fetcher") {
			t.Errorf("Stop = %v, want the fetcher's error", err)
		}
	default:
	}
}

// Each worker binary takes -check too: it checks what that worker builds.
func TestWorkerCheck(t *testing.T) {
	cfgFile := filepath.Join(t.TempDir(), "newswatch.yaml")
	yaml := "nats: {url: nats://127.0.0.1:1}\nsinks: [{name: hook, type: webhook, url: https://example.com/h, secret: s, retries: 3}]\n"
	if err := os.WriteFile(cfgFile, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	if code := app.WorkerMain(app.Notifier, []string{"-check", "-config", cfgFile}, &out, &errOut); code != 1 || !strings.Contains(errOut.String(), "field retries not found") {
		t.Errorf("notifier -check: %d %q", code, errOut.String())
	}
	out.Reset()
	// The fetcher builds no sinks, so their settings are not its to check.
	if code := app.WorkerMain(app.Fetcher, []string{"-check", "-config", cfgFile}, &out, &errOut); code != 0 || !strings.Contains(out.String(), "config ok") {
		t.Errorf("fetcher -check: %d %q", code, out.String())
	}
}

package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/newswatch/newswatch/pkg/app"
	"github.com/newswatch/newswatch/pkg/demosite"
	"github.com/newswatch/newswatch/pkg/events"
	"github.com/newswatch/newswatch/pkg/natstest"
	"github.com/newswatch/newswatch/pkg/testwait"
	"github.com/newswatch/newswatch/pkg/topology"
)

func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = Main(args, strings.NewReader(""), &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestDemoPrintsBothAlerts(t *testing.T) {
	code, out, errOut := runCLI(t, "demo", "--max-alerts", "2", "--timeout", "90s")
	if code != 0 {
		t.Fatalf("demo exited %d: %s", code, errOut)
	}
	for _, want := range []string{"ALERT alerts.mq-9b", "ALERT alerts.quad", "31 MQ-9B drones", "the Quad"} {
		if !strings.Contains(out, want) {
			t.Errorf("demo output lacks %q:\n%s", want, out)
		}
	}
}

func TestUnknownCommandAndVersion(t *testing.T) {
	if code, _, errOut := runCLI(t, "frobnicate"); code != 2 || !strings.Contains(errOut, `unknown command "frobnicate"`) {
		t.Errorf("unknown command: code %d, %q", code, errOut)
	}
	if code, out, _ := runCLI(t, "--version"); code != 0 || !strings.HasPrefix(out, "newswatch ") {
		t.Errorf("--version: code %d, %q", code, out)
	}
}

// Every command and subcommand answers -h on stdout with exit 0, listing
// its subcommands or its own flags.
func TestHelp(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want []string
		not  []string
	}{
		{[]string{"-h"}, []string{"usage: newswatch", "watch", "feeds", "silence", "dlq", "alerts", "extract"}, nil},
		{[]string{"--help"}, []string{"usage: newswatch"}, nil},
		{[]string{"help"}, []string{"usage: newswatch"}, nil},
		{[]string{"help", "watch"}, []string{"add", "list", "pause"}, nil},
		{[]string{"watch", "-h"}, []string{"add", "list", "show", "rm", "pause", "resume"}, nil},
		{[]string{"watch", "add", "-h"}, []string{"-query", "-sinks"}, nil},
		{[]string{"silence", "-h"}, []string{"add", "list", "rm"}, nil},
		{[]string{"silence", "add", "--help"}, []string{"usage: newswatch silence add", "-for", "-comment"}, nil},
		{[]string{"silence", "list", "-h"}, []string{"-nats-url"}, []string{"-for"}},
		{[]string{"dlq", "-h"}, []string{"list", "replay"}, nil},
		{[]string{"dlq", "replay", "-h"}, []string{"-sink", "-id"}, nil},
		{[]string{"alerts", "-h"}, []string{"list", "show"}, nil},
		{[]string{"alerts", "show", "-h"}, []string{"usage: newswatch alerts show", "-since"}, []string{"-watch"}},
		{[]string{"feeds", "-h"}, []string{"list", "add", "rm", "pause", "resume", "import-opml"}, nil},
		{[]string{"feeds", "add", "-h"}, []string{"-url", "-interval"}, []string{"-json"}},
		{[]string{"run", "-h"}, []string{"-config", "-nats-url"}, nil},
		{[]string{"demo", "-h"}, []string{"-max-alerts"}, nil},
		{[]string{"extract", "-h"}, []string{"-url", "-file", "-config"}, nil},
		{[]string{"match", "-h"}, []string{"-query", "canonical form"}, nil},
		{[]string{"analyze", "-h"}, []string{"usage: newswatch analyze", "-explain"}, nil},
		{[]string{"backtest", "-h"}, []string{"usage: newswatch backtest", "-query", "-since", "-json"}, nil},
		{[]string{"replay", "-h"}, []string{"usage: newswatch replay", "-since"}, nil},
		{[]string{"bench", "-h"}, []string{"pipeline", "soak"}, nil},
		{[]string{"bench", "soak", "-h"}, []string{"usage: newswatch bench soak", "-metrics-url", "-rounds"}, nil},
		{[]string{"watch", "add", "-h"}, []string{"-dry-run", "-since"}, nil},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, out, errOut := runCLI(t, tc.args...)
			if code != 0 {
				t.Fatalf("exit %d; stderr %q", code, errOut)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("stdout lacks %q:\n%s", w, out)
				}
			}
			for _, w := range tc.not {
				if strings.Contains(out, w) {
					t.Errorf("stdout has %q:\n%s", w, out)
				}
			}
		})
	}
	// Without a subcommand, usage goes to stderr with exit 2.
	for _, cmd := range []string{"watch", "silence", "dlq", "alerts", "bench"} {
		if code, _, errOut := runCLI(t, cmd); code != 2 || !strings.Contains(errOut, "usage: newswatch "+cmd) {
			t.Errorf("%s with no subcommand: %d %q", cmd, code, errOut)
		}
	}
	if code, _, errOut := runCLI(t); code != 2 || !strings.Contains(errOut, "usage: newswatch") {
		t.Errorf("no command: %d %q", code, errOut)
	}
}

// A watch added with `newswatch watch add` while newswatch runs fires on the
// next matching article, without a restart.
func TestWatchAddedAtRunTimeFires(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cfg := natstest.AppConfig(t)
	a, err := app.Start(ctx, &cfg, []string{app.Analyzer, app.Notifier}, true, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Stop()
	url := a.Conn().ConnectedUrl()

	code, out, errOut := runCLI(t, "watch", "add", "-nats-url", url, "--id", "f414", "--query", `"F-414" AND engines`)
	if code != 0 {
		t.Fatalf("watch add: %d %s", code, errOut)
	}
	if !strings.Contains(out, "alerts.f414") {
		t.Errorf("watch add said %q", out)
	}
	if code, _, errOut := runCLI(t, "watch", "add", "-nats-url", url, "--id", "bad", "--query", `("F-414"`); code != 2 || !strings.Contains(errOut, "column") {
		t.Errorf("bad query: code %d, %q", code, errOut)
	}
	code, out, _ = runCLI(t, "watch", "list", "-nats-url", url)
	if code != 0 || !strings.Contains(out, "f414") || strings.Contains(out, "bad") {
		t.Errorf("watch list: %d %q", code, out)
	}
	// The watch is live once the analyzer (and, from the same follower, the
	// notifier) works at the revision that added it.
	kv, err := a.JetStream().KeyValue(ctx, topology.BucketWatches)
	if err != nil {
		t.Fatal(err)
	}
	entry, err := kv.Get(ctx, "f414")
	if err != nil {
		t.Fatal(err)
	}
	testwait.For(t, time.Minute, "the analyzer to read watch f414", func() error {
		rev, err := testwait.Metric("http://"+a.StatusAddr()+"/metrics", "newswatch_analyzer_watches_revision")
		if err == nil && rev < float64(entry.Revision()) {
			err = fmt.Errorf("analyzer at revision %v, f414 written at %d", rev, entry.Revision())
		}
		return err
	})

	sub, err := a.Conn().SubscribeSync("alerts.f414")
	if err != nil {
		t.Fatal(err)
	}
	art := events.Article{
		Schema: events.ArticleSchema, ID: "a-f414", Feed: "test", URL: "https://example.com/f414",
		CanonicalURL: "https://example.com/f414", Title: "HAL and GE sign deal",
		Text: "HAL will build GE F‑414 engines in India under the deal.", FetchedAt: time.Now(),
	}
	data, _ := json.Marshal(art)
	if _, err := a.JetStream().Publish(ctx, topology.ArticleSubject("test"), data, jetstream.WithMsgID(art.ID)); err != nil {
		t.Fatal(err)
	}
	msg, err := sub.NextMsg(time.Minute)
	if err != nil {
		t.Fatalf("no alert on alerts.f414: %v", err)
	}
	var ev events.CloudEvent
	if err := json.Unmarshal(msg.Data, &ev); err != nil || ev.Data.ArticleID != "a-f414" {
		t.Errorf("alert %s (%v)", msg.Data, err)
	}

	if code, _, _ := runCLI(t, "watch", "rm", "-nats-url", url, "f414"); code != 0 {
		t.Errorf("watch rm exited %d", code)
	}
	if code, _, errOut := runCLI(t, "watch", "show", "-nats-url", url, "f414"); code != 1 || !strings.Contains(errOut, "no such watch") {
		t.Errorf("show after rm: %d %q", code, errOut)
	}
}

func TestOperatorCommandsNeverStartAServer(t *testing.T) {
	code, _, errOut := runCLI(t, "watch", "list", "-nats-url", "nats://127.0.0.1:1")
	if code != 1 || !strings.Contains(errOut, "start newswatch first") {
		t.Errorf("watch list with no server: code %d, %q", code, errOut)
	}
}

// alerts list/show read the ALERTS stream; a sink answering 400 dead-letters
// the alert, dlq list shows it and dlq replay delivers it once the sink works.
func TestAlertsSilenceAndDeadLetters(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var accept atomic.Bool
	var delivered atomic.Int32
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !accept.Load() {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		delivered.Add(1)
		w.WriteHeader(http.StatusNoContent)
	}))
	defer hook.Close()
	site := httptest.NewServer(demosite.Handler())
	defer site.Close()
	a, cfgFile := startWith(t, ctx, fmt.Sprintf(`
fetcher:
  allow_private_networks: true
feeds:
  - {id: demo, url: %s/feed.xml, interval: 1h}
sinks:
  - {name: hook, type: webhook, url: %s, secret: s3cret, allow_private_networks: true}
watches:
  - {id: mq-9b, query: '"MQ-9B"', sinks: [hook]}
  - {id: quad, query: Quad}
`, site.URL, hook.URL))
	url := a.Conn().ConnectedUrl()

	var out string
	testwait.For(t, time.Minute, "the undeliverable mq-9b alert in dlq list", func() error {
		_, out, _ = runCLI(t, "dlq", "list", "-nats-url", url)
		if !strings.Contains(out, "status_4xx") || !strings.Contains(out, "hook") || !strings.Contains(out, "mq-9b") {
			return fmt.Errorf("dlq list:\n%s", out)
		}
		return nil
	})
	// Both alerts are in ALERTS once the notifier has handled every article.
	testwait.For(t, time.Minute, "the notifier to finish", func() error {
		return natstest.ConsumerIdle(ctx, a.JetStream(), topology.StreamAnalyzed, topology.ConsumerNotifier)
	})
	code, out, errOut := runCLI(t, "alerts", "list", "-nats-url", url)
	if code != 0 || !strings.Contains(out, "mq-9b") || !strings.Contains(out, "quad") {
		t.Fatalf("alerts list: %d %s %s", code, out, errOut)
	}
	code, out, _ = runCLI(t, "alerts", "list", "-nats-url", url, "--watch", "quad", "--json")
	var ev events.CloudEvent
	if code != 0 || strings.Count(out, "\n") != 1 || json.Unmarshal([]byte(out), &ev) != nil || ev.Data.WatchID != "quad" {
		t.Fatalf("alerts list --watch quad: %d %q", code, out)
	}
	code, out, _ = runCLI(t, "alerts", "show", "-nats-url", url, ev.ID)
	if code != 0 || !strings.Contains(out, `"alert_id": "`+ev.ID+`"`) {
		t.Errorf("alerts show: %d %s", code, out)
	}

	accept.Store(true)
	code, out, errOut = runCLI(t, "dlq", "replay", "-config", cfgFile, "-nats-url", url)
	if code != 0 || delivered.Load() != 1 || !strings.Contains(out, "delivered to hook") {
		t.Fatalf("dlq replay: %d %q %q, delivered %d", code, out, errOut, delivered.Load())
	}
	if _, out, _ := runCLI(t, "dlq", "list", "-nats-url", url); strings.Contains(out, "mq-9b") {
		t.Errorf("replayed dead letter still listed:\n%s", out)
	}

	// Typos name what exists instead of succeeding silently.
	if code, _, errOut := runCLI(t, "silence", "add", "-nats-url", url, "--watch", "nosuch", "--for", "1h"); code != 1 || !strings.Contains(errOut, `no watch "nosuch"; the watches are: mq-9b, quad`) {
		t.Errorf("silence add --watch nosuch: %d %q", code, errOut)
	}
	for _, sub := range []string{"list", "replay"} {
		code, _, errOut := runCLI(t, "dlq", sub, "-config", cfgFile, "-nats-url", url, "--sink", "nosuch")
		if code != 1 || !strings.Contains(errOut, `no sink "nosuch": the --config file's sinks are: hook`) {
			t.Errorf("dlq %s --sink nosuch: %d %q", sub, code, errOut)
		}
	}
	if code, _, errOut := runCLI(t, "dlq", "list", "-config", cfgFile, "-nats-url", url, "--sink", "hook"); code != 0 {
		t.Errorf("dlq list --sink hook: %d %q", code, errOut)
	}
	if code, _, errOut := runCLI(t, "silence", "add", "-nats-url", url, "--watch", "quad"); code != 2 || !strings.Contains(errOut, "--for") {
		t.Errorf("silence without --for: %d %q", code, errOut)
	}
	if code, _, errOut := runCLI(t, "silence", "add", "-nats-url", url, "--watch", "quad", "--for", "8h", "--comment", "offsite"); code != 0 {
		t.Fatalf("silence add: %s", errOut)
	}
	if code, out, _ := runCLI(t, "silence", "list", "-nats-url", url); code != 0 || !strings.Contains(out, "quad") || !strings.Contains(out, "active") {
		t.Errorf("silence list: %q", out)
	}
	if code, _, _ := runCLI(t, "silence", "rm", "-nats-url", url, "--watch", "quad"); code != 0 {
		t.Errorf("silence rm exited %d", code)
	}
}

// `newswatch run` with nats.listen taken by another process fails at once
// with the server's reason and the keys to change.
func TestRunNATSPortInUse(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	cfgFile := filepath.Join(t.TempDir(), "newswatch.yaml")
	yaml := fmt.Sprintf("nats:\n  listen: %s\n  store_dir: %s\nhttp:\n  listen: 127.0.0.1:0\n", busy.Addr(), t.TempDir())
	if err := os.WriteFile(cfgFile, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := runCLI(t, "run", "--config", cfgFile)
	for _, want := range []string{"newswatch: embedded: cannot start NATS server: nats.listen " + busy.Addr().String() + " is in use", "address already in use", "nats.url"} {
		if code != 1 || !strings.Contains(errOut, want) {
			t.Errorf("run with nats.listen in use: exit %d, stderr lacks %q:\n%s", code, want, errOut)
		}
	}
}

package cli

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/newswatch/newswatch/pkg/app"
	"github.com/newswatch/newswatch/pkg/config"
	"github.com/newswatch/newswatch/pkg/testwait"
	"github.com/newswatch/newswatch/pkg/topology"
)

func waitCLI(t *testing.T, what string, args []string, cond func(out string) bool) string {
	t.Helper()
	var out string
	testwait.For(t, time.Minute, what, func() error {
		_, out, _ = runCLI(t, args...)
		if !cond(out) {
			return fmt.Errorf("newswatch %s printed:\n%s", strings.Join(args, " "), out)
		}
		return nil
	})
	return out
}

// A poison article shows in `dlq list` as the analyzer's and can be
// replayed; invalid entries of the watches bucket show in `watch list` as
// invalid and `watch rm` removes them; a pause of a config watch is kept.
func TestDLQStagesAndInvalidWatches(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "newswatch.yaml")
	yaml := fmt.Sprintf("nats: {listen: \"127.0.0.1:0\", store_dir: %s}\nhttp: {listen: \"127.0.0.1:0\"}\nwatches: [{id: mq-9b, query: '\"MQ-9B\"'}]\n", filepath.Join(dir, "data"))
	if err := os.WriteFile(cfgFile, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(cfgFile)
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.Start(ctx, cfg, []string{app.Analyzer, app.Notifier}, true, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Stop()
	url := a.Conn().ConnectedUrl()
	js := a.JetStream()

	if _, err := js.Publish(ctx, topology.ArticleSubject("wire"), []byte(`{not json`)); err != nil {
		t.Fatal(err)
	}
	out := waitCLI(t, "the poison article in dlq list", []string{"dlq", "list", "-nats-url", url}, func(out string) bool {
		return strings.Contains(out, "stage analyzer")
	})
	for _, want := range []string{"ARTICLES:1", "news.articles.wire", "permanent", "decoding"} {
		if !strings.Contains(out, want) {
			t.Errorf("dlq list lacks %q:\n%s", want, out)
		}
	}
	if _, out, _ := runCLI(t, "dlq", "list", "-nats-url", url, "--stage", "notifier"); strings.Contains(out, "stage analyzer") {
		t.Errorf("dlq list --stage notifier shows the analyzer's:\n%s", out)
	}
	code, out, errOut := runCLI(t, "dlq", "replay", "-nats-url", url, "--stage", "analyzer")
	if code != 0 || !strings.Contains(out, "ARTICLES:1 republished on news.articles.wire") {
		t.Fatalf("dlq replay: %d %q %q", code, out, errOut)
	}
	// Still poison: it comes back once, under its new stream sequence.
	waitCLI(t, "the replayed article dead-lettered again", []string{"dlq", "list", "-nats-url", url}, func(out string) bool {
		return strings.Contains(out, "ARTICLES:2") && !strings.Contains(out, "ARTICLES:1 ")
	})

	kv, err := js.KeyValue(ctx, topology.BucketWatches)
	if err != nil {
		t.Fatal(err)
	}
	for key, value := range map[string]string{"junk": "not json", "badid": `{"id":"bad id","query":"MQ-9B"}`, "badq": `{"id":"badq","query":"MQ-9B AND ("}`} {
		if _, err := kv.PutString(ctx, key, value); err != nil {
			t.Fatal(err)
		}
	}
	code, out, errOut = runCLI(t, "watch", "list", "-config", cfgFile, "-nats-url", url)
	if code != 0 {
		t.Fatalf("watch list: %d %s", code, errOut)
	}
	for _, key := range []string{"junk", "badid", "badq"} {
		if !lineHas(out, key, "invalid") {
			t.Errorf("watch list does not show %s as invalid:\n%s", key, out)
		}
	}
	if !lineHas(out, "mq-9b", "active", "config") {
		t.Errorf("watch list: mq-9b not an active config watch:\n%s", out)
	}
	// dlq list shows them too, beside the dead letters; a filtered list
	// (--stage, --sink, --id) does not.
	_, out, _ = runCLI(t, "dlq", "list", "-nats-url", url)
	for _, key := range []string{"junk", "badid", "badq"} {
		if !dlqLineHas(out, "watches", key, "invalid_watch") {
			t.Errorf("dlq list does not show watch entry %s as invalid_watch:\n%s", key, out)
		}
	}
	if _, out, _ := runCLI(t, "dlq", "list", "-nats-url", url, "--stage", "analyzer"); strings.Contains(out, "invalid_watch") {
		t.Errorf("dlq list --stage analyzer shows invalid watches:\n%s", out)
	}
	if code, _, errOut := runCLI(t, "watch", "rm", "-nats-url", url, "junk"); code != 0 {
		t.Errorf("watch rm junk: %d %s", code, errOut)
	}
	if code, _, errOut := runCLI(t, "watch", "pause", "-nats-url", url, "mq-9b"); code != 0 {
		t.Errorf("watch pause: %d %s", code, errOut)
	}
	_, out, _ = runCLI(t, "watch", "list", "-nats-url", url)
	if strings.Contains(out, "junk") || !lineHas(out, "mq-9b", "paused", "config") {
		t.Errorf("after rm junk and pause mq-9b:\n%s", out)
	}
	if code, _, errOut := runCLI(t, "watch", "add", "-config", cfgFile, "-nats-url", url, "--id", "w", "--query", "Quad", "--sinks", "nowhere"); code != 1 || !strings.Contains(errOut, `"nowhere"`) {
		t.Errorf("watch add with an unknown sink: %d %q", code, errOut)
	}
}

// lineHas reports whether a line of out starts with key and holds every word.
func lineHas(out, key string, words ...string) bool {
	for _, l := range strings.Split(out, "\n") {
		if !strings.HasPrefix(l, key+" ") {
			continue
		}
		for _, w := range words {
			if !strings.Contains(l, w) {
				return false
			}
		}
		return true
	}
	return false
}

// `newswatch run --check` reports every error of a config and starts
// nothing; a good config passes.
func TestRunCheck(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte(fmt.Sprintf(`
nats: {store_dir: %s}
sinks:
  - {name: hook, type: webhook, url: https://example.com/hook, secret: s3cret, retries: 3}
log: {level: loud}
watches:
  - {id: ok, query: Quad}
  - {id: w, query: 'Quad AND (', sinks: [hook]}
`, filepath.Join(dir, "data"))), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := runCLI(t, "run", "--check", "--config", bad)
	if code != 1 || !strings.Contains(errOut, "field retries not found") || !strings.Contains(errOut, `watches[1].query of watch "w"`) || !strings.Contains(errOut, "log.level") {
		t.Errorf("run --check on a bad config: %d %q", code, errOut)
	}
	if _, err := os.Stat(filepath.Join(dir, "data")); !os.IsNotExist(err) {
		t.Errorf("run --check started a server: %v", err)
	}
	good := filepath.Join(dir, "good.yaml")
	if err := os.WriteFile(good, []byte("nats: {store_dir: "+filepath.Join(dir, "data")+"}\nwatches: [{id: w, query: Quad}]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := runCLI(t, "run", "--check", "--config", good); code != 0 || !strings.Contains(out, "config ok") {
		t.Errorf("run --check on a good config: %d %q %q", code, out, errOut)
	}
}

// dlqLineHas reports whether a line of `dlq list` output holds every word
// as a whole field.
func dlqLineHas(out string, words ...string) bool {
	for _, l := range strings.Split(out, "\n") {
		fields := strings.Fields(l)
		ok := true
		for _, w := range words {
			if !slices.Contains(fields, w) {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

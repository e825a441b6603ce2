package cli

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/newswatch/newswatch/pkg/app"
	"github.com/newswatch/newswatch/pkg/config"
	"github.com/newswatch/newswatch/pkg/events"
	"github.com/newswatch/newswatch/pkg/natstest"
	"github.com/newswatch/newswatch/pkg/testwait"
	"github.com/newswatch/newswatch/pkg/topology"
)

// After a taxonomy change, replay adds the new topic flag to an alerted
// article, fires a watch on the new topic, and sends no second alert for the
// story already alerted.
func TestReplayAfterTaxonomyChange(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cfg := natstest.AppConfig(t)
	cfg.Watches = []config.Watch{{ID: "mq", Query: `"MQ-9B"`}, {ID: "uav", Query: `topic:uav`}}
	start := func() *app.App {
		a, err := app.Start(ctx, &cfg, []string{app.Analyzer, app.Notifier}, true, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	a := start()
	art := events.Article{
		Schema: events.ArticleSchema, ID: "a-mq9b", Feed: "test", URL: "https://example.com/mq9b", CanonicalURL: "https://example.com/mq9b",
		Title: "India to get MQ-9B drones sooner", Text: "India and the United States agreed to speed up the delivery of 31 MQ-9B drones.",
		PublishedAt: time.Now(), FetchedAt: time.Now(),
	}
	data, _ := json.Marshal(art)
	if _, err := a.JetStream().Publish(ctx, topology.ArticleSubject("test"), data, jetstream.WithMsgID(art.ID+"-r0")); err != nil {
		t.Fatal(err)
	}
	testwait.True(t, time.Minute, "the alert on alerts.mq", func() bool { return len(natstest.Messages(t, a.JetStream(), topology.StreamAlerts, "alerts.mq")) == 1 })
	if err := a.Stop(); err != nil {
		t.Fatal(err)
	}

	// A taxonomy with a topic the first analysis did not have.
	tax := filepath.Join(t.TempDir(), "taxonomy.yaml")
	if err := os.WriteFile(tax, []byte("topics:\n  - name: uav\n    threshold: 1\n    features:\n      - {name: drones, weight: 1, terms: [drones, drone]}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg.Analyzer.TaxonomyFile = tax
	a = start()
	defer a.Stop()
	code, out, errOut := runCLI(t, "replay", "--nats-url", a.Conn().ConnectedUrl(), "--since", "1h")
	if code != 0 || !strings.Contains(out, "republished 1 articles") {
		t.Fatalf("replay exited %d: %s %s", code, out, errOut)
	}
	var replayed events.AnalyzedArticle
	testwait.True(t, time.Minute, "the replayed analysis with topic uav", func() bool {
		for _, m := range natstest.Messages(t, a.JetStream(), topology.StreamAnalyzed, "news.analyzed.test") {
			var aa events.AnalyzedArticle
			if json.Unmarshal(m, &aa) == nil && slices.ContainsFunc(aa.Topics, func(tp events.Topic) bool { return tp.Name == "uav" }) {
				replayed = aa
				return true
			}
		}
		return false
	})
	// The watch on the new topic fires; it is the proof the notifier has
	// handled the replayed analysis, after which alerts.mq must still hold one.
	testwait.True(t, time.Minute, "the alert on alerts.uav", func() bool { return len(natstest.Messages(t, a.JetStream(), topology.StreamAlerts, "alerts.uav")) == 1 })
	if n := len(natstest.Messages(t, a.JetStream(), topology.StreamAlerts, "alerts.mq")); n != 1 {
		t.Errorf("alerts.mq holds %d alerts after the replay, want still 1", n)
	}
	var first events.AnalyzedArticle
	if err := json.Unmarshal(natstest.Messages(t, a.JetStream(), topology.StreamAnalyzed, "news.analyzed.test")[0], &first); err != nil {
		t.Fatal(err)
	}
	if replayed.StoryID != first.StoryID {
		t.Errorf("replay changed the story: %s, was %s", replayed.StoryID, first.StoryID)
	}
}

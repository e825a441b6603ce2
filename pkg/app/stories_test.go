package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/newswatch/newswatch/pkg/app"
	"github.com/newswatch/newswatch/pkg/config"
	"github.com/newswatch/newswatch/pkg/events"
	"github.com/newswatch/newswatch/pkg/natstest"
	"github.com/newswatch/newswatch/pkg/topology"
)

// Two analyzer processes (each handling several articles at once) receive
// the first two copies of each of many new stories at the same instant:
// every pair gets one story and the watch one alert per story.
func TestTwoAnalyzersSimultaneousCopies(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cfg := natstest.AppConfig(t)
	cfg.Watches = []config.Watch{{ID: "pairs", Query: "zqpair"}}
	quiet := slog.New(slog.DiscardHandler)
	first, err := app.Start(ctx, &cfg, []string{app.Analyzer, app.Notifier}, true, quiet)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Stop()
	cfg2 := cfg
	cfg2.NATS.URL = first.Conn().ConnectedUrl()
	second, err := app.Start(ctx, &cfg2, []string{app.Analyzer}, false, quiet)
	if err != nil {
		t.Fatal(err)
	}
	defer second.Stop()

	const pairs = 30
	r := rand.New(rand.NewPCG(7, 7))
	js := first.JetStream()
	for p := range pairs {
		var b strings.Builder
		for range 200 {
			fmt.Fprintf(&b, "w%d ", r.IntN(100000))
		}
		body := b.String() + " zqpair"
		for c, text := range []string{body, body + " (With inputs from PTI)"} {
			a := events.Article{
				Schema: events.ArticleSchema, ID: fmt.Sprintf("pair-%d-copy-%d", p, c), Feed: "pairs",
				URL: fmt.Sprintf("https://example.com/%d/%d", p, c), Title: fmt.Sprintf("Story %d", p),
				Text: text, PublishedAt: time.Now(), FetchedAt: time.Now(),
			}
			data, _ := json.Marshal(a)
			if _, err := js.PublishAsync(topology.ArticleSubject("pairs"), data, jetstream.WithMsgID(a.ID)); err != nil {
				t.Fatal(err)
			}
		}
	}
	select {
	case <-js.PublishAsyncComplete():
	case <-ctx.Done():
		t.Fatal("publishes not acknowledged")
	}
	waitFor(t, "60 analyzed articles", func() bool {
		return len(streamMessages(t, ctx, js, topology.StreamAnalyzed)) == 2*pairs
	})
	waitIdle(t, ctx, js, topology.StreamAnalyzed, topology.ConsumerNotifier)

	stories := map[string]map[string]bool{} // pair -> story ids
	for _, m := range streamMessages(t, ctx, js, topology.StreamAnalyzed) {
		var aa events.AnalyzedArticle
		if err := json.Unmarshal(m.Data, &aa); err != nil {
			t.Fatal(err)
		}
		pair := aa.Article.ID[:strings.LastIndex(aa.Article.ID, "-copy-")]
		if stories[pair] == nil {
			stories[pair] = map[string]bool{}
		}
		stories[pair][aa.StoryID] = true
	}
	for pair, ids := range stories {
		if len(ids) != 1 {
			t.Errorf("%s: the two copies got %d stories", pair, len(ids))
		}
	}
	alerts := 0
	for _, m := range streamMessages(t, ctx, js, topology.StreamAlerts) {
		if m.Subject == topology.AlertSubject("pairs") {
			alerts++
		}
	}
	if alerts != pairs {
		t.Errorf("%d alerts for %d stories, want one each", alerts, pairs)
	}
}

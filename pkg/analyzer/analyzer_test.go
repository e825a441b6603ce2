package analyzer

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/newswatch/newswatch/pkg/entities"
	"github.com/newswatch/newswatch/pkg/events"
	"github.com/newswatch/newswatch/pkg/natstest"
	"github.com/newswatch/newswatch/pkg/story"
	"github.com/newswatch/newswatch/pkg/topics"
	"github.com/newswatch/newswatch/pkg/topology"
)

func seedText(t testing.TB) string {
	t.Helper()
	b, err := os.ReadFile("../../../shared/seeds/livemint-2023-11-11-india-us-2plus2.txt")
	if err != nil {
		t.Skipf("seed article not beside the repository: %v", err)
	}
	return string(b)
}

func TestAnalyzerConsumes(t *testing.T) {
	ns := natstest.Start(t)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cl, err := topics.New(topics.DefaultTaxonomy())
	if err != nil {
		t.Fatal(err)
	}
	gz, err := entities.New(entities.DefaultEntries())
	if err != nil {
		t.Fatal(err)
	}
	kv, err := ns.Topo.KV(ctx, topology.BucketStories, time.Hour, 1)
	if err != nil {
		t.Fatal(err)
	}
	m := NewMetrics(prometheus.NewRegistry())
	an := New(cl, gz, story.New(kv), m)
	cons, err := ns.Topo.Consumer(ctx, topology.StreamArticles, topology.ConsumerAnalyzer, 5*time.Second, -1)
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- an.Run(runCtx, ns.JS, cons, slog.New(slog.DiscardHandler)) }()

	// Garbage and an unknown schema are terminated, not redelivered forever.
	for _, bad := range []string{`{not json`, `{"schema":"newswatch.article.v9","id":"x"}`} {
		if _, err := ns.JS.Publish(ctx, topology.ArticleSubject("wire"), []byte(bad)); err != nil {
			t.Fatal(err)
		}
	}
	art := events.Article{
		Schema: events.ArticleSchema, ID: "seed", Feed: "wire", URL: "https://www.livemint.com/seed",
		Title: "India, US to co-produce armoured vehicles, fast-track MQ-9B drones", Text: seedText(t), FetchedAt: time.Now(),
	}
	data, _ := json.Marshal(art)
	if _, err := ns.JS.Publish(ctx, topology.ArticleSubject("wire"), data); err != nil {
		t.Fatal(err)
	}
	stream, _ := ns.JS.Stream(ctx, topology.StreamAnalyzed)
	var msg []byte
	for msg == nil && ctx.Err() == nil {
		if m, err := stream.GetLastMsgForSubject(ctx, topology.AnalyzedSubject("wire")); err == nil {
			msg = m.Data
		} else {
			time.Sleep(50 * time.Millisecond)
		}
	}
	var out events.AnalyzedArticle
	if err := json.Unmarshal(msg, &out); err != nil {
		t.Fatal(err)
	}
	if !out.HasTopic("defence-cooperation") || !out.HasTopic("terrorism") || out.StoryID == "" {
		t.Errorf("analyzed seed: topics %+v story %q", out.Topics, out.StoryID)
	}
	names := map[string]bool{}
	for _, e := range out.Entities {
		names[e.Name] = true
	}
	for _, want := range []string{"India", "United States", "Quad", "MQ-9B", "Lashkar-e-Tayyiba"} {
		if !names[want] {
			t.Errorf("entity %s not found (got %v)", want, names)
		}
	}
	time.Sleep(200 * time.Millisecond)
	if v := testutil.ToFloat64(m.Undecodable); v != 2 {
		t.Errorf("undecodable = %v, want 2", v)
	}
	info, err := cons.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.NumPending != 0 || info.NumAckPending != 0 || info.NumRedelivered != 0 {
		t.Errorf("consumer pending %d, ack pending %d, redelivered %d; want all handled once", info.NumPending, info.NumAckPending, info.NumRedelivered)
	}
	stop()
	<-done
}

// BenchmarkAnalyze measures the whole in-process analysis of a 5 KB
// article (topics with evidence and entities with mentions); story
// clustering is a KV round trip and is measured in pkg/story.
func BenchmarkAnalyze(b *testing.B) {
	text := seedText(b)
	if len(text) > 5000 {
		text = text[:5000]
	}
	cl, err := topics.New(topics.DefaultTaxonomy())
	if err != nil {
		b.Fatal(err)
	}
	gz, err := entities.New(entities.DefaultEntries())
	if err != nil {
		b.Fatal(err)
	}
	an := New(cl, gz, nil, NewMetrics(prometheus.NewRegistry()))
	art := events.Article{ID: "seed", Title: "India, US to co-produce armoured vehicles, fast-track MQ-9B drones", Text: text}
	ctx := context.Background()
	b.SetBytes(int64(len(art.Title) + len(art.Text)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := an.Analyze(ctx, art); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "articles/s")
}

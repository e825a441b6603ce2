package analyzer

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/newswatch/newswatch/pkg/benchtest"
	"github.com/newswatch/newswatch/pkg/config"
	"github.com/newswatch/newswatch/pkg/entities"
	"github.com/newswatch/newswatch/pkg/events"
	"github.com/newswatch/newswatch/pkg/natstest"
	"github.com/newswatch/newswatch/pkg/scan"
	"github.com/newswatch/newswatch/pkg/story"
	"github.com/newswatch/newswatch/pkg/testwait"
	"github.com/newswatch/newswatch/pkg/topics"
	"github.com/newswatch/newswatch/pkg/topology"
	"github.com/newswatch/newswatch/pkg/watchset"
)

func seedText(t testing.TB) string {
	t.Helper()
	b, err := os.ReadFile("testdata/livemint-2023-11-11-india-us-2plus2.txt")
	if err != nil {
		t.Fatalf("seed article: %v", err)
	}
	return string(b)
}

func TestAnalyzerConsumes(t *testing.T) {
	ns := natstest.Start(t)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	kv, err := ns.Topo.KV(ctx, topology.BucketStories, time.Hour, 1)
	if err != nil {
		t.Fatal(err)
	}
	m := NewMetrics(prometheus.NewRegistry())
	an, _ := newAnalyzerWith(t, story.New(kv), m)
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
	testwait.For(t, time.Minute, "the analyzed seed on ANALYZED", func() error {
		m, err := stream.GetLastMsgForSubject(ctx, topology.AnalyzedSubject("wire"))
		if err == nil {
			msg = m.Data
		}
		return err
	})
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
	testwait.For(t, time.Minute, "the analyzer to handle every message", func() error {
		return natstest.ConsumerIdle(ctx, ns.JS, topology.StreamArticles, topology.ConsumerAnalyzer)
	})
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

func newAnalyzer(tb testing.TB) (*Analyzer, *entities.Gazetteer) {
	tb.Helper()
	return newAnalyzerWith(tb, nil, NewMetrics(prometheus.NewRegistry()))
}

// newAnalyzerWith builds an analyzer with the default taxonomy and
// gazetteer.
func newAnalyzerWith(tb testing.TB, stories StoryAssigner, m *Metrics) (*Analyzer, *entities.Gazetteer) {
	tb.Helper()
	cl, err := topics.New(topics.DefaultTaxonomy())
	if err != nil {
		tb.Fatal(err)
	}
	gz, err := entities.New(entities.DefaultEntries())
	if err != nil {
		tb.Fatal(err)
	}
	an, err := New(cl, gz, stories, m)
	if err != nil {
		tb.Fatal(err)
	}
	return an, gz
}

// TestWatchesInTheSamePass checks that the analyzer evaluates the watches
// with the taxonomy and the gazetteer, that its results agree with each
// watch evaluated on its own, and that it says when it knows no watches.
func TestWatchesInTheSamePass(t *testing.T) {
	an, gz := newAnalyzer(t)
	art := events.Article{ID: "seed", Source: "livemint.com", Title: "India, US to co-produce armoured vehicles, fast-track MQ-9B drones", Text: seedText(t)}
	out, err := an.Analyze(t.Context(), art)
	if err != nil {
		t.Fatal(err)
	}
	if out.Watches != nil {
		t.Errorf("no watches set, but the output carries %+v", out.Watches)
	}
	ws := []config.Watch{
		{ID: "mq-9b", Query: `"MQ-9B" OR SeaGuardian`},
		{ID: "quad", Query: `entity:"Quad"`},
		{ID: "let", Query: `entity:"Lashkar-e-Tayyiba" AND topic:terrorism`},
		{ID: "coop", Query: `topic:defence-cooperation AND score>=0.5 AND source:livemint.com`},
		{ID: "paused", Query: `India`, Paused: true},
		{ID: "absent", Query: `"quad bike" OR NEAR/2(Stryker, Moscow)`},
		{ID: "not", Query: `NOT cricket`},
	}
	set, err := watchset.Compile(ws, 42, gz.Aliases)
	if err != nil {
		t.Fatal(err)
	}
	if err := an.SetWatches(set); err != nil {
		t.Fatal(err)
	}
	out, err = an.Analyze(t.Context(), art)
	if err != nil {
		t.Fatal(err)
	}
	if out.Watches == nil || out.Watches.Revision != 42 || out.Watches.Set != set.Key() {
		t.Fatalf("watch results %+v, want revision 42 and set %s", out.Watches, set.Key())
	}
	var got []string
	for _, m := range out.Watches.Matches {
		got = append(got, m.WatchID)
		if len(m.Terms) == 0 && m.WatchID != "coop" && m.WatchID != "not" {
			t.Errorf("watch %s matched without terms", m.WatchID)
		}
		for _, term := range m.Terms {
			field := art.Text
			if term.Field == "title" {
				field = art.Title
			}
			if field[term.Start:term.End] != term.Text {
				t.Errorf("watch %s: term %+v does not point at its text", m.WatchID, term)
			}
		}
	}
	if want := "mq-9b quad let coop not"; strings.Join(got, " ") != want {
		t.Errorf("watches matched %q, want %q", strings.Join(got, " "), want)
	}
	// The same set evaluated on its own (the notifier's fallback) agrees.
	alone := set.MatchArticle(&out)
	if !reflect.DeepEqual(alone, out.Watches.Matches) {
		t.Errorf("one pass and the set alone disagree:\n one pass %+v\n alone    %+v", out.Watches.Matches, alone)
	}
}

// syntheticWatches makes n watches of the shapes analysts write: a word, a
// phrase, a boolean query, a proximity query, with a few real ones first.
func syntheticWatches(n int) []config.Watch {
	word := benchtest.Words(rand.New(rand.NewPCG(3, 4)))
	real := []string{`"MQ-9B" OR SeaGuardian`, `Quad AND drones`, `entity:"Lashkar-e-Tayyiba"`,
		`topic:terrorism AND India`, `"F-414" OR "GE Aerospace"`, `NEAR/10(Stryker, "co-production")`}
	out := make([]config.Watch, n)
	for i := range out {
		var q string
		switch {
		case i < len(real):
			q = real[i]
		case i%4 == 0:
			q = word()
		case i%4 == 1:
			q = fmt.Sprintf("%q", word()+" "+word())
		case i%4 == 2:
			q = fmt.Sprintf("%s AND (%s OR %q)", word(), word(), word()+" "+word())
		default:
			q = fmt.Sprintf("NEAR/5(%s, %s)", word(), word())
		}
		out[i] = config.Watch{ID: fmt.Sprintf("w%05d", i), Query: q}
	}
	return out
}

// BenchmarkAnalyze measures the whole in-process analysis of a 5 KB
// article (topics with evidence and entities with mentions); story
// clustering is a KV round trip and is measured in pkg/story.
func BenchmarkAnalyze(b *testing.B) {
	text := seedText(b)
	if len(text) > 5000 {
		text = text[:5000]
	}
	art := events.Article{ID: "seed", Title: "India, US to co-produce armoured vehicles, fast-track MQ-9B drones", Text: text}
	for _, n := range []int{0, 100, 1000, 10000} {
		b.Run(fmt.Sprintf("watches=%d", n), func(b *testing.B) {
			an, gz := newAnalyzer(b)
			set, err := watchset.Compile(syntheticWatches(n), 1, gz.Aliases)
			if err != nil {
				b.Fatal(err)
			}
			if err := an.SetWatches(set); err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			b.SetBytes(int64(len(art.Title) + len(art.Text)))
			b.ReportAllocs()
			meter := benchtest.Start()
			for b.Loop() {
				if _, err := an.Analyze(ctx, art); err != nil {
					b.Fatal(err)
				}
			}
			meter.ReportArticles(b)
			b.ReportMetric(float64(len(set.Terms())), "watch-terms")
		})
	}
}

// BenchmarkOnePass measures the analyzer's one automaton (the default
// taxonomy, the default gazetteer and 10,000 synthetic watches) over about
// 1 MB of the seed report: "scan" over text already normalised, and
// "normalize+scan" including normalisation. Both report MB/s and MB per
// CPU second, and the number of terms in the automaton.
func BenchmarkOnePass(b *testing.B) {
	text := strings.Repeat(seedText(b)+"\n", 100)
	for _, n := range []int{0, 10000} {
		an, gz := newAnalyzer(b)
		set, err := watchset.Compile(syntheticWatches(n), 1, gz.Aliases)
		if err != nil {
			b.Fatal(err)
		}
		if err := an.SetWatches(set); err != nil {
			b.Fatal(err)
		}
		m := an.matcher.Load().machine
		terms := len(an.classifier.Terms()) + len(an.gazetteer.Terms()) + len(set.Terms())
		states, _, table := m.Stats()
		// "scan" runs over text already normalised; the others normalise
		// first, the last one article at a time as the analyzer does (the
		// 9.3 KB seed report, whose buffers stay in the CPU's caches).
		cases := []struct {
			name, text string
			normalize  bool
		}{
			{"scan", text, false},
			{"normalize+scan", text, true},
			{"normalize+scan-article", seedText(b), true},
		}
		for _, c := range cases {
			b.Run(fmt.Sprintf("watches=%d/%s", n, c.name), func(b *testing.B) {
				var d scan.Doc
				d.Normalize("", c.text)
				size := len(d.Buf)
				if c.normalize {
					size = len(c.text)
				}
				hits := make([]scan.Hit, 0, 1<<16)
				b.ReportAllocs()
				meter := benchtest.Start()
				for b.Loop() {
					if c.normalize {
						d.Normalize("", c.text)
					}
					hits = m.Scan(&d, hits[:0])
				}
				meter.ReportMB(b, size)
				b.ReportMetric(float64(terms), "terms")
				b.ReportMetric(float64(states), "states")
				b.ReportMetric(float64(table)/1e6, "table-MB")
				b.ReportMetric(float64(len(hits)), "hits/op")
			})
		}
	}
}

// BenchmarkSetWatches measures what a change of watches costs each
// analyzer: compiling 10,000 watches and rebuilding the one automaton over
// them, the taxonomy and the gazetteer.
func BenchmarkSetWatches(b *testing.B) {
	an, gz := newAnalyzer(b)
	ws := syntheticWatches(10000)
	b.ReportAllocs()
	for b.Loop() {
		set, err := watchset.Compile(ws, 1, gz.Aliases)
		if err != nil {
			b.Fatal(err)
		}
		if err := an.SetWatches(set); err != nil {
			b.Fatal(err)
		}
	}
}

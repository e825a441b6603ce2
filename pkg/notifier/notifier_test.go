package notifier

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/newswatch/newswatch/pkg/config"
	"github.com/newswatch/newswatch/pkg/events"
	"github.com/newswatch/newswatch/pkg/natstest"
	"github.com/newswatch/newswatch/pkg/silences"
	"github.com/newswatch/newswatch/pkg/topology"
	"github.com/newswatch/newswatch/pkg/watchset"
)

func analyzed(id, story, source, title, text string) events.AnalyzedArticle {
	return events.AnalyzedArticle{
		Schema:  events.AnalyzedArticleSchema,
		Article: events.Article{Schema: events.ArticleSchema, ID: id, URL: "https://example.com/" + id, Title: title, Text: text, Source: source, FetchedAt: time.Now()},
		Topics:  []events.Topic{{Name: "defence-cooperation", Score: 0.9, Threshold: 0.5}},
		StoryID: story,
	}
}

func newNotifier(t *testing.T, ws ...config.Watch) (*Notifier, *natstest.Server, *Metrics) {
	t.Helper()
	ns := natstest.Start(t)
	kv, err := ns.Topo.KV(t.Context(), topology.BucketAlerted, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	compiled, err := watchset.Compile(ws, 7, nil)
	if err != nil {
		t.Fatal(err)
	}
	m := NewMetrics(prometheus.NewRegistry())
	return New(ns.JS, kv, compiled, m, slog.New(slog.DiscardHandler)), ns, m
}

func TestOneAlertPerWatchAndStory(t *testing.T) {
	n, ns, m := newNotifier(t,
		config.Watch{ID: "mq-9b", Query: `"MQ-9B"`},
		config.Watch{ID: "quad", Query: `Quad`},
		config.Watch{ID: "paused", Query: `drones`, Paused: true})
	ctx := t.Context()
	wire := analyzed("a1", "s1", "PTI", "US to supply 31 MQ-9B drones", "The Quad welcomed the MQ-9B drones deal.")
	got, err := n.Handle(ctx, wire)
	if err != nil || len(got) != 2 {
		t.Fatalf("first copy: %d alerts, %v", len(got), err)
	}
	for _, a := range got {
		if len(a.Matches) == 0 || a.Matches[0].Snippet == "" || a.AlertID != AlertID(a.WatchID, "s1") {
			t.Errorf("alert %+v", a)
		}
	}
	// Redelivery of the same article, and another outlet's copy of the story.
	for _, again := range []events.AnalyzedArticle{
		wire,
		analyzed("a2", "s1", "Livemint", "India to get 31 MQ-9B drones", "The Quad partners back the MQ-9B deal."),
	} {
		if got, err := n.Handle(ctx, again); err != nil || len(got) != 0 {
			t.Errorf("repeat %s: %d alerts, %v", again.Article.ID, len(got), err)
		}
	}
	if v := testutil.ToFloat64(m.DuplicatesSuppressed); v != 4 {
		t.Errorf("duplicates suppressed = %v, want 4", v)
	}
	e, err := n.alerted.Get(ctx, recordKey("mq-9b", "s1"))
	if err != nil {
		t.Fatal(err)
	}
	var rec record
	_ = json.Unmarshal(e.Value(), &rec)
	if len(rec.Articles) != 2 || len(rec.Sources) != 2 || rec.Sources[1] != "Livemint" {
		t.Errorf("record %+v, want both copies as sources", rec)
	}
	// A different story alerts again.
	if got, _ := n.Handle(ctx, analyzed("b1", "s2", "PTI", "MQ-9B crash probe", "An MQ-9B crashed.")); len(got) != 1 {
		t.Errorf("new story: %d alerts, want 1", len(got))
	}
	s, _ := ns.JS.Stream(ctx, topology.StreamAlerts)
	info, _ := s.Info(ctx)
	if info.State.Msgs != 3 {
		t.Errorf("ALERTS holds %d, want 3", info.State.Msgs)
	}
}

// A notifier that published but crashed before recording publishes again on
// redelivery; the stream's duplicate window keeps one copy.
func TestRepublishAfterCrashIsStoredOnce(t *testing.T) {
	n, ns, _ := newNotifier(t, config.Watch{ID: "mq-9b", Query: `"MQ-9B"`})
	ctx := t.Context()
	a := analyzed("a1", "s1", "PTI", "MQ-9B", "MQ-9B drones.")
	if _, err := n.Handle(ctx, a); err != nil {
		t.Fatal(err)
	}
	if err := n.alerted.Delete(ctx, recordKey("mq-9b", "s1")); err != nil {
		t.Fatal(err)
	}
	if got, err := n.Handle(ctx, a); err != nil || len(got) != 1 {
		t.Fatalf("republish: %d %v", len(got), err)
	}
	s, _ := ns.JS.Stream(ctx, topology.StreamAlerts)
	info, _ := s.Info(ctx)
	if info.State.Msgs != 1 {
		t.Errorf("ALERTS holds %d, want 1", info.State.Msgs)
	}
}

// TestAnalyzerResults checks that the notifier takes the analyzer's
// evaluation when both hold the same revision of the watches, and
// evaluates the watches itself when the revisions differ or the analyzer
// sent none.
func TestAnalyzerResults(t *testing.T) {
	n, _, m := newNotifier(t, config.Watch{ID: "mq-9b", Query: `"MQ-9B"`}, config.Watch{ID: "quad", Query: `Quad`})
	ctx := t.Context()
	// The text names MQ-9B only; the analyzer (at revision 7, like the
	// notifier) says the article matched quad.
	a := analyzed("a1", "s1", "wire", "Drones", "The MQ-9B deal.")
	key := n.watches.Load().Key()
	a.Watches = &events.WatchResults{Revision: 7, Set: key, Matches: []events.WatchMatch{{WatchID: "quad", Terms: []events.MatchedTerm{{Term: "Quad", Field: "text"}}}}}
	got, err := n.Handle(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].WatchID != "quad" {
		t.Fatalf("same revision: alerts %+v, want the analyzer's quad only", got)
	}
	// Another revision: the notifier evaluates its own watches.
	b := analyzed("a2", "s2", "wire", "Drones", "The MQ-9B deal.")
	b.Watches = &events.WatchResults{Revision: 6, Set: "6-0123456789abcdef", Matches: []events.WatchMatch{{WatchID: "quad"}}}
	if got, err = n.Handle(ctx, b); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].WatchID != "mq-9b" || len(got[0].Matches) != 1 || got[0].Matches[0].Text != "MQ-9B" {
		t.Fatalf("other revision: alerts %+v, want mq-9b evaluated here", got)
	}
	// Same revision, other terms (an analyzer with another gazetteer).
	c := analyzed("a4", "s4", "wire", "Drones", "The MQ-9B deal.")
	c.Watches = &events.WatchResults{Revision: 7, Set: "7-0123456789abcdef", Matches: []events.WatchMatch{{WatchID: "quad"}}}
	if got, err = n.Handle(ctx, c); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].WatchID != "mq-9b" {
		t.Fatalf("other terms: alerts %+v, want mq-9b evaluated here", got)
	}
	// No results at all (an analyzer that did not know the watches).
	if got, err = n.Handle(ctx, analyzed("a3", "s3", "wire", "Summit", "Leaders of the Quad met.")); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].WatchID != "quad" {
		t.Fatalf("no results: alerts %+v, want quad evaluated here", got)
	}
	if a, l := testutil.ToFloat64(m.Evaluations.WithLabelValues("analyzer")), testutil.ToFloat64(m.Evaluations.WithLabelValues("notifier")); a != 1 || l != 3 {
		t.Errorf("evaluations by analyzer %v, by notifier %v; want 1 and 3", a, l)
	}
}

func TestUpdateAlertOncePerStory(t *testing.T) {
	n, _, _ := newNotifier(t, config.Watch{ID: "mq-9b", Query: `"MQ-9B"`, Updates: true})
	ctx := t.Context()
	first := analyzed("a1", "s1", "PTI", "MQ-9B deal", "31 MQ-9B drones.")
	if got, _ := n.Handle(ctx, first); len(got) != 1 {
		t.Fatalf("first: %d alerts", len(got))
	}
	// Re-poll of the same version: nothing.
	if got, _ := n.Handle(ctx, first); len(got) != 0 {
		t.Errorf("same version: %d alerts", len(got))
	}
	// A new source: one update alert with its own id.
	got, err := n.Handle(ctx, analyzed("a2", "s1", "Livemint", "MQ-9B deal cleared", "The MQ-9B deal."))
	if err != nil || len(got) != 1 {
		t.Fatalf("new source: %d alerts, %v", len(got), err)
	}
	if got[0].AlertID == AlertID("mq-9b", "s1") || got[0].ArticleID != "a2" {
		t.Errorf("update alert %+v", got[0])
	}
	// A revision of the first article: no second update.
	rev := analyzed("a1", "s1", "PTI", "MQ-9B deal", "31 MQ-9B drones, updated.")
	rev.Article.Revision = 1
	if got, _ := n.Handle(ctx, rev); len(got) != 0 {
		t.Errorf("revision after the update: %d alerts, want 0", len(got))
	}
}

func TestSilences(t *testing.T) {
	ns := natstest.Start(t)
	ctx := t.Context()
	skv, err := ns.Topo.KV(ctx, topology.BucketSilences, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	akv, err := ns.Topo.KV(ctx, topology.BucketAlerted, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	store := silences.New(skv)
	ws, _ := watchset.Compile([]config.Watch{{ID: "quad", Query: "Quad"}, {ID: "mq-9b", Query: `"MQ-9B"`}}, 1, nil)
	m := NewMetrics(prometheus.NewRegistry())
	n := New(ns.JS, akv, ws, m, slog.New(slog.DiscardHandler), WithSilences(store))
	if err := store.Add(ctx, silences.Silence{Watch: "quad", Until: time.Now().Add(8 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if err := store.Add(ctx, silences.Silence{Watch: "mq-9b", Story: "s1"}); err != nil {
		t.Fatal(err)
	}
	if err := store.Add(ctx, silences.Silence{Watch: "mq-9b", Story: "old", Until: time.Now().Add(-time.Hour)}); err != nil {
		t.Fatal(err)
	}
	text := "The Quad backs the MQ-9B deal."
	if got, _ := n.Handle(ctx, analyzed("a1", "s1", "PTI", "Deal", text)); len(got) != 0 {
		t.Errorf("silenced watch and muted story alerted: %+v", got)
	}
	if v := testutil.ToFloat64(m.Silenced); v != 2 {
		t.Errorf("silenced = %v, want 2", v)
	}
	got, _ := n.Handle(ctx, analyzed("b1", "old", "PTI", "Deal", text))
	if len(got) != 1 || got[0].WatchID != "mq-9b" {
		t.Errorf("expired story silence still mutes, or watch silence ignored: %+v", got)
	}
}

// TestOffsetsClamped: matched terms copied from an analyzed article reach
// the alert only with a field and offsets that fit the article.
func TestOffsetsClamped(t *testing.T) {
	n, _, m := newNotifier(t, config.Watch{ID: "mq-9b", Query: `"MQ-9B"`})
	ws := n.watches.Load()
	text := "India gets MQ-9B drones — soon."
	for i, tc := range []struct {
		name string
		in   events.MatchedTerm
		want events.MatchedTerm
	}{
		{"valid", events.MatchedTerm{Term: "MQ-9B", Field: "text", Start: 11, End: 16, Text: "MQ-9B"},
			events.MatchedTerm{Term: "MQ-9B", Field: "text", Start: 11, End: 16, Text: "MQ-9B"}},
		{"negative start, huge end", events.MatchedTerm{Term: "MQ-9B", Field: "text", Start: -50, End: 99999999, Text: "x"},
			events.MatchedTerm{Term: "MQ-9B", Field: "text", Start: 0, End: len(text), Text: text}},
		{"end before start", events.MatchedTerm{Term: "MQ-9B", Field: "title", Start: 3, End: 1},
			events.MatchedTerm{Term: "MQ-9B", Field: "title", Start: 3, End: 3}},
		{"inside a rune", events.MatchedTerm{Term: "MQ-9B", Field: "text", Start: 24, End: 26},
			events.MatchedTerm{Term: "MQ-9B", Field: "text", Start: 24, End: 24}},
		{"unknown field", events.MatchedTerm{Term: "MQ-9B", Field: "body", Start: 11, End: 16},
			events.MatchedTerm{Term: "MQ-9B", Field: "text", Start: 11, End: 16, Text: "MQ-9B"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := analyzed(fmt.Sprintf("a%d", i), fmt.Sprintf("s%d", i), "PTI", "MQ-9B", text)
			a.Watches = &events.WatchResults{Revision: ws.Revision(), Set: ws.Key(),
				Matches: []events.WatchMatch{{WatchID: "mq-9b", Terms: []events.MatchedTerm{tc.in}}}}
			got, err := n.Handle(t.Context(), a)
			if err != nil || len(got) != 1 {
				t.Fatalf("%d alerts, %v", len(got), err)
			}
			if g := got[0].Matches[0]; g != tc.want {
				t.Errorf("alert term %+v, want %+v", g, tc.want)
			}
		})
	}
	if v := testutil.ToFloat64(m.InvalidOffsets); v != 4 {
		t.Errorf("invalid offsets = %v, want 4", v)
	}
}

package notifier

import (
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/newswatch/newswatch/pkg/config"
	"github.com/newswatch/newswatch/pkg/events"
	"github.com/newswatch/newswatch/pkg/natstest"
	"github.com/newswatch/newswatch/pkg/topology"
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
	compiled, err := Compile(ws, nil)
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

func TestCompileNamesTheWatch(t *testing.T) {
	_, err := Compile([]config.Watch{{ID: "broken", Query: `("MQ-9B"`}}, nil)
	if !errors.Is(err, ErrQuery) || !strings.Contains(err.Error(), `"broken"`) || !strings.Contains(err.Error(), "column") {
		t.Errorf("err = %v", err)
	}
	valid := CompileValid([]config.Watch{{ID: "broken", Query: `(`}, {ID: "ok", Query: "Quad"}}, nil, slog.New(slog.DiscardHandler))
	if len(valid) != 1 || valid[0].ID != "ok" {
		t.Errorf("CompileValid kept %+v", valid)
	}
}

package analyzer

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/newswatch/newswatch/pkg/config"
	"github.com/newswatch/newswatch/pkg/consume"
	"github.com/newswatch/newswatch/pkg/events"
	"github.com/newswatch/newswatch/pkg/natstest"
	"github.com/newswatch/newswatch/pkg/testwait"
	"github.com/newswatch/newswatch/pkg/topology"
	"github.com/newswatch/newswatch/pkg/watchset"
)

// mentionHeavyText is about n bytes of sentences naming gazetteer entities
// and a watched term several times each, so that the analyzed form (every
// mention and match with its offsets) is several times the text's size.
func mentionHeavyText(n int) string {
	const s = "India and the United States will co-produce MQ-9B drones, the Quad said in New Delhi; India's terrorist attacks ended. "
	return strings.Repeat(s, n/len(s)+1)
}

func analyzeBig(t *testing.T, n int) (*Analyzer, events.AnalyzedArticle) {
	t.Helper()
	an, gz := newAnalyzer(t)
	set, err := watchset.Compile([]config.Watch{{ID: "mq-9b", Query: `"MQ-9B"`}, {ID: "india", Query: "India"}}, 1, gz.Aliases)
	if err != nil {
		t.Fatal(err)
	}
	if err := an.SetWatches(set); err != nil {
		t.Fatal(err)
	}
	out, err := an.Analyze(t.Context(), events.Article{Schema: events.ArticleSchema, ID: "big", Feed: "wire", Title: "India and MQ-9B", Text: mentionHeavyText(n)})
	if err != nil {
		t.Fatal(err)
	}
	return an, out
}

func TestFitTrimsToTheLimit(t *testing.T) {
	for _, tc := range []struct {
		name     string
		text     int
		limit    int
		textKept bool
	}{
		{"explanations capped", 40_000, 100_000, true},
		{"text cut as well", 40_000, 20_000, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, out := analyzeBig(t, tc.text)
			full, _ := json.Marshal(out)
			if len(full) <= tc.limit {
				t.Fatalf("the analyzed form is %d bytes, not over the %d limit: the case tests nothing", len(full), tc.limit)
			}
			text := out.Article.Text
			data, trimmed, err := fit(&out, tc.limit)
			if err != nil || !trimmed || len(data) > tc.limit {
				t.Fatalf("fit: %d bytes, trimmed %v, err %v; want at most %d", len(data), trimmed, err, tc.limit)
			}
			var got events.AnalyzedArticle
			if err := json.Unmarshal(data, &got); err != nil {
				t.Fatal(err)
			}
			if (got.Article.Text == text) != tc.textKept || !utf8.ValidString(got.Article.Text) {
				t.Errorf("text kept = %v (%d of %d bytes), want %v", got.Article.Text == text, len(got.Article.Text), len(text), tc.textKept)
			}
			// What the article is about survives: topics, entities, the watches it matched.
			if len(got.Topics) != len(out.Topics) || len(got.Entities) == 0 || got.Watches == nil || len(got.Watches.Matches) != 2 {
				t.Errorf("trimmed away results: topics %d entities %d watches %+v", len(got.Topics), len(got.Entities), got.Watches)
			}
			for _, e := range got.Entities {
				for _, m := range e.Mentions {
					if m.Field == "text" && m.End > len(got.Article.Text) {
						t.Errorf("mention %+v past the cut text (%d bytes)", m, len(got.Article.Text))
					}
				}
			}
		})
	}
}

// TestOversizedAnalyzedIsPublished: an article whose analyzed form is over
// the server's max payload is published trimmed, not failed and redelivered.
func TestOversizedAnalyzedIsPublished(t *testing.T) {
	ns := natstest.Start(t)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	m := NewMetrics(prometheus.NewRegistry())
	an, gz := newAnalyzerWith(t, nil, m)
	set, err := watchset.Compile([]config.Watch{{ID: "india", Query: "India"}}, 1, gz.Aliases)
	if err != nil {
		t.Fatal(err)
	}
	if err := an.SetWatches(set); err != nil {
		t.Fatal(err)
	}
	limit := int(ns.Conn.MaxPayload())
	art := events.Article{Schema: events.ArticleSchema, ID: "big", Feed: "wire", Title: "India", Text: mentionHeavyText(limit / 4)}
	data, _ := json.Marshal(art)
	cons, err := ns.Topo.Consumer(ctx, topology.StreamArticles, topology.ConsumerAnalyzer, 30*time.Second, 3)
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- an.Run(runCtx, ns.JS, cons, slog.New(slog.DiscardHandler), consume.WithDeadLetter(ns.JS, nil), consume.WithBackoff(3, nil))
	}()
	if _, err := ns.JS.Publish(ctx, topology.ArticleSubject("wire"), data); err != nil {
		t.Fatal(err)
	}
	stream, _ := ns.JS.Stream(ctx, topology.StreamAnalyzed)
	var msg []byte
	testwait.For(t, time.Minute, "the analyzed article on "+topology.AnalyzedSubject("wire"), func() error {
		m, err := stream.GetLastMsgForSubject(ctx, topology.AnalyzedSubject("wire"))
		if err != nil {
			return err
		}
		msg = m.Data
		return nil
	})
	var out events.AnalyzedArticle
	if err := json.Unmarshal(msg, &out); err != nil {
		t.Fatal(err)
	}
	if out.Watches == nil || len(out.Watches.Matches) != 1 || len(out.Entities) == 0 {
		t.Errorf("trimmed article lost its results: watches %+v, %d entities", out.Watches, len(out.Entities))
	}
	if v := testutil.ToFloat64(m.Trimmed); v != 1 {
		t.Errorf("trimmed = %v, want 1 (a count of 0 means the analyzed form fitted: the test tests nothing)", v)
	}
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

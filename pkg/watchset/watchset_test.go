package watchset

import (
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/newswatch/newswatch/pkg/config"
	"github.com/newswatch/newswatch/pkg/events"
)

func TestCompileNamesTheWatch(t *testing.T) {
	_, err := Compile([]config.Watch{{ID: "ok", Query: "Quad"}, {ID: "broken", Query: `("MQ-9B"`}}, 0, nil)
	if !errors.Is(err, ErrQuery) || !strings.Contains(err.Error(), `watches[1].query of watch "broken"`) || !strings.Contains(err.Error(), "column") {
		t.Errorf("err = %v", err)
	}
	valid, skipped := CompileValid([]config.Watch{{ID: "broken", Query: `(`}, {ID: "ok", Query: "Quad"}}, 3, nil, slog.New(slog.DiscardHandler))
	if ws := valid.Watches(); len(ws) != 1 || ws[0].ID != "ok" || valid.Revision() != 3 || skipped != 1 {
		t.Errorf("CompileValid kept %+v at revision %d", ws, valid.Revision())
	}
}

func TestKey(t *testing.T) {
	ws := []config.Watch{{ID: "mq-9b", Query: `entity:"MQ-9B"`}, {ID: "quad", Query: "Quad"}}
	aliases := func(extra ...string) func(string) []string {
		return func(name string) []string { return append([]string{name}, extra...) }
	}
	a, _ := Compile(ws, 5, aliases("SeaGuardian"))
	b, _ := Compile(ws, 5, aliases("SeaGuardian"))
	other, _ := Compile(ws, 5, aliases("SeaGuardian", "SkyGuardian"))
	later, _ := Compile(ws, 6, aliases("SeaGuardian"))
	if a.Key() != b.Key() {
		t.Errorf("the same watches compiled twice have keys %s and %s", a.Key(), b.Key())
	}
	if a.Key() == other.Key() || a.Key() == later.Key() {
		t.Errorf("another gazetteer (%s) or revision (%s) has the key %s", other.Key(), later.Key(), a.Key())
	}
}

func TestMatchArticle(t *testing.T) {
	set, err := Compile([]config.Watch{
		{ID: "mq-9b", Query: `"MQ-9B" OR SeaGuardian`},
		{ID: "paused", Query: `drones`, Paused: true},
		{ID: "terror", Query: `topic:terrorism AND source:example.com`},
		{ID: "quad", Query: `Quad AND NOT "quad bike"`},
	}, 9, func(name string) []string {
		if name == "MQ-9B" {
			return []string{"MQ-9B", "SeaGuardian"}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	a := events.AnalyzedArticle{
		Article: events.Article{Title: "Navy to lease two SeaGuardian drones", Text: "The MQ 9B drones fly from Rajali. A quad bike race was held.", Source: "example.com"},
		Topics:  []events.Topic{{Name: "terrorism", Score: 0.7}},
	}
	got := set.MatchArticle(&a)
	var ids []string
	for _, m := range got {
		ids = append(ids, m.WatchID)
	}
	if strings.Join(ids, " ") != "mq-9b terror" {
		t.Fatalf("matched %v, want mq-9b terror", ids)
	}
	terms := got[0].Terms
	if len(terms) != 2 || terms[0].Field != "title" || terms[0].Text != "SeaGuardian" || terms[1].Text != "MQ 9B" {
		t.Errorf("mq-9b terms %+v", terms)
	}
	if w, ok := set.Watch("paused"); !ok || !w.Paused {
		t.Errorf("Watch(paused) = %+v, %v", w, ok)
	}
}

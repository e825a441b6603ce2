package watches_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/newswatch/newswatch/pkg/config"
	"github.com/newswatch/newswatch/pkg/natstest"
	"github.com/newswatch/newswatch/pkg/topology"
	"github.com/newswatch/newswatch/pkg/watches"
)

type state struct {
	ids string
	rev uint64
}

func follow(t *testing.T, ctx context.Context, s *watches.Store) <-chan state {
	t.Helper()
	ch := make(chan state, 16)
	go func() {
		_ = s.Follow(ctx, slog.New(slog.DiscardHandler), func(ws []config.Watch, _ int, rev uint64) {
			var ids []string
			for _, w := range ws {
				ids = append(ids, w.ID)
			}
			ch <- state{strings.Join(ids, ","), rev}
		})
	}()
	return ch
}

func next(t *testing.T, ch <-chan state) state {
	t.Helper()
	select {
	case s := <-ch:
		return s
	case <-time.After(10 * time.Second):
		t.Fatal("no state from Follow")
		return state{}
	}
}

// TestFollowRevision checks that Follow reports the bucket revision of each
// state, and that a follower started later reports the same revision for
// the same watches: the notifier relies on it to trust the analyzer's
// evaluation.
func TestFollowRevision(t *testing.T) {
	ns := natstest.Start(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	kv, err := ns.Topo.KV(ctx, topology.BucketWatches, 0, 5)
	if err != nil {
		t.Fatal(err)
	}
	s := watches.New(kv)
	for _, id := range []string{"quad", "mq-9b", "let"} {
		if err := s.Put(ctx, config.Watch{ID: id, Query: id}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Delete(ctx, "let"); err != nil {
		t.Fatal(err)
	}
	early := follow(t, ctx, s)
	first := next(t, early)
	if first.ids != "mq-9b,quad" || first.rev != 4 {
		t.Fatalf("initial state %+v, want mq-9b,quad at revision 4", first)
	}
	if err := s.Put(ctx, config.Watch{ID: "quad", Query: "Quad AND drones"}); err != nil {
		t.Fatal(err)
	}
	changed := next(t, early)
	if changed.ids != "mq-9b,quad" || changed.rev != 5 {
		t.Fatalf("after a change %+v, want revision 5", changed)
	}
	late := next(t, follow(t, ctx, s))
	if late != changed {
		t.Errorf("a later follower sees %+v, the first %+v", late, changed)
	}
	// A burst of changes is handed over once.
	for _, id := range []string{"a", "b", "c", "d", "e"} {
		if err := s.Put(ctx, config.Watch{ID: id, Query: id}); err != nil {
			t.Fatal(err)
		}
	}
	// The puts take a few milliseconds each; on a very slow machine the
	// burst may straddle two settle windows, never five.
	states := 0
	var burst state
	for burst.ids != "a,b,c,d,e,mq-9b,quad" {
		burst = next(t, early)
		states++
	}
	if burst.rev != 10 || states >= 5 {
		t.Errorf("a burst of five changes gave %d states, the last %+v; want fewer, the last at revision 10", states, burst)
	}
	select {
	case extra := <-early:
		t.Errorf("a state %+v after the burst was handed over", extra)
	case <-time.After(2 * watches.Settle):
	}
}

// Entries that are not valid watches are listed with their problem, left
// out of what Follow hands over (and counted), and removable.
func TestInvalidEntries(t *testing.T) {
	ns := natstest.Start(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	kv, err := ns.Topo.KV(ctx, topology.BucketWatches, 0, 5)
	if err != nil {
		t.Fatal(err)
	}
	known := func(s string) bool { return s == "hook" }
	s := watches.New(kv, watches.WithSinks(known))
	if err := s.Put(ctx, config.Watch{ID: "good", Query: "Quad", Sinks: []string{"hook"}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, config.Watch{ID: "bad id", Query: "Quad"}); err == nil {
		t.Error("Put took an invalid id")
	}
	bad := map[string]string{
		"junk":   `not json`,
		"badid":  `{"id":"bad id","query":"MQ-9B"}`,
		"other":  `{"id":"good","query":"MQ-9B"}`,
		"nosink": `{"id":"nosink","query":"MQ-9B","sinks":["nowhere"]}`,
		"neg":    `{"id":"neg","query":"MQ-9B","digest":-5}`,
		"empty":  `{"id":"empty"}`,
	}
	for k, v := range bad {
		if _, err := kv.PutString(ctx, k, v); err != nil {
			t.Fatal(err)
		}
	}
	entries, err := s.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		_, isBad := bad[e.Key]
		if isBad != (e.Err != nil) || (e.Err != nil && !errors.Is(e.Err, watches.ErrInvalid)) {
			t.Errorf("entry %s: err %v", e.Key, e.Err)
		}
	}
	if len(entries) != len(bad)+1 {
		t.Errorf("listed %d entries, want %d", len(entries), len(bad)+1)
	}
	got := make(chan string, 4)
	go func() {
		_ = s.Follow(ctx, slog.New(slog.DiscardHandler), func(ws []config.Watch, invalid int, _ uint64) {
			var ids []string
			for _, w := range ws {
				ids = append(ids, w.ID)
			}
			got <- fmt.Sprintf("%s/%d", strings.Join(ids, ","), invalid)
		})
	}()
	if st := <-got; st != "good/6" {
		t.Errorf("Follow handed over %s, want good/6", st)
	}
	if err := s.Delete(ctx, "junk"); err != nil {
		t.Errorf("deleting a non-JSON entry: %v", err)
	}
	if st := <-got; st != "good/5" {
		t.Errorf("after deleting junk Follow handed over %s, want good/5", st)
	}
}

// The config seeds a watch; an operator's change (pause, another query)
// stays until the config entry itself changes.
func TestApplyConfigKeepsOperatorChanges(t *testing.T) {
	ns := natstest.Start(t)
	ctx := t.Context()
	kv, err := ns.Topo.KV(ctx, topology.BucketWatches, 0, 5)
	if err != nil {
		t.Fatal(err)
	}
	s := watches.New(kv)
	entry := config.Watch{ID: "mq-9b", Query: `"MQ-9B"`}
	if err := s.ApplyConfig(ctx, []config.Watch{entry}); err != nil {
		t.Fatal(err)
	}
	w, _ := s.Get(ctx, "mq-9b")
	w.Paused, w.Query = true, `"MQ-9B" OR SeaGuardian`
	if err := s.Put(ctx, w); err != nil {
		t.Fatal(err)
	}
	if err := s.ApplyConfig(ctx, []config.Watch{entry}); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Get(ctx, "mq-9b"); !got.Paused || got.Query != w.Query || got.Origin != watches.OriginConfig {
		t.Errorf("after a restart: %+v, want the operator's version", got)
	}
	entry.RateLimit = 5
	if err := s.ApplyConfig(ctx, []config.Watch{entry}); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Get(ctx, "mq-9b"); got.Paused || got.Query != entry.Query || got.RateLimit != 5 {
		t.Errorf("after the config entry changed: %+v, want the entry", got)
	}
}

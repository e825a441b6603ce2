package watches_test

import (
	"context"
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

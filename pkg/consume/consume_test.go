package consume_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/newswatch/newswatch/pkg/consume"
	"github.com/newswatch/newswatch/pkg/natstest"
	"github.com/newswatch/newswatch/pkg/testwait"
	"github.com/newswatch/newswatch/pkg/topology"
)

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	testwait.For(t, time.Minute, what, func() error {
		if !cond() {
			return errors.New("not yet")
		}
		return nil
	})
}

// deadLetters reads every stage dead letter stored in DEADLETTER.
func deadLetters(t *testing.T, js jetstream.JetStream) []consume.DeadLetter {
	t.Helper()
	ctx := t.Context()
	s, err := js.Stream(ctx, topology.StreamDeadLetter)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var out []consume.DeadLetter
	for seq := info.State.FirstSeq; info.State.Msgs > 0 && seq <= info.State.LastSeq; seq++ {
		m, err := s.GetMsg(ctx, seq)
		if err != nil {
			continue
		}
		if dl, ok := consume.ParseDeadLetter(m.Subject, m.Header, m.Data); ok {
			out = append(out, dl)
		}
	}
	return out
}

func TestRunDeadLettersWhatItGivesUpOn(t *testing.T) {
	ns := natstest.Start(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	cons, err := ns.Topo.Consumer(ctx, topology.StreamArticles, "test", 30*time.Second, 3)
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	m := consume.NewMetrics(reg)
	var ok, transient atomic.Int64
	h := func(_ context.Context, msg jetstream.Msg) error {
		switch {
		case strings.HasSuffix(msg.Subject(), ".poison"):
			return consume.Poison(errors.New("bad JSON\r\nat line 1"))
		case strings.HasSuffix(msg.Subject(), ".flaky"):
			transient.Add(1)
			return errors.New("KV unavailable")
		}
		ok.Add(1)
		return nil
	}
	done := make(chan error, 1)
	go func() {
		done <- consume.Run(ctx, cons, "test", h, slog.New(slog.NewTextHandler(io.Discard, nil)), time.Second,
			consume.WithDeadLetter(ns.JS, m), consume.WithBackoff(3, []time.Duration{10 * time.Millisecond, 20 * time.Millisecond}))
	}()
	for _, s := range []string{"poison", "flaky", "good"} {
		if _, err := ns.JS.Publish(ctx, topology.ArticleSubject(s), []byte(`{"x":"`+s+`"}`)); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "two dead letters", func() bool { return len(deadLetters(t, ns.JS)) == 2 })
	if ok.Load() != 1 {
		t.Errorf("good message handled %d times, want 1", ok.Load())
	}
	if got := transient.Load(); got != 3 {
		t.Errorf("transient failure tried %d times, want MaxDeliver 3", got)
	}
	byReason := map[string]consume.DeadLetter{}
	for _, dl := range deadLetters(t, ns.JS) {
		byReason[dl.Reason] = dl
	}
	p := byReason[consume.ReasonPermanent]
	if p.Subject != topology.ArticleSubject("poison") || p.Stage != "test" || p.Stream != topology.StreamArticles || p.Deliveries != 1 ||
		!strings.Contains(p.Error, "bad JSON") || string(p.Data) != `{"x":"poison"}` {
		t.Errorf("permanent dead letter = %+v", p)
	}
	f := byReason[consume.ReasonMaxDeliveries]
	if f.Subject != topology.ArticleSubject("flaky") || f.Deliveries != 3 || !strings.Contains(f.Error, "KV unavailable") {
		t.Errorf("max-deliveries dead letter = %+v", f)
	}
	if got := testutil.ToFloat64(m.DeadLetters.WithLabelValues("test", consume.ReasonPermanent)); got != 1 {
		t.Errorf("permanent dead letters metric = %v", got)
	}
	waitFor(t, "nothing left pending", func() bool {
		ci, err := cons.Info(ctx)
		return err == nil && ci.NumPending == 0 && ci.NumAckPending == 0
	})

	// A replay puts the message back on its subject; the consumer sees it again.
	if err := consume.Replay(ctx, ns.JS, p); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the replayed message dead-lettered again", func() bool { return len(deadLetters(t, ns.JS)) == 3 })
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// A message the handler never acknowledges (it hangs past the ack wait on
// every delivery) is dropped by the server after MaxDeliver; the server's
// advisory makes Run dead-letter it.
func TestRunDeadLettersUnacknowledged(t *testing.T) {
	ns := natstest.Start(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	cons, err := ns.Topo.Consumer(ctx, topology.StreamArticles, "hang", 200*time.Millisecond, 2)
	if err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{})
	h := func(ctx context.Context, msg jetstream.Msg) error {
		select {
		case <-release:
		case <-ctx.Done():
		}
		return errors.New("too late")
	}
	done := make(chan error, 1)
	go func() {
		done <- consume.Run(ctx, cons, "hang", h, slog.New(slog.NewTextHandler(io.Discard, nil)), time.Second,
			consume.WithDeadLetter(ns.JS, nil), consume.WithBackoff(2, nil))
	}()
	if _, err := ns.JS.Publish(ctx, topology.ArticleSubject("slow"), []byte(`{"x":"slow"}`)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the unacknowledged message dead-lettered", func() bool { return len(deadLetters(t, ns.JS)) >= 1 })
	close(release)
	dl := deadLetters(t, ns.JS)[0]
	if dl.Reason != consume.ReasonMaxDeliveries || dl.Subject != topology.ArticleSubject("slow") || string(dl.Data) != `{"x":"slow"}` {
		t.Errorf("dead letter = %+v", dl)
	}
	cancel()
	<-done
}

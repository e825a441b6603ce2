package delivery

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/newswatch/newswatch/pkg/config"
	"github.com/newswatch/newswatch/pkg/events"
	"github.com/newswatch/newswatch/pkg/natstest"
	"github.com/newswatch/newswatch/pkg/silences"
	"github.com/newswatch/newswatch/pkg/sink"
	"github.com/newswatch/newswatch/pkg/sink/webhook"
	"github.com/newswatch/newswatch/pkg/testwait"
	"github.com/newswatch/newswatch/pkg/topology"
)

// counter is a receiver that answers every request with status and counts
// the alert ids it was sent.
type counter struct {
	mu     sync.Mutex
	status int
	ids    map[string]int
}

func (c *counter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var ev events.CloudEvent
	_ = json.NewDecoder(r.Body).Decode(&ev)
	c.mu.Lock()
	if c.ids == nil {
		c.ids = map[string]int{}
	}
	c.ids[ev.ID]++
	status := c.status
	c.mu.Unlock()
	w.WriteHeader(cmpOr(status, http.StatusNoContent))
}

func (c *counter) distinct() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.ids)
}

func (c *counter) requests() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, v := range c.ids {
		n += v
	}
	return n
}

func cmpOr(a, b int) int {
	if a != 0 {
		return a
	}
	return b
}

// blocker is a receiver that holds every request until released or until
// the client gives up, as a hung webhook endpoint does.
type blocker struct {
	mu      sync.Mutex
	waiting int // requests being held right now
	total   int
	release chan struct{}
}

func (b *blocker) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b.mu.Lock()
	b.waiting++
	b.total++
	b.mu.Unlock()
	defer func() { b.mu.Lock(); b.waiting--; b.mu.Unlock() }()
	select {
	case <-b.release:
	case <-r.Context().Done():
	}
	w.WriteHeader(http.StatusServiceUnavailable)
}

func (b *blocker) counts() (waiting, total int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.waiting, b.total
}

type multi struct {
	d  *Deliverer
	ns *natstest.Server
}

// setupSinks builds a deliverer over real webhook sinks, one per handler,
// all on one watch.
func setupSinks(t *testing.T, w config.Watch, timeouts map[string]time.Duration, handlers map[string]http.Handler) multi {
	t.Helper()
	ns := natstest.Start(t)
	var b Buckets
	for name, dst := range map[string]*jetstream.KeyValue{topology.BucketDeliveries: &b.Deliveries, topology.BucketRates: &b.Rates, topology.BucketDigests: &b.Digests} {
		kv, err := ns.Topo.KV(t.Context(), name, 0, 1)
		if err != nil {
			t.Fatal(err)
		}
		*dst = kv
	}
	sinks := map[string]Sink{}
	for name, h := range handlers {
		srv := httptest.NewServer(h)
		t.Cleanup(srv.Close)
		hook, err := webhook.New(webhook.Config{Name: name, URL: srv.URL, Secret: secret, Timeout: timeouts[name]})
		if err != nil {
			t.Fatal(err)
		}
		sinks[name] = hook
		w.Sinks = append(w.Sinks, name)
	}
	d := New(ns.JS, b, sinks, func(id string) (config.Watch, bool) { c := w; c.ID = id; return c, true },
		4, NewMetrics(prometheus.NewRegistry()), slog.New(slog.DiscardHandler), WithDigestInterval(time.Hour))
	d.baseBackoff = 10 * time.Millisecond
	return multi{d: d, ns: ns}
}

func (m multi) run(t *testing.T) {
	t.Helper()
	if err := m.d.Setup(t.Context()); err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- m.d.Run(ctx) }()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
}

func (m multi) publish(t *testing.T, n int) {
	t.Helper()
	for i := range n {
		ev := alertEvent()
		ev.ID = fmt.Sprintf("alert-%d", i)
		data, _ := json.Marshal(ev)
		if _, err := m.ns.JS.Publish(t.Context(), topology.AlertSubject("mq-9b"), data); err != nil {
			t.Fatal(err)
		}
	}
}

func (m multi) deadLetters(t *testing.T, sinkName string) []DeadLetter {
	t.Helper()
	var out []DeadLetter
	for _, data := range natstest.Messages(t, m.ns.JS, topology.StreamDeadLetter, topology.DeadLetterSubject(sinkName)) {
		var dl DeadLetter
		if err := json.Unmarshal(data, &dl); err != nil {
			t.Fatal(err)
		}
		out = append(out, dl)
	}
	return out
}

// A sink whose receiver hangs delays only itself: the healthy sink of the
// same watch gets every alert while the hung receiver still holds the first
// request it was sent (its sink's timeout is far away).
func TestHungSinkDoesNotDelayHealthySink(t *testing.T) {
	hung := &blocker{release: make(chan struct{})}
	healthy := &counter{}
	m := setupSinks(t, config.Watch{}, map[string]time.Duration{"hung": time.Hour},
		map[string]http.Handler{"hung": hung, "healthy": healthy})
	m.run(t)
	defer close(hung.release) // before the servers close: let the held request go
	const n = 10
	m.publish(t, n)
	testwait.True(t, time.Minute, "the healthy sink to get every alert", func() bool { return healthy.distinct() == n })
	if waiting, total := hung.counts(); waiting != 1 || total != 1 {
		t.Errorf("hung receiver holds %d requests of %d, want its first one still held", waiting, total)
	}
	if got := healthy.requests(); got != n {
		t.Errorf("healthy sink got %d requests for %d alerts", got, n)
	}
}

// A sink that always times out dead-letters every alert after its attempts
// (reason timeout), each with its own timeout rather than a shared cap,
// while the healthy sink gets every alert once.
func TestTimingOutSinkDeadLettersAndOthersFlow(t *testing.T) {
	hung := &blocker{release: make(chan struct{})}
	defer close(hung.release)
	healthy := &counter{}
	m := setupSinks(t, config.Watch{}, map[string]time.Duration{"hung": 50 * time.Millisecond},
		map[string]http.Handler{"hung": hung, "healthy": healthy})
	m.run(t)
	const n = 3
	m.publish(t, n)
	testwait.True(t, time.Minute, "the healthy sink to get every alert", func() bool { return healthy.distinct() == n })
	testwait.True(t, time.Minute, "every alert to the hung sink to be dead-lettered", func() bool { return len(m.deadLetters(t, "hung")) == n })
	for _, dl := range m.deadLetters(t, "hung") {
		if dl.Reason != sink.ReasonTimeout || dl.Attempts != 4 || dl.Event.ID == "" {
			t.Errorf("dead letter reason=%q attempts=%d event=%q, want timeout after 4 attempts", dl.Reason, dl.Attempts, dl.Event.ID)
		}
	}
	if _, total := hung.counts(); total != 4*n {
		t.Errorf("hung receiver saw %d requests, want %d (4 attempts per alert)", total, 4*n)
	}
	if got := healthy.requests(); got != n {
		t.Errorf("healthy sink got %d requests for %d alerts", got, n)
	}
}

// A digest to a sink that always fails goes the way of an alert: retried
// with backoff until the attempts are spent, then dead-lettered with its
// alerts, and removed; the healthy sink of the same watch gets it once.
func TestDigestToFailingSinkIsDeadLettered(t *testing.T) {
	failing := &counter{status: http.StatusInternalServerError}
	healthy := &counter{}
	m := setupSinks(t, config.Watch{Digest: time.Hour}, nil, map[string]http.Handler{"failing": failing, "healthy": healthy})
	d := m.d
	now := time.Date(2026, 11, 30, 10, 5, 0, 0, time.UTC)
	d.now = func() time.Time { return now }
	for i := range 3 {
		ev := alertEvent()
		ev.ID = fmt.Sprintf("a%d", i)
		for _, s := range []string{"failing", "healthy"} {
			if err := d.Handle(t.Context(), s, ev, 1); err != nil {
				t.Fatal(err)
			}
		}
	}
	now = now.Add(time.Hour)
	for i := range 10 {
		if err := d.FlushDigests(t.Context()); err != nil {
			t.Fatalf("flush %d: %v", i, err)
		}
		now = now.Add(time.Hour) // past any backoff
	}
	if got := failing.requests(); got != 4 {
		t.Errorf("failing sink got %d digest requests, want 4 (notifier.max_deliveries)", got)
	}
	if got := healthy.requests(); got != 1 {
		t.Errorf("healthy sink got %d digest requests, want 1", got)
	}
	dls := m.deadLetters(t, "failing")
	if len(dls) != 1 {
		t.Fatalf("%d dead letters, want 1", len(dls))
	}
	if dl := dls[0]; dl.Reason != sink.ReasonStatus5xx || dl.Attempts != 4 || len(dl.Digest) != 3 || dl.Watch() != "mq-9b" {
		t.Errorf("dead letter reason=%q attempts=%d alerts=%d watch=%q", dl.Reason, dl.Attempts, len(dl.Digest), dl.Watch())
	}
	if keys, _ := d.digests.Keys(t.Context()); len(keys) != 0 {
		t.Errorf("digest still stored: %v", keys)
	}
}

// A permanent failure dead-letters a digest at once; a retry waits for its
// backoff instead of going out at every flush.
func TestDigestRetryAndPermanentFailure(t *testing.T) {
	bad := &counter{status: http.StatusBadRequest}
	flaky := &counter{status: http.StatusServiceUnavailable}
	m := setupSinks(t, config.Watch{Digest: time.Hour}, nil, map[string]http.Handler{"bad": bad, "flaky": flaky})
	d := m.d
	d.baseBackoff = time.Minute
	now := time.Date(2026, 11, 30, 10, 5, 0, 0, time.UTC)
	d.now = func() time.Time { return now }
	for _, s := range []string{"bad", "flaky"} {
		if err := d.Handle(t.Context(), s, alertEvent(), 1); err != nil {
			t.Fatal(err)
		}
	}
	now = now.Add(time.Hour)
	for range 3 { // within the first backoff (30s to 1m)
		if err := d.FlushDigests(t.Context()); err != nil {
			t.Fatal(err)
		}
		now = now.Add(time.Second)
	}
	if bad.requests() != 1 || len(m.deadLetters(t, "bad")) != 1 {
		t.Errorf("400: %d requests, %d dead letters; want 1 and 1", bad.requests(), len(m.deadLetters(t, "bad")))
	}
	if flaky.requests() != 1 || len(m.deadLetters(t, "flaky")) != 0 {
		t.Errorf("503: %d requests, %d dead letters; want 1 and 0 until the backoff passes", flaky.requests(), len(m.deadLetters(t, "flaky")))
	}
	now = now.Add(2 * time.Minute)
	if err := d.FlushDigests(t.Context()); err != nil {
		t.Fatal(err)
	}
	if flaky.requests() != 2 {
		t.Errorf("503: %d requests after the backoff, want 2", flaky.requests())
	}
}

// Setup starts each sink's consumer where the single consumer of earlier
// versions had acked up to, then deletes that consumer; a sink added later
// starts after the last stored alert instead of receiving the history.
func TestSetupMigratesAndStartsNewSinksAtTheEnd(t *testing.T) {
	healthy := &counter{}
	m := setupSinks(t, config.Watch{}, nil, map[string]http.Handler{"healthy": healthy})
	ctx := t.Context()
	legacy, err := m.ns.Topo.Consumer(ctx, topology.StreamAlerts, topology.ConsumerDelivery, time.Minute, 10)
	if err != nil {
		t.Fatal(err)
	}
	m.publish(t, 3) // alert-0..2; the old consumer acks the first two
	batch, err := legacy.Fetch(2, jetstream.FetchMaxWait(10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	for msg := range batch.Messages() {
		if err := msg.DoubleAck(ctx); err != nil {
			t.Fatal(err)
		}
	}
	m.run(t)
	testwait.True(t, time.Minute, "the unacked alert to be delivered", func() bool { return healthy.distinct() == 1 })
	healthy.mu.Lock()
	if healthy.ids["alert-2"] != 1 {
		t.Errorf("delivered %v, want only alert-2 (the old consumer had acked the others)", healthy.ids)
	}
	healthy.mu.Unlock()
	if _, err := m.ns.JS.Consumer(ctx, topology.StreamAlerts, topology.ConsumerDelivery); err == nil {
		t.Error("the consumer of earlier versions still exists")
	}

	// A second deliverer with one more sink, as after a config change.
	late := &counter{}
	srv := httptest.NewServer(late)
	t.Cleanup(srv.Close)
	hook, err := webhook.New(webhook.Config{Name: "late", URL: srv.URL, Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	d2 := New(m.ns.JS, Buckets{Deliveries: m.d.records, Rates: m.d.rates, Digests: m.d.digests}, map[string]Sink{"late": hook},
		func(id string) (config.Watch, bool) { return config.Watch{ID: id, Sinks: []string{"late"}}, true },
		4, NewMetrics(prometheus.NewRegistry()), slog.New(slog.DiscardHandler))
	if err := d2.Setup(ctx); err != nil {
		t.Fatal(err)
	}
	info, err := d2.Consumers()["late"].Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.NumPending != 0 || info.Config.OptStartSeq != 4 {
		t.Errorf("new sink's consumer starts at %d with %d pending, want 4 and 0", info.Config.OptStartSeq, info.NumPending)
	}
	// "healthy" is not among d2's sinks: its consumer is gone, nothing would read it.
	if _, err := m.ns.JS.Consumer(ctx, topology.StreamAlerts, ConsumerName("healthy")); err == nil {
		t.Error("the consumer of a sink no longer configured still exists")
	}
}

// A silence added after an alert was published keeps it from the sinks
// (a failing sink's retries included); a story silence mutes only its story.
func TestSilenceStage(t *testing.T) {
	d, rcv, ns := setup(t, 500)
	kv, err := ns.Topo.KV(t.Context(), topology.BucketSilences, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	store := silences.New(kv)
	d.silences = store
	ev := alertEvent()
	if err := d.Handle(t.Context(), "hook", ev, 1); err == nil {
		t.Fatal("first attempt against a 500 succeeded")
	}
	if err := store.Add(t.Context(), silences.Silence{Watch: "mq-9b", Story: ev.Data.StoryID}); err != nil {
		t.Fatal(err)
	}
	if err := d.Handle(t.Context(), "hook", ev, 2); err != nil {
		t.Fatalf("silenced retry: %v", err)
	}
	other := alertEvent()
	other.ID, other.Data.StoryID = "a2", "s2"
	if err := d.Handle(t.Context(), "hook", other, 1); err != nil {
		t.Fatal(err)
	}
	if got := rcv.got(); len(got) != 2 || got[1] != ID("a2", "hook") {
		t.Errorf("receiver got %d requests (%v), want the first attempt and the other story's alert", len(got), got)
	}
	if v := testutil.ToFloat64(d.metrics.Silenced.WithLabelValues("hook")); v != 1 {
		t.Errorf("silenced = %v, want 1", v)
	}
}

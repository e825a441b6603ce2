package delivery

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
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
	"github.com/newswatch/newswatch/pkg/consume"
	"github.com/newswatch/newswatch/pkg/events"
	"github.com/newswatch/newswatch/pkg/natstest"
	"github.com/newswatch/newswatch/pkg/sink/webhook"
	"github.com/newswatch/newswatch/pkg/testwait"
	"github.com/newswatch/newswatch/pkg/topology"
)

const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

// receiver is a webhook endpoint that verifies signatures and answers with
// the scripted statuses in turn (then 204).
type receiver struct {
	t        *testing.T
	mu       sync.Mutex
	statuses []int
	ids      []string
	last     []byte
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	if err := webhook.Verify(secret, req.Header, body, time.Minute); err != nil {
		r.t.Errorf("bad signature: %v", err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ids = append(r.ids, req.Header.Get("webhook-id"))
	r.last = body
	status := http.StatusNoContent
	if len(r.statuses) > 0 {
		status, r.statuses = r.statuses[0], r.statuses[1:]
	}
	if status == http.StatusTooManyRequests {
		w.Header().Set("Retry-After", "1")
	}
	w.WriteHeader(status)
}

func (r *receiver) lastLen() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	var evs []json.RawMessage
	if json.Unmarshal(r.last, &evs) != nil {
		return -1
	}
	return len(evs)
}

func (r *receiver) got() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.ids...)
}

func setup(t *testing.T, statuses ...int) (*Deliverer, *receiver, *natstest.Server) {
	t.Helper()
	return setupWatch(t, config.Watch{Sinks: []string{"hook"}}, statuses...)
}

func setupWatch(t *testing.T, w config.Watch, statuses ...int) (*Deliverer, *receiver, *natstest.Server) {
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
	rcv := &receiver{t: t, statuses: statuses}
	srv := httptest.NewServer(rcv)
	t.Cleanup(srv.Close)
	hook, err := webhook.New(webhook.Config{Name: "hook", URL: srv.URL, Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	d := New(ns.JS, b, map[string]Sink{"hook": hook}, func(id string) (config.Watch, bool) { c := w; c.ID = id; return c, true },
		4, NewMetrics(prometheus.NewRegistry()), slog.New(slog.DiscardHandler))
	d.baseBackoff = 10 * time.Millisecond
	return d, rcv, ns
}

func alertEvent() events.CloudEvent {
	return events.NewAlertEvent(events.Alert{
		Schema: events.AlertSchema, AlertID: "a1", WatchID: "mq-9b", Query: `"MQ-9B"`,
		StoryID: "s1", ArticleID: "x1", Title: "US to supply 31 MQ-9B drones to India",
		CreatedAt: time.Now().UTC(),
	}, events.AlertEventType)
}

func TestHandle(t *testing.T) {
	tests := []struct {
		name       string
		statuses   []int
		attempts   int
		wantRetry  []bool // per attempt: a retry was asked for
		wantCalls  int
		deadLetter bool
	}{
		{"delivered at once", nil, 1, []bool{false}, 1, false},
		{"500 then success", []int{500}, 2, []bool{true, false}, 2, false},
		{"429 honours Retry-After", []int{429}, 2, []bool{true, false}, 2, false},
		{"400 is not retried", []int{400}, 1, []bool{false}, 1, true},
		{"exhausted retries dead-letter", []int{500, 500, 500, 500}, 4, []bool{true, true, true, false}, 4, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, rcv, ns := setup(t, tt.statuses...)
			ev := alertEvent()
			for i := 0; i < tt.attempts; i++ {
				err := d.Handle(t.Context(), "hook", ev, i+1)
				var retry *consume.Retry
				isRetry := errors.As(err, &retry)
				if isRetry != tt.wantRetry[i] {
					t.Fatalf("attempt %d: err %v, want retry=%v", i+1, err, tt.wantRetry[i])
				}
				if isRetry && tt.statuses[i] == 429 && retry.Delay < time.Second {
					t.Errorf("429 with Retry-After: 1 gave delay %s", retry.Delay)
				}
			}
			if n := len(rcv.got()); n != tt.wantCalls {
				t.Errorf("receiver got %d requests, want %d", n, tt.wantCalls)
			}
			for _, id := range rcv.got() {
				if id != ID(ev.ID, "hook") {
					t.Errorf("webhook-id %q, want the stable delivery id %q", id, ID(ev.ID, "hook"))
				}
			}
			s, _ := ns.JS.Stream(t.Context(), topology.StreamDeadLetter)
			info, _ := s.Info(t.Context())
			if (info.State.Msgs == 1) != tt.deadLetter {
				t.Errorf("dead letters = %d, want dead letter %v", info.State.Msgs, tt.deadLetter)
			}
			if tt.deadLetter {
				m, err := s.GetLastMsgForSubject(t.Context(), topology.DeadLetterSubject("hook"))
				if err != nil {
					t.Fatal(err)
				}
				var dl DeadLetter
				if err := json.Unmarshal(m.Data, &dl); err != nil || dl.Event.ID != ev.ID || dl.Error == "" {
					t.Errorf("dead letter %+v (%v)", dl, err)
				}
			}
		})
	}
}

// A notifier killed after recording a delivery but before acking gets the
// message again and must not send it again.
func TestRecordedDeliveryIsNotRepeated(t *testing.T) {
	d, rcv, _ := setup(t)
	ev := alertEvent()
	for attempt := 1; attempt <= 2; attempt++ {
		if err := d.Handle(t.Context(), "hook", ev, attempt); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(rcv.got()); n != 1 {
		t.Errorf("receiver got %d requests, want 1", n)
	}
}

// A notifier killed between sending and recording sends again, with the same
// webhook-id, so the receiver can drop the repeat.
func TestUnrecordedDeliveryRepeatsWithSameID(t *testing.T) {
	d, rcv, _ := setup(t)
	ev := alertEvent()
	if err := d.Handle(t.Context(), "hook", ev, 1); err != nil {
		t.Fatal(err)
	}
	if err := d.records.Delete(t.Context(), ID(ev.ID, "hook")); err != nil { // the crash lost the record
		t.Fatal(err)
	}
	if err := d.Handle(t.Context(), "hook", ev, 2); err != nil {
		t.Fatal(err)
	}
	got := rcv.got()
	if len(got) != 2 || got[0] != got[1] {
		t.Errorf("webhook-ids %v, want the same id twice", got)
	}
}

// Through the sink's durable consumer: a receiver failing twice gets the
// alert on the third delivery, and exactly once.
func TestConsumerRetriesUntilDelivered(t *testing.T) {
	d, rcv, ns := setup(t, 500, 503)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if err := d.Setup(ctx); err != nil {
		t.Fatal(err)
	}
	ev := alertEvent()
	data, _ := json.Marshal(ev)
	if _, err := ns.JS.Publish(ctx, topology.AlertSubject("mq-9b"), data); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	runCtx, stop := context.WithCancel(ctx)
	go func() { done <- d.Run(runCtx) }()
	testwait.For(t, 30*time.Second, "the alert delivered and acked", func() error {
		if ok, err := d.delivered(ctx, ID(ev.ID, "hook")); !ok {
			return fmt.Errorf("delivery not recorded (%v)", err)
		}
		return natstest.ConsumerIdle(ctx, ns.JS, topology.StreamAlerts, ConsumerName("hook"))
	})
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n := len(rcv.got()); n != 3 {
		t.Errorf("receiver got %d requests, want 3 (500, 503, then delivered)", n)
	}
}

func TestRateLimit(t *testing.T) {
	d, rcv, _ := setupWatch(t, config.Watch{Sinks: []string{"hook"}, RateLimit: 2})
	for i := range 3 {
		ev := alertEvent()
		ev.ID = fmt.Sprintf("a%d", i)
		if err := d.Handle(t.Context(), "hook", ev, 1); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(rcv.got()); n != 2 {
		t.Errorf("receiver got %d alerts, want 2 (rate_limit 2)", n)
	}
	if v := testutil.ToFloat64(d.metrics.RateLimited.WithLabelValues("hook")); v != 1 {
		t.Errorf("rate limited = %v, want 1", v)
	}
}

func TestDigest(t *testing.T) {
	d, rcv, _ := setupWatch(t, config.Watch{Sinks: []string{"hook"}, Digest: time.Hour})
	now := time.Date(2026, 11, 30, 10, 5, 0, 0, time.UTC)
	d.now = func() time.Time { return now }
	for i := range 3 {
		ev := alertEvent()
		ev.ID = fmt.Sprintf("a%d", i)
		if err := d.Handle(t.Context(), "hook", ev, 1); err != nil {
			t.Fatal(err)
		}
		if err := d.Handle(t.Context(), "hook", ev, 2); err != nil { // a redelivery is filed once
			t.Fatal(err)
		}
	}
	if err := d.FlushDigests(t.Context()); err != nil || len(rcv.got()) != 0 {
		t.Fatalf("flushed before the hour ended: %d requests, %v", len(rcv.got()), err)
	}
	now = now.Add(time.Hour)
	for range 2 {
		if err := d.FlushDigests(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(rcv.got()); n != 1 {
		t.Fatalf("receiver got %d digests, want 1", n)
	}
	if n := rcv.lastLen(); n != 3 {
		t.Errorf("digest lists %d alerts, want 3", n)
	}
	if keys, _ := d.digests.Keys(t.Context()); len(keys) != 0 {
		t.Errorf("digest still stored: %v", keys)
	}
}

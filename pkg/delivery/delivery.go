// Package delivery sends alerts from the ALERTS stream to the sinks of their
// watch (webhooks, Slack, email) through the durable "delivery" consumer, so
// a retry survives a restart. Each (alert, sink) delivery has a stable id and
// is recorded in the newswatch_deliveries bucket before the message is acked:
// only a crash between sending and recording can repeat a delivery, and the
// repeat carries the same id.
package delivery

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/newswatch/newswatch/pkg/config"
	"github.com/newswatch/newswatch/pkg/consume"
	"github.com/newswatch/newswatch/pkg/events"
	"github.com/newswatch/newswatch/pkg/sink"
	"github.com/newswatch/newswatch/pkg/topology"
)

// Sink sends one alert; the sink packages implement it.
type Sink interface {
	Name() string
	Send(ctx context.Context, deliveryID string, ev events.CloudEvent) error
}

// ID is the stable id of the delivery of an alert to a sink; webhooks send it
// as webhook-id so receivers can drop repeats.
func ID(alertID, sinkName string) string { return events.HashID("delivery", alertID, sinkName) }

// DeadLetter is what deadletter.<sink> holds for an alert that could not be
// delivered.
type DeadLetter struct {
	DeliveryID string            `json:"delivery_id"`
	Sink       string            `json:"sink"`
	Error      string            `json:"error"`
	Reason     string            `json:"reason"`
	Attempts   int               `json:"attempts"`
	FailedAt   time.Time         `json:"failed_at"`
	Event      events.CloudEvent `json:"event"`
}

// record is what newswatch_deliveries holds per delivery id.
type record struct {
	Sink        string    `json:"sink"`
	AlertID     string    `json:"alert_id"`
	Result      string    `json:"result"` // delivered or dead_letter
	CompletedAt time.Time `json:"completed_at"`
}

// Metrics are the delivery metrics.
type Metrics struct {
	Deliveries  *prometheus.CounterVec
	Duration    *prometheus.HistogramVec
	DeadLetters *prometheus.CounterVec
	RateLimited prometheus.Counter
}

// NewMetrics registers the delivery metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	f := promauto.With(reg)
	return &Metrics{
		Deliveries: f.NewCounterVec(prometheus.CounterOpts{
			Name: "newswatch_notifier_deliveries_total",
			Help: "Alert deliveries to sinks by result (ok, retry, failed).",
		}, []string{"sink", "result"}),
		Duration: f.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "newswatch_notifier_delivery_duration_seconds",
			Help:    "Time of one delivery attempt to a sink.",
			Buckets: prometheus.ExponentialBuckets(0.01, 2, 12),
		}, []string{"sink"}),
		RateLimited: f.NewCounter(prometheus.CounterOpts{
			Name: "newswatch_notifier_rate_limited_total",
			Help: "Alerts not delivered to sinks because their watch reached its rate_limit for the hour.",
		}),
		DeadLetters: f.NewCounterVec(prometheus.CounterOpts{
			Name: "newswatch_notifier_dead_letters_total",
			Help: "Alerts moved to deadletter.<sink> after a permanent failure or their last attempt.",
		}, []string{"sink"}),
	}
}

// Buckets are the KV buckets delivery keeps its state in.
type Buckets struct {
	Deliveries jetstream.KeyValue // topology.BucketDeliveries
	Rates      jetstream.KeyValue // topology.BucketRates
	Digests    jetstream.KeyValue // topology.BucketDigests
}

// Deliverer delivers alerts.
type Deliverer struct {
	js          jetstream.JetStream
	records     jetstream.KeyValue
	rates       jetstream.KeyValue
	digests     jetstream.KeyValue
	sinks       map[string]Sink
	watchOf     func(watchID string) (config.Watch, bool)
	maxDeliver  int
	baseBackoff time.Duration
	metrics     *Metrics
	logger      *slog.Logger
	now         func() time.Time
}

// New returns a deliverer. watchOf returns the current watch of an id (its
// sinks, rate limit and digest period); maxDeliver is the consumer's MaxDeliver.
func New(js jetstream.JetStream, b Buckets, sinks map[string]Sink, watchOf func(string) (config.Watch, bool),
	maxDeliver int, m *Metrics, logger *slog.Logger) *Deliverer {
	// Series start at 0 so that increase() sees a sink's first failure.
	for name := range sinks {
		for _, r := range []string{"ok", "retry", "failed"} {
			m.Deliveries.WithLabelValues(name, r)
		}
		m.DeadLetters.WithLabelValues(name)
		m.Duration.WithLabelValues(name)
	}
	return &Deliverer{
		js: js, records: b.Deliveries, rates: b.Rates, digests: b.Digests, sinks: sinks, watchOf: watchOf, maxDeliver: maxDeliver,
		baseBackoff: 2 * time.Second, metrics: m, logger: logger.With("component", "delivery"), now: time.Now,
	}
}

// Handle delivers one ALERTS message to every sink of its watch that has not
// had it yet. attempt is the message's delivery count (1 on the first).
func (d *Deliverer) Handle(ctx context.Context, ev events.CloudEvent, attempt int) error {
	w, ok := d.watchOf(ev.Data.WatchID)
	if !ok || len(w.Sinks) == 0 {
		return nil // the watch was removed, or it has only its NATS subject
	}
	if w.Digest > 0 {
		return d.addToDigest(ctx, w, ev)
	}
	if w.RateLimit > 0 {
		allowed, err := d.allow(ctx, w, ev.ID)
		if err != nil {
			return err
		}
		if !allowed {
			d.metrics.RateLimited.Inc()
			d.logger.Warn("watch reached its rate_limit for the hour; the alert stays on its subject but goes to no sink",
				"watch_id", w.ID, "rate_limit", w.RateLimit, "alert_id", ev.ID)
			return nil
		}
	}
	var retry *consume.Retry
	for _, name := range w.Sinks {
		s, ok := d.sinks[name]
		if !ok {
			d.logger.Error("watch names a sink that is not configured; skipping it", "watch_id", ev.Data.WatchID, "sink", name)
			continue
		}
		id := ID(ev.ID, name)
		done, err := d.delivered(ctx, id)
		if err != nil {
			return err
		}
		if done {
			continue
		}
		start := d.now()
		sendCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
		err = s.Send(sendCtx, id, ev)
		cancel()
		d.metrics.Duration.WithLabelValues(name).Observe(d.now().Sub(start).Seconds())
		if err == nil {
			d.metrics.Deliveries.WithLabelValues(name, "ok").Inc()
			if err := d.record(ctx, id, name, ev.ID, "delivered"); err != nil {
				return err
			}
			continue
		}
		if sink.IsRetryable(err) && attempt < d.maxDeliver {
			d.metrics.Deliveries.WithLabelValues(name, "retry").Inc()
			delay := d.backoff(attempt, err)
			d.logger.Warn("delivery failed; retrying", "sink", name, "alert_id", ev.ID, "attempt", attempt, "retry_in", delay, "err", err)
			if retry == nil || delay > retry.Delay {
				retry = &consume.Retry{Delay: delay, Err: err}
			}
			continue
		}
		d.metrics.Deliveries.WithLabelValues(name, "failed").Inc()
		if err := d.deadLetter(ctx, id, name, ev, attempt, err); err != nil {
			return err
		}
	}
	if retry != nil {
		return retry
	}
	return nil
}

// backoff is exponential with full jitter, at least what the peer asked for.
func (d *Deliverer) backoff(attempt int, err error) time.Duration {
	ceiling := d.baseBackoff << min(attempt-1, 10)
	delay := ceiling/2 + time.Duration(rand.Int64N(int64(ceiling/2)+1))
	var se *sink.Error
	if errors.As(err, &se) && se.RetryAfter > delay {
		delay = se.RetryAfter
	}
	return delay
}

func (d *Deliverer) delivered(ctx context.Context, id string) (bool, error) {
	_, err := d.records.Get(ctx, id)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, jetstream.ErrKeyNotFound):
		return false, nil
	default:
		return false, fmt.Errorf("delivery: reading %s/%s: %w", topology.BucketDeliveries, id, err)
	}
}

func (d *Deliverer) record(ctx context.Context, id, sinkName, alertID, result string) error {
	data, _ := json.Marshal(record{Sink: sinkName, AlertID: alertID, Result: result, CompletedAt: d.now().UTC()})
	if _, err := d.records.Put(ctx, id, data); err != nil {
		return fmt.Errorf("delivery: recording %s/%s: %w", topology.BucketDeliveries, id, err)
	}
	return nil
}

func (d *Deliverer) deadLetter(ctx context.Context, id, sinkName string, ev events.CloudEvent, attempt int, cause error) error {
	reason := "unknown"
	var se *sink.Error
	if errors.As(cause, &se) {
		reason = se.Reason
	}
	data, _ := json.Marshal(DeadLetter{
		DeliveryID: id, Sink: sinkName, Error: cause.Error(), Reason: reason,
		Attempts: attempt, FailedAt: d.now().UTC(), Event: ev,
	})
	if _, err := d.js.Publish(ctx, topology.DeadLetterSubject(sinkName), data, jetstream.WithMsgID(id)); err != nil {
		return fmt.Errorf("delivery: dead-lettering %s to %s: %w", id, topology.DeadLetterSubject(sinkName), err)
	}
	d.metrics.DeadLetters.WithLabelValues(sinkName).Inc()
	d.logger.Error("alert dead-lettered; list with newswatch dlq list, resend with newswatch dlq replay",
		"sink", sinkName, "alert_id", ev.ID, "attempts", attempt, "reason", reason, "err", cause)
	return d.record(ctx, id, sinkName, ev.ID, "dead_letter")
}

// Run consumes the ALERTS stream through cons until ctx ends.
func (d *Deliverer) Run(ctx context.Context, cons jetstream.Consumer) error {
	return consume.Run(ctx, cons, topology.ConsumerDelivery, func(ctx context.Context, msg jetstream.Msg) error {
		var ev events.CloudEvent
		if err := json.Unmarshal(msg.Data(), &ev); err != nil || ev.ID == "" {
			return consume.Poison(fmt.Errorf("delivery: %s is not an alert: %v", msg.Subject(), err))
		}
		attempt := 1
		if meta, err := msg.Metadata(); err == nil {
			attempt = int(meta.NumDelivered)
		}
		return d.Handle(ctx, ev, attempt)
	}, d.logger, 5*time.Second)
}

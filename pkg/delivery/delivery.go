// Package delivery sends alerts from the ALERTS stream to the sinks of their
// watch (webhooks, Slack, email). Each sink is delivered independently, by
// its own durable consumer (delivery-<sink>) and its own digest flusher, so
// a sink that is slow or failing delays only itself.
//
// A delivery runs as explicit stages, alertmanager-style (stages.go):
// lookup (the watch, and whether it names the sink) -> silence -> digest or
// rate limit -> dedup -> send -> retry or dead letter. A digest, once its period has
// ended, runs the same dedup -> send -> retry or dead letter stages, with
// the same retry budget (notifier.max_deliveries).
//
// Each (alert, sink) delivery has a stable id and is recorded in the
// newswatch_deliveries bucket before the message is acked: only a crash
// between sending and recording can repeat a delivery, and the repeat
// carries the same id.
package delivery

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/newswatch/newswatch/pkg/config"
	"github.com/newswatch/newswatch/pkg/events"
	"github.com/newswatch/newswatch/pkg/sink"
	"github.com/newswatch/newswatch/pkg/topology"
)

// Sink sends one alert; the sink packages implement it. Timeout is the
// sink's own bound on one attempt: delivery applies no other.
type Sink interface {
	Name() string
	Timeout() time.Duration
	Send(ctx context.Context, deliveryID string, ev events.CloudEvent) error
}

// ID is the stable id of the delivery of an alert to a sink; webhooks send it
// as webhook-id so receivers can drop repeats.
func ID(alertID, sinkName string) string { return events.HashID("delivery", alertID, sinkName) }

// DeadLetter is what deadletter.<sink> holds for an alert, or a digest, that
// could not be delivered.
type DeadLetter struct {
	DeliveryID string            `json:"delivery_id"`
	Sink       string            `json:"sink"`
	Error      string            `json:"error"`
	Reason     string            `json:"reason"`
	Attempts   int               `json:"attempts"`
	FailedAt   time.Time         `json:"failed_at"`
	Event      events.CloudEvent `json:"event"`
	// A digest's dead letter carries its watch and its alerts instead of
	// Event; `newswatch dlq replay` sends them as one digest again.
	WatchID string              `json:"watch_id,omitempty"`
	Digest  []events.CloudEvent `json:"digest,omitempty"`
}

// Watch returns the id of the watch the dead letter belongs to.
func (dl DeadLetter) Watch() string {
	if dl.WatchID != "" {
		return dl.WatchID
	}
	return dl.Event.Data.WatchID
}

// Record is what newswatch_deliveries holds per delivery id.
type Record struct {
	Sink        string    `json:"sink"`
	AlertID     string    `json:"alert_id"`
	Result      string    `json:"result"` // ResultDelivered, ResultDeadLetter or ResultReplayed
	CompletedAt time.Time `json:"completed_at"`
}

// Results recorded in newswatch_deliveries.
const (
	ResultDelivered  = "delivered"
	ResultDeadLetter = "dead_letter"
	ResultReplayed   = "replayed" // delivered by `newswatch dlq replay`
)

// Metrics are the delivery metrics.
type Metrics struct {
	Deliveries  *prometheus.CounterVec
	Duration    *prometheus.HistogramVec
	DeadLetters *prometheus.CounterVec
	RateLimited *prometheus.CounterVec
	Silenced    *prometheus.CounterVec
}

// NewMetrics registers the delivery metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	f := promauto.With(reg)
	return &Metrics{
		Deliveries: f.NewCounterVec(prometheus.CounterOpts{
			Name: "newswatch_notifier_deliveries_total",
			Help: "Alert and digest deliveries to sinks by result (ok, retry, failed).",
		}, []string{"sink", "result"}),
		Duration: f.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "newswatch_notifier_delivery_duration_seconds",
			Help:    "Time of one delivery attempt to a sink.",
			Buckets: prometheus.ExponentialBuckets(0.01, 2, 12),
		}, []string{"sink"}),
		RateLimited: f.NewCounterVec(prometheus.CounterOpts{
			Name: "newswatch_notifier_rate_limited_total",
			Help: "Alerts not delivered to a sink because their watch reached its rate_limit for the hour.",
		}, []string{"sink"}),
		Silenced: f.NewCounterVec(prometheus.CounterOpts{
			Name: "newswatch_notifier_deliveries_silenced_total",
			Help: "Alerts not delivered to a sink because a silence added after their publication muted their watch or story.",
		}, []string{"sink"}),
		DeadLetters: f.NewCounterVec(prometheus.CounterOpts{
			Name: "newswatch_notifier_dead_letters_total",
			Help: "Alerts and digests moved to deadletter.<sink> after a permanent failure or their last attempt.",
		}, []string{"sink"}),
	}
}

// Buckets are the KV buckets delivery keeps its state in.
type Buckets struct {
	Deliveries jetstream.KeyValue // topology.BucketDeliveries
	Rates      jetstream.KeyValue // topology.BucketRates
	Digests    jetstream.KeyValue // topology.BucketDigests
}

// Option configures a Deliverer.
type Option func(*Deliverer)

// WithReplicas sets the replicas of the delivery consumers (nats.replicas).
func WithReplicas(n int) Option { return func(d *Deliverer) { d.replicas = n } }

// WithSilences mutes, at delivery, alerts whose watch or story was silenced
// after they were published.
func WithSilences(s Silencer) Option { return func(d *Deliverer) { d.silences = s } }

// WithDigestInterval sets how often each sink looks for ended digests.
func WithDigestInterval(iv time.Duration) Option {
	return func(d *Deliverer) {
		if iv > 0 {
			d.digestInterval = iv
		}
	}
}

// Deliverer delivers alerts.
type Deliverer struct {
	js             jetstream.JetStream
	records        jetstream.KeyValue
	rates          jetstream.KeyValue
	digests        jetstream.KeyValue
	sinks          map[string]Sink
	watchOf        func(watchID string) (config.Watch, bool)
	silences       Silencer
	maxDeliver     int
	baseBackoff    time.Duration
	replicas       int
	digestInterval time.Duration
	metrics        *Metrics
	logger         *slog.Logger
	now            func() time.Time

	alertStages  map[string]Stage // per sink
	digestStages map[string]Stage // per sink

	mu        sync.Mutex
	consumers map[string]jetstream.Consumer // per sink, once Setup ran
}

// New returns a deliverer. watchOf returns the current watch of an id (its
// sinks, rate limit and digest period); maxDeliver is the number of attempts
// an alert or digest gets before it is dead-lettered.
func New(js jetstream.JetStream, b Buckets, sinks map[string]Sink, watchOf func(string) (config.Watch, bool),
	maxDeliver int, m *Metrics, logger *slog.Logger, opts ...Option) *Deliverer {
	// Series start at 0 so that increase() sees a sink's first failure.
	for name := range sinks {
		for _, r := range []string{"ok", "retry", "failed"} {
			m.Deliveries.WithLabelValues(name, r)
		}
		m.DeadLetters.WithLabelValues(name)
		m.Duration.WithLabelValues(name)
		m.RateLimited.WithLabelValues(name)
		m.Silenced.WithLabelValues(name)
	}
	d := &Deliverer{
		js: js, records: b.Deliveries, rates: b.Rates, digests: b.Digests, sinks: sinks, watchOf: watchOf, maxDeliver: max(maxDeliver, 1),
		baseBackoff: 2 * time.Second, replicas: 1, digestInterval: 30 * time.Second,
		metrics: m, logger: logger.With("component", "delivery"), now: time.Now,
		alertStages: map[string]Stage{}, digestStages: map[string]Stage{}, consumers: map[string]jetstream.Consumer{},
	}
	for _, opt := range opts {
		opt(d)
	}
	// The pipelines, composed here and nowhere else.
	for name := range sinks {
		deliver := MultiStage{StageFunc(d.dedup), StageFunc(d.send), StageFunc(d.settle)}
		d.alertStages[name] = MultiStage{StageFunc(d.lookup), StageFunc(d.silence), StageFunc(d.fileDigest), StageFunc(d.rateLimit), deliver}
		d.digestStages[name] = deliver
	}
	return d
}

// backoff is exponential with full jitter, at least what the peer asked for.
func (d *Deliverer) backoff(attempt int, err error) time.Duration {
	ceiling := d.baseBackoff << min(max(attempt-1, 0), 10)
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
	data, _ := json.Marshal(Record{Sink: sinkName, AlertID: alertID, Result: result, CompletedAt: d.now().UTC()})
	if _, err := d.records.Put(ctx, id, data); err != nil {
		return fmt.Errorf("delivery: recording %s/%s: %w", topology.BucketDeliveries, id, err)
	}
	return nil
}

func (d *Deliverer) deadLetter(ctx context.Context, n *Notification, cause error) error {
	reason := "unknown"
	var se *sink.Error
	if errors.As(cause, &se) {
		reason = se.Reason
	}
	dl := DeadLetter{
		DeliveryID: n.DeliveryID, Sink: n.Sink, Error: cause.Error(), Reason: reason,
		Attempts: n.Attempt, FailedAt: d.now().UTC(), Event: n.Event,
	}
	if n.DigestKey != "" {
		dl.WatchID, dl.Digest = n.Watch.ID, n.Digest
	}
	data, _ := json.Marshal(dl)
	subject := topology.DeadLetterSubject(n.Sink)
	if _, err := d.js.Publish(ctx, subject, data, jetstream.WithMsgID(n.DeliveryID)); err != nil {
		return fmt.Errorf("delivery: dead-lettering %s to %s: %w", n.DeliveryID, subject, err)
	}
	d.metrics.DeadLetters.WithLabelValues(n.Sink).Inc()
	d.logger.Error("delivery dead-lettered; list with newswatch dlq list, resend with newswatch dlq replay",
		"sink", n.Sink, "delivery_id", n.DeliveryID, "alert_id", n.alertID(), "attempts", n.Attempt, "reason", reason, "err", cause)
	return d.record(ctx, n.DeliveryID, n.Sink, n.alertID(), ResultDeadLetter)
}

// LookupRecord reads the record of a delivery id from the
// newswatch_deliveries bucket kv.
func LookupRecord(ctx context.Context, kv jetstream.KeyValue, id string) (Record, error) {
	e, err := kv.Get(ctx, id)
	if err != nil {
		return Record{}, fmt.Errorf("delivery: reading %s/%s: %w", topology.BucketDeliveries, id, err)
	}
	var r Record
	if err := json.Unmarshal(e.Value(), &r); err != nil {
		return Record{}, fmt.Errorf("delivery: %s/%s does not decode: %w", topology.BucketDeliveries, id, err)
	}
	return r, nil
}

// RecordReplay records in kv (newswatch_deliveries) that a dead letter was
// delivered by `newswatch dlq replay`, so a second replay of its id can say
// so.
func RecordReplay(ctx context.Context, kv jetstream.KeyValue, dl DeadLetter) error {
	alertID := dl.Event.ID
	if len(dl.Digest) > 0 {
		alertID = "digest:" + dl.Watch()
	}
	data, _ := json.Marshal(Record{Sink: dl.Sink, AlertID: alertID, Result: ResultReplayed, CompletedAt: time.Now().UTC()})
	if _, err := kv.Put(ctx, dl.DeliveryID, data); err != nil {
		return fmt.Errorf("delivery: recording %s/%s: %w", topology.BucketDeliveries, dl.DeliveryID, err)
	}
	return nil
}

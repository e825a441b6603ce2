package delivery

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/newswatch/newswatch/pkg/config"
	"github.com/newswatch/newswatch/pkg/consume"
	"github.com/newswatch/newswatch/pkg/events"
	"github.com/newswatch/newswatch/pkg/silences"
	"github.com/newswatch/newswatch/pkg/sink"
)

// Notification is one delivery to one sink as it passes the stages: an
// alert, or the alerts of a digest whose period has ended.
type Notification struct {
	Sink       string
	DeliveryID string
	Watch      config.Watch
	Event      events.CloudEvent   // the alert; zero for a digest
	Digest     []events.CloudEvent // a digest's alerts
	DigestKey  string              // its key in newswatch_digests; "" for an alert
	Attempt    int                 // 1 on the first
	// Err is the send stage's outcome, which settle acts on.
	Err error
}

func (n *Notification) alertID() string {
	if n.DigestKey != "" {
		return "digest:" + n.DigestKey
	}
	return n.Event.ID
}

// Stage is one step of a delivery. It returns false when the notification
// needs nothing more (not for this sink, filed in a digest, rate-limited,
// already delivered), and an error when it should be tried again later: a
// *consume.Retry carries the delay.
type Stage interface {
	Exec(ctx context.Context, n *Notification) (bool, error)
}

// StageFunc is a function used as a Stage.
type StageFunc func(ctx context.Context, n *Notification) (bool, error)

// Exec calls f.
func (f StageFunc) Exec(ctx context.Context, n *Notification) (bool, error) { return f(ctx, n) }

// MultiStage runs its stages in order until one stops or fails.
type MultiStage []Stage

// Exec runs the stages in order.
func (ms MultiStage) Exec(ctx context.Context, n *Notification) (bool, error) {
	for _, s := range ms {
		ok, err := s.Exec(ctx, n)
		if err != nil || !ok {
			return false, err
		}
	}
	return true, nil
}

// lookup finds the alert's watch and stops unless it names the sink.
func (d *Deliverer) lookup(_ context.Context, n *Notification) (bool, error) {
	w, ok := d.watchOf(n.Event.Data.WatchID)
	if !ok || !slices.Contains(w.Sinks, n.Sink) {
		return false, nil // removed, or not a watch of this sink
	}
	n.Watch = w
	n.DeliveryID = ID(n.Event.ID, n.Sink)
	return true, nil
}

// Silencer reports whether an alert of a watch on a story is muted now;
// *silences.Store implements it.
type Silencer interface {
	Silenced(ctx context.Context, watch, story string) (silences.Silence, bool, error)
}

// silence stops an alert muted since it was published (the notifier does
// not publish alerts muted already): a silence added while a sink is failing
// or behind also keeps that sink's backlog of the watch or story quiet.
func (d *Deliverer) silence(ctx context.Context, n *Notification) (bool, error) {
	if d.silences == nil {
		return true, nil
	}
	sl, muted, err := d.silences.Silenced(ctx, n.Watch.ID, n.Event.Data.StoryID)
	if errors.Is(err, jetstream.ErrInvalidKey) {
		// An id no silence can have: nothing mutes it, and asking again
		// would fail the same way.
		return true, nil
	}
	if err != nil || !muted {
		return err == nil, err
	}
	d.metrics.Silenced.WithLabelValues(n.Sink).Inc()
	d.logger.Info("alert silenced before delivery", "sink", n.Sink, "alert_id", n.Event.ID, "watch_id", n.Watch.ID, "silence", sl.String())
	return false, nil
}

// fileDigest files the alert of a digest watch under its current period;
// the period's digest is delivered when it ends (flushDigests).
func (d *Deliverer) fileDigest(ctx context.Context, n *Notification) (bool, error) {
	if n.Watch.Digest <= 0 {
		return true, nil
	}
	if _, ok := d.sinks[n.Sink].(DigestSink); !ok {
		d.logger.Warn("sink cannot send digests; the alert of a digest watch is not sent to it",
			"sink", n.Sink, "watch_id", n.Watch.ID, "alert_id", n.Event.ID)
		return false, nil
	}
	return false, d.addToDigest(ctx, n.Watch, n.Event)
}

// rateLimit stops the alert once its watch reached rate_limit this hour.
func (d *Deliverer) rateLimit(ctx context.Context, n *Notification) (bool, error) {
	if n.Watch.RateLimit <= 0 {
		return true, nil
	}
	allowed, err := d.allow(ctx, n.Watch, n.Event.ID)
	if err != nil || allowed {
		return allowed, err
	}
	d.metrics.RateLimited.WithLabelValues(n.Sink).Inc()
	d.logger.Warn("watch reached its rate_limit for the hour; the alert stays on its subject but does not go to the sink",
		"watch_id", n.Watch.ID, "rate_limit", n.Watch.RateLimit, "alert_id", n.Event.ID, "sink", n.Sink)
	return false, nil
}

// dedup stops a delivery already recorded, delivered or dead-lettered.
func (d *Deliverer) dedup(ctx context.Context, n *Notification) (bool, error) {
	done, err := d.delivered(ctx, n.DeliveryID)
	return !done && err == nil, err
}

// send makes one attempt, bounded by the sink's own timeout, and leaves the
// outcome in n.Err for settle.
func (d *Deliverer) send(ctx context.Context, n *Notification) (bool, error) {
	s := d.sinks[n.Sink]
	sendCtx, cancel := context.WithTimeout(ctx, s.Timeout())
	defer cancel()
	start := d.now()
	if n.DigestKey != "" {
		ds, ok := s.(DigestSink)
		if !ok {
			return false, nil
		}
		n.Err = ds.SendDigest(sendCtx, n.DeliveryID, n.Watch.ID, n.Digest)
	} else {
		n.Err = s.Send(sendCtx, n.DeliveryID, n.Event)
	}
	d.metrics.Duration.WithLabelValues(n.Sink).Observe(d.now().Sub(start).Seconds())
	// A shutdown is not the sink's failure: try again after the restart,
	// without spending an attempt on a dead letter.
	if n.Err != nil && ctx.Err() != nil {
		return false, fmt.Errorf("delivery: stopped while sending to %s: %w", n.Sink, ctx.Err())
	}
	return true, nil
}

// settle records a delivery, asks for a retry with backoff while attempts
// remain and the failure is retryable, and dead-letters otherwise.
func (d *Deliverer) settle(ctx context.Context, n *Notification) (bool, error) {
	if n.Err == nil {
		d.metrics.Deliveries.WithLabelValues(n.Sink, "ok").Inc()
		return true, d.record(ctx, n.DeliveryID, n.Sink, n.alertID(), ResultDelivered)
	}
	if sink.IsRetryable(n.Err) && n.Attempt < d.maxDeliver {
		d.metrics.Deliveries.WithLabelValues(n.Sink, "retry").Inc()
		delay := d.backoff(n.Attempt, n.Err)
		d.logger.Warn("delivery failed; retrying", "sink", n.Sink, "delivery_id", n.DeliveryID, "alert_id", n.alertID(),
			"attempt", n.Attempt, "max_attempts", d.maxDeliver, "retry_in", delay, "err", n.Err)
		return false, &consume.Retry{Delay: delay, Err: n.Err}
	}
	d.metrics.Deliveries.WithLabelValues(n.Sink, "failed").Inc()
	return true, d.deadLetter(ctx, n, n.Err)
}

// asRetry tells a *consume.Retry (the sink failed and has attempts left)
// from a failure of delivery's own state.
func asRetry(err error) (*consume.Retry, bool) {
	var r *consume.Retry
	ok := errors.As(err, &r)
	return r, ok
}

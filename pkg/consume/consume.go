// Package consume runs a handler over a durable JetStream pull consumer with
// explicit acks, classifies its failures (permanent ones are dead-lettered
// once, transient ones back off up to a finite number of deliveries, then are
// dead-lettered), and reports the consumer's lag as a metric.
package consume

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// ErrPoison marks a message that can never be handled (it does not decode,
// or has an unknown schema): it is terminated, not redelivered.
var ErrPoison = errors.New("consume: message cannot be handled")

// Poison wraps err so that the message is terminated.
func Poison(err error) error { return fmt.Errorf("%w: %w", ErrPoison, err) }

// Retry is an error that asks for the message again after Delay.
type Retry struct {
	Delay time.Duration
	Err   error
}

func (r *Retry) Error() string { return r.Err.Error() }
func (r *Retry) Unwrap() error { return r.Err }

// Handler handles one message. A nil error acks it; an error wrapping
// ErrPoison terminates it; a *Retry asks for a redelivery after its delay;
// any other error asks for a redelivery after the backoff (or Run's retry
// delay).
type Handler func(ctx context.Context, msg jetstream.Msg) error

// Option configures Run.
type Option func(*runner)

// WithDeadLetter keeps what the consumer gives up on: a message whose handler
// fails permanently, or transiently on its last delivery, is published on
// deadletter.stage.<consumer name> (see DeadLetter) before it is terminated.
// js publishes the dead letters; m counts them (nil: not counted).
func WithDeadLetter(js jetstream.JetStream, m *Metrics) Option {
	return func(r *runner) { r.js, r.metrics = js, m }
}

// WithBackoff makes a transient failure wait backoff[n-1] before the n-th
// redelivery (the last value for later ones), and gives up after maxDeliver
// deliveries, which should be the consumer's own MaxDeliver.
func WithBackoff(maxDeliver int, backoff []time.Duration) Option {
	return func(r *runner) { r.maxDeliver, r.backoff = maxDeliver, backoff }
}

type runner struct {
	name       string
	log        *slog.Logger
	retryDelay time.Duration
	maxDeliver int
	backoff    []time.Duration
	js         jetstream.JetStream
	metrics    *Metrics
}

// ErrStopped is returned by Run when consuming stops before ctx ends (the
// durable consumer was deleted on the server, for instance).
var ErrStopped = errors.New("consume: consumer stopped")

// Run consumes from cons until ctx ends, then drains what is in flight. It
// returns an error wrapping ErrStopped if consuming stops before ctx ends,
// so that the process can exit and be restarted.
func Run(ctx context.Context, cons jetstream.Consumer, name string, h Handler, logger *slog.Logger, retryDelay time.Duration, opts ...Option) error {
	r := &runner{name: name, log: logger.With("consumer", name), retryDelay: retryDelay}
	for _, o := range opts {
		o(r)
	}
	if r.js != nil {
		stop, err := r.followMaxDeliveries(ctx, cons)
		if err != nil {
			return err
		}
		defer stop()
	}
	// The client keeps pulling from a consumer deleted on the server; ask
	// the server when pulls fail, and stop if the consumer is gone.
	lost := make(chan struct{})
	var lostOnce sync.Once
	var checking atomic.Bool
	cc, err := cons.Consume(func(msg jetstream.Msg) { r.handle(ctx, h, msg) },
		jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
			if ctx.Err() != nil {
				return
			}
			r.log.Debug("consume", "err", err)
			if !checking.CompareAndSwap(false, true) {
				return
			}
			go func() {
				defer checking.Store(false)
				ictx, cancel := context.WithTimeout(ctx, 5*time.Second)
				defer cancel()
				if _, err := cons.Info(ictx); errors.Is(err, jetstream.ErrConsumerNotFound) {
					lostOnce.Do(func() { close(lost) })
				}
			}()
		}))
	if err != nil {
		return fmt.Errorf("consume: starting consumer %s: %w", name, err)
	}
	select {
	case <-ctx.Done():
	case <-cc.Closed():
	case <-lost:
	}
	if ctx.Err() == nil {
		cc.Stop()
		return fmt.Errorf("%w: %s (deleted on the server? a restart creates it again)", ErrStopped, name)
	}
	cc.Drain()
	select {
	case <-cc.Closed():
	case <-time.After(10 * time.Second):
		cc.Stop()
	}
	return nil
}

func (r *runner) handle(ctx context.Context, h Handler, msg jetstream.Msg) {
	err := h(ctx, msg)
	if err == nil {
		if aerr := msg.Ack(); aerr != nil {
			r.log.Warn("ack failed; the message will be redelivered", "err", aerr)
		}
		return
	}
	meta, _ := msg.Metadata()
	var seq, delivered uint64
	if meta != nil {
		seq, delivered = meta.Sequence.Stream, meta.NumDelivered
	}
	var retry *Retry
	switch {
	case permanent(err):
		r.log.Error("terminating a message that cannot be handled", "subject", msg.Subject(), "stream_seq", seq, "err", err)
		r.giveUp(ctx, msg, ReasonPermanent, delivered, err)
	case r.maxDeliver > 0 && delivered >= uint64(r.maxDeliver):
		r.log.Error("giving up on a message after its last delivery", "subject", msg.Subject(), "stream_seq", seq, "deliveries", delivered, "err", err)
		r.giveUp(ctx, msg, ReasonMaxDeliveries, delivered, err)
	case errors.As(err, &retry):
		_ = msg.NakWithDelay(retry.Delay)
	default:
		delay := r.delay(delivered)
		r.log.Warn("handling failed; redelivering later", "subject", msg.Subject(), "stream_seq", seq, "deliveries", delivered, "err", err, "retry_in", delay)
		_ = msg.NakWithDelay(delay)
	}
}

// permanent reports whether err can never go away by retrying: the handler
// said so, or the message (or what the handler made of it) is over the
// server's max payload, or names an invalid subject or KV key.
func permanent(err error) bool {
	return errors.Is(err, ErrPoison) || errors.Is(err, nats.ErrMaxPayload) ||
		errors.Is(err, nats.ErrBadSubject) || errors.Is(err, jetstream.ErrInvalidKey)
}

func (r *runner) delay(delivered uint64) time.Duration {
	if len(r.backoff) == 0 {
		return r.retryDelay
	}
	i := min(int(max(delivered, 1))-1, len(r.backoff)-1)
	return r.backoff[i]
}

// giveUp dead-letters msg (when a dead-letter stream is configured) and
// terminates it. A dead letter that cannot be published leaves the message
// to be redelivered, unless this was its last delivery.
func (r *runner) giveUp(ctx context.Context, msg jetstream.Msg, reason string, delivered uint64, cause error) {
	if r.js != nil {
		dl := newDeadLetter(r.name, msg, reason, delivered, cause)
		if err := dl.publish(ctx, r.js); err != nil {
			if r.maxDeliver == 0 || delivered < uint64(r.maxDeliver) {
				r.log.Warn("dead-lettering failed; redelivering later", "subject", msg.Subject(), "err", err)
				_ = msg.NakWithDelay(r.delay(delivered))
				return
			}
			r.log.Error("dead-lettering failed on the last delivery; the message is dropped", "subject", msg.Subject(), "stream_seq", dl.StreamSeq, "err", err)
		} else if r.metrics != nil {
			r.metrics.DeadLetters.WithLabelValues(r.name, reason).Inc()
		}
	}
	_ = msg.Term()
}

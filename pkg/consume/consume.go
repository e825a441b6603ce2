// Package consume runs a handler over a durable JetStream pull consumer with
// explicit acks, and reports the consumer's lag as a metric.
package consume

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
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
// any other error asks for a redelivery after Run's retry delay.
type Handler func(ctx context.Context, msg jetstream.Msg) error

// Run consumes from cons until ctx ends, then drains what is in flight.
func Run(ctx context.Context, cons jetstream.Consumer, name string, h Handler, logger *slog.Logger, retryDelay time.Duration) error {
	log := logger.With("consumer", name)
	cc, err := cons.Consume(func(msg jetstream.Msg) {
		err := h(ctx, msg)
		var retry *Retry
		switch {
		case err == nil:
			if aerr := msg.Ack(); aerr != nil {
				log.Warn("ack failed; the message will be redelivered", "err", aerr)
			}
		case errors.Is(err, ErrPoison):
			meta, _ := msg.Metadata()
			var seq uint64
			if meta != nil {
				seq = meta.Sequence.Stream
			}
			log.Error("terminating a message that cannot be handled", "subject", msg.Subject(), "stream_seq", seq, "err", err)
			_ = msg.Term()
		case errors.As(err, &retry):
			_ = msg.NakWithDelay(retry.Delay)
		default:
			log.Warn("handling failed; redelivering later", "subject", msg.Subject(), "err", err, "retry_in", retryDelay)
			_ = msg.NakWithDelay(retryDelay)
		}
	}, jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
		if ctx.Err() == nil {
			log.Debug("consume", "err", err)
		}
	}))
	if err != nil {
		return fmt.Errorf("consume: starting consumer %s: %w", name, err)
	}
	<-ctx.Done()
	cc.Drain()
	select {
	case <-cc.Closed():
	case <-time.After(10 * time.Second):
		cc.Stop()
	}
	return nil
}

// LagMetrics exposes consumer lag and stream fill.
type LagMetrics struct {
	Pending        *prometheus.GaugeVec
	StreamBytes    *prometheus.GaugeVec
	StreamMaxBytes *prometheus.GaugeVec
}

// NewLagMetrics registers the JetStream gauges with reg.
func NewLagMetrics(reg prometheus.Registerer) *LagMetrics {
	f := promauto.With(reg)
	return &LagMetrics{
		Pending: f.NewGaugeVec(prometheus.GaugeOpts{
			Name: "newswatch_jetstream_consumer_pending_messages",
			Help: "Messages not yet delivered to a durable consumer plus those awaiting ack.",
		}, []string{"stream", "consumer"}),
		StreamBytes: f.NewGaugeVec(prometheus.GaugeOpts{
			Name: "newswatch_jetstream_stream_bytes",
			Help: "Bytes stored in a stream.",
		}, []string{"stream"}),
		StreamMaxBytes: f.NewGaugeVec(prometheus.GaugeOpts{
			Name: "newswatch_jetstream_stream_max_bytes",
			Help: "A stream's configured byte limit.",
		}, []string{"stream"}),
	}
}

// Watch refreshes the gauges for cons and its stream every interval until ctx ends.
func (m *LagMetrics) Watch(ctx context.Context, js jetstream.JetStream, cons jetstream.Consumer, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if ci, err := cons.Info(ctx); err == nil {
			m.Pending.WithLabelValues(ci.Stream, ci.Name).Set(float64(ci.NumPending + uint64(ci.NumAckPending)))
			if s, err := js.Stream(ctx, ci.Stream); err == nil {
				if si, err := s.Info(ctx); err == nil {
					m.StreamBytes.WithLabelValues(ci.Stream).Set(float64(si.State.Bytes))
					m.StreamMaxBytes.WithLabelValues(ci.Stream).Set(float64(si.Config.MaxBytes))
				}
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

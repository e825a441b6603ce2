package consume

import (
	"context"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// Metrics count what the consumers give up on.
type Metrics struct {
	DeadLetters *prometheus.CounterVec
}

// NewMetrics registers the consumer metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	return &Metrics{DeadLetters: promauto.With(reg).NewCounterVec(prometheus.CounterOpts{
		Name: "newswatch_consumer_dead_letters_total",
		Help: "Messages a consumer gave up on and published on deadletter.stage.<consumer>, by reason (permanent, max_deliveries).",
	}, []string{"consumer", "reason"})}
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

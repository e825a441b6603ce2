package consume

import (
	"context"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// WatchStream refreshes the stream gauges for one stream without a consumer
// of its own, such as a KV bucket's (KV_<bucket>), every interval until ctx
// ends.
func (m *LagMetrics) WatchStream(ctx context.Context, js jetstream.JetStream, stream string, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if s, err := js.Stream(ctx, stream); err == nil {
			if si, err := s.Info(ctx); err == nil {
				m.StreamBytes.WithLabelValues(stream).Set(float64(si.State.Bytes))
				m.StreamMaxBytes.WithLabelValues(stream).Set(float64(si.Config.MaxBytes))
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

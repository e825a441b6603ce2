package topology

import (
	"context"
	"errors"
	"strings"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// countingJS is a JetStream context whose failed publishes are counted in
// newswatch_jetstream_publish_errors_total{stream,reason}. Callers keep
// what they failed to publish and retry, so a full stream or a failing disk
// shows in the metric and logs while nothing is dropped.
type countingJS struct {
	jetstream.JetStream
	errors *prometheus.CounterVec
}

// CountPublishErrors wraps js so that failed publishes are counted.
func CountPublishErrors(js jetstream.JetStream, reg prometheus.Registerer) jetstream.JetStream {
	return &countingJS{JetStream: js, errors: promauto.With(reg).NewCounterVec(prometheus.CounterOpts{
		Name: "newswatch_jetstream_publish_errors_total",
		Help: "Publishes to JetStream that failed, by stream and reason (limit, storage, unavailable, other); the message is kept and retried.",
	}, []string{"stream", "reason"})}
}

func (c *countingJS) Publish(ctx context.Context, subject string, data []byte, opts ...jetstream.PublishOpt) (*jetstream.PubAck, error) {
	ack, err := c.JetStream.Publish(ctx, subject, data, opts...)
	if err != nil {
		c.errors.WithLabelValues(StreamOf(subject), PublishErrorReason(err)).Inc()
	}
	return ack, err
}

func (c *countingJS) PublishMsg(ctx context.Context, msg *nats.Msg, opts ...jetstream.PublishOpt) (*jetstream.PubAck, error) {
	ack, err := c.JetStream.PublishMsg(ctx, msg, opts...)
	if err != nil {
		c.errors.WithLabelValues(StreamOf(msg.Subject), PublishErrorReason(err)).Inc()
	}
	return ack, err
}

// PublishAsync counts a publish refused before it is sent (too large, too
// many pending); a failure that arrives later on the future is counted by
// the caller with CountPublishError.
func (c *countingJS) PublishAsync(subject string, data []byte, opts ...jetstream.PublishOpt) (jetstream.PubAckFuture, error) {
	fut, err := c.JetStream.PublishAsync(subject, data, opts...)
	if err != nil {
		c.errors.WithLabelValues(StreamOf(subject), PublishErrorReason(err)).Inc()
	}
	return fut, err
}

// CountPublishError counts err, the failure of an asynchronous publish to
// subject that arrived on its PubAckFuture, when js was wrapped by
// CountPublishErrors; otherwise it does nothing.
func CountPublishError(js jetstream.JetStream, subject string, err error) {
	if c, ok := js.(*countingJS); ok && err != nil {
		c.errors.WithLabelValues(StreamOf(subject), PublishErrorReason(err)).Inc()
	}
}

// StreamOf names the stream that stores subject.
func StreamOf(subject string) string {
	switch {
	case strings.HasPrefix(subject, "news.articles."):
		return StreamArticles
	case strings.HasPrefix(subject, "news.analyzed."):
		return StreamAnalyzed
	case strings.HasPrefix(subject, "alerts."):
		return StreamAlerts
	case strings.HasPrefix(subject, "deadletter."):
		return StreamDeadLetter
	}
	return "other"
}

// PublishErrorReason classifies a publish failure for the metric label.
func PublishErrorReason(err error) string {
	var apiErr *jetstream.APIError
	msg := strings.ToLower(err.Error())
	switch {
	case strings.Contains(msg, "maximum") && strings.Contains(msg, "exceeded"):
		return "limit" // a discard-new stream at its max_bytes or max_msgs
	case strings.Contains(msg, "insufficient resources") || strings.Contains(msg, "storage") || strings.Contains(msg, "disk"):
		return "storage"
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, nats.ErrTimeout) || errors.Is(err, jetstream.ErrNoStreamResponse) ||
		errors.Is(err, nats.ErrNoResponders) || errors.Is(err, nats.ErrConnectionClosed):
		return "unavailable"
	case errors.As(err, &apiErr):
		return "api"
	}
	return "other"
}

package notifier

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// Metrics are the notifier's Prometheus metrics.
type Metrics struct {
	Alerts               *prometheus.CounterVec
	DuplicatesSuppressed prometheus.Counter
	Latency              prometheus.Histogram
	Undecodable          prometheus.Counter
	Silenced             prometheus.Counter
	Evaluations          *prometheus.CounterVec
	InvalidOffsets       prometheus.Counter
}

// NewMetrics registers the notifier's metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	f := promauto.With(reg)
	return &Metrics{
		Alerts: f.NewCounterVec(prometheus.CounterOpts{
			Name: "newswatch_notifier_alerts_total",
			Help: "Alerts published, by watch.",
		}, []string{"watch"}),
		DuplicatesSuppressed: f.NewCounter(prometheus.CounterOpts{
			Name: "newswatch_notifier_duplicates_suppressed_total",
			Help: "Matches not alerted because the watch already alerted on the story.",
		}),
		Latency: f.NewHistogram(prometheus.HistogramOpts{
			Name: "newswatch_notifier_alert_latency_seconds",
			Help: "Time from the article's fetch to its alert's publication.",
			// 1 ms to 35 min: an alert normally follows its article within
			// milliseconds, a backlog can take minutes.
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 22),
		}),
		Silenced: f.NewCounter(prometheus.CounterOpts{
			Name: "newswatch_notifier_silenced_total",
			Help: "Matches not alerted because a silence muted the watch or the story.",
		}),
		Evaluations: f.NewCounterVec(prometheus.CounterOpts{
			Name: "newswatch_notifier_watch_evaluations_total",
			Help: "Analyzed articles by who evaluated the watches: the analyzer in its one pass, or the notifier because the analyzer held another revision of the watches.",
		}, []string{"by"}),
		InvalidOffsets: f.NewCounter(prometheus.CounterOpts{
			Name: "newswatch_notifier_invalid_offsets_total",
			Help: "Matched terms from an analyzed article whose field or byte offsets did not fit the article; they were clamped to it before going into an alert.",
		}),
		Undecodable: f.NewCounter(prometheus.CounterOpts{
			Name: "newswatch_notifier_undecodable_messages_total",
			Help: "Messages on ANALYZED that were not a known analyzed article and were terminated.",
		}),
	}
}

package fetcher

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// Metrics are the fetcher's Prometheus metrics.
type Metrics struct {
	Polls              *prometheus.CounterVec
	PollDuration       prometheus.Histogram
	ExtractDuration    prometheus.Histogram
	FetchedBytes       prometheus.Counter
	Published          prometheus.Counter
	DuplicatesSkipped  prometheus.Counter
	ExtractionFailures *prometheus.CounterVec
	FeedsInBackoff     prometheus.Gauge
	FeedsFailing       prometheus.Gauge
	Feeds              prometheus.Gauge
	Revisions          prometheus.Counter
	LeasesHeld         prometheus.Gauge
	HostDeferrals      prometheus.Counter
	PublishLatency     prometheus.Histogram
	PublishFailures    *prometheus.CounterVec
}

// NewMetrics registers the fetcher's metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	f := promauto.With(reg)
	return &Metrics{
		Polls: f.NewCounterVec(prometheus.CounterOpts{
			Name: "newswatch_fetcher_polls_total",
			Help: "Feed polls by result (ok, not_modified, error, rate_limited, canceled).",
		}, []string{"result"}),
		PollDuration: f.NewHistogram(prometheus.HistogramOpts{
			Name:    "newswatch_fetcher_poll_duration_seconds",
			Help:    "Time to fetch and parse one feed, pages excluded.",
			Buckets: prometheus.ExponentialBuckets(0.01, 2, 12),
		}),
		ExtractDuration: f.NewHistogram(prometheus.HistogramOpts{
			Name:    "newswatch_fetcher_extraction_duration_seconds",
			Help:    "Time to fetch an article page and extract its body.",
			Buckets: prometheus.ExponentialBuckets(0.01, 2, 12),
		}),
		FetchedBytes: f.NewCounter(prometheus.CounterOpts{
			Name: "newswatch_fetcher_fetched_bytes_total",
			Help: "Bytes of feeds and pages fetched (after decompression).",
		}),
		Published: f.NewCounter(prometheus.CounterOpts{
			Name: "newswatch_fetcher_articles_published_total",
			Help: "Articles published to JetStream.",
		}),
		DuplicatesSkipped: f.NewCounter(prometheus.CounterOpts{
			Name: "newswatch_fetcher_duplicates_skipped_total",
			Help: "Feed items skipped because they were published before.",
		}),
		ExtractionFailures: f.NewCounterVec(prometheus.CounterOpts{
			Name: "newswatch_fetcher_extraction_failures_total",
			Help: "Article pages whose body could not be extracted, by reason; the feed summary is published instead.",
		}, []string{"reason"}),
		FeedsInBackoff: f.NewGauge(prometheus.GaugeOpts{
			Name: "newswatch_fetcher_feeds_in_backoff",
			Help: "Feeds whose last poll failed and that are polled with backoff.",
		}),
		FeedsFailing: f.NewGauge(prometheus.GaugeOpts{
			Name: "newswatch_fetcher_feeds_failing",
			Help: "Feeds that failed at least the reporting threshold of polls in a row.",
		}),
		Feeds: f.NewGauge(prometheus.GaugeOpts{
			Name: "newswatch_fetcher_feeds",
			Help: "Feeds this fetcher schedules (active, not paused); with leases, replicas share them.",
		}),
		Revisions: f.NewCounter(prometheus.CounterOpts{
			Name: "newswatch_fetcher_revisions_published_total",
			Help: "Articles published again, with the same id and the next revision number, because their page changed.",
		}),
		LeasesHeld: f.NewGauge(prometheus.GaugeOpts{
			Name: "newswatch_fetcher_leases_held",
			Help: "Feed leases this replica holds in newswatch_leases, i.e. feeds it polls.",
		}),
		HostDeferrals: f.NewCounter(prometheus.CounterOpts{
			Name: "newswatch_fetcher_host_deferrals_total",
			Help: "Due polls put back because their host already had its requests in flight or was inside its minimum gap.",
		}),
		PublishLatency: f.NewHistogram(prometheus.HistogramOpts{
			Name:    "newswatch_fetcher_publish_latency_seconds",
			Help:    "Time from a poll reading an item in its feed to the stream acknowledging the item's article.",
			Buckets: prometheus.ExponentialBuckets(0.05, 2, 14),
		}),
		PublishFailures: f.NewCounterVec(prometheus.CounterOpts{
			Name: "newswatch_fetcher_publish_failures_total",
			Help: "Articles the stream did not take, by reason: too_large (never retried; the item is remembered) or unavailable (retried at the next poll).",
		}, []string{"reason"}),
	}
}

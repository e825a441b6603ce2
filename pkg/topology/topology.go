// Package topology names newswatch's JetStream streams, subjects, consumers
// and KV buckets, and creates them idempotently. docs/events.md is the
// reference for everything named here.
package topology

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/newswatch/newswatch/pkg/config"
	"github.com/newswatch/newswatch/pkg/watches"
)

// Streams.
const (
	StreamArticles   = "ARTICLES"
	StreamAnalyzed   = "ANALYZED"
	StreamAlerts     = "ALERTS"
	StreamDeadLetter = "DEADLETTER"
)

// Durable pull consumers.
const (
	ConsumerAnalyzer = "analyzer" // on ARTICLES
	ConsumerNotifier = "notifier" // on ANALYZED
	ConsumerDelivery = "delivery" // on ALERTS in earlier versions; delivery now runs one consumer per sink (delivery.ConsumerName) and deletes this one
)

// KV buckets.
const (
	BucketFeeds      = "newswatch_feeds"
	BucketFeedState  = "newswatch_feed_state"
	BucketSeen       = "newswatch_seen"
	BucketLeases     = "newswatch_leases"
	BucketWatches    = watches.Bucket
	BucketAlerted    = "newswatch_alerted"
	BucketStories    = "newswatch_stories"
	BucketSilences   = "newswatch_silences"
	BucketDeliveries = "newswatch_deliveries"
	BucketRates      = "newswatch_rates"
	BucketDigests    = "newswatch_digests"
)

// ErrSetup is wrapped by every failure to create the topology.
var ErrSetup = errors.New("topology: cannot create JetStream objects")

// ArticleSubject is where the fetcher publishes an article of a feed.
func ArticleSubject(feedID string) string { return "news.articles." + feedID }

// AnalyzedSubject is where the analyzer publishes an analyzed article.
func AnalyzedSubject(feedID string) string { return "news.analyzed." + feedID }

// AlertSubject is where the notifier publishes the alerts of a watch.
func AlertSubject(watchID string) string { return "alerts." + watchID }

// DeadLetterSubject is where undeliverable alerts of a sink go.
func DeadLetterSubject(sink string) string { return "deadletter." + sink }

// Topology creates streams, consumers and buckets from the configuration.
type Topology struct {
	js  jetstream.JetStream
	cfg *config.Config
}

// New returns a Topology for js.
func New(js jetstream.JetStream, cfg *config.Config) *Topology { return &Topology{js: js, cfg: cfg} }

func (t *Topology) stream(name, subjects string, l config.StreamLimits, discard jetstream.DiscardPolicy) jetstream.StreamConfig {
	return jetstream.StreamConfig{
		Name:       name,
		Subjects:   []string{subjects},
		Storage:    jetstream.FileStorage,
		Retention:  jetstream.LimitsPolicy,
		Replicas:   t.cfg.NATS.Replicas,
		MaxAge:     l.MaxAge,
		MaxBytes:   l.MaxBytes,
		MaxMsgs:    maxMsgs(l.MaxMsgs),
		Duplicates: l.DuplicateWindow,
		Discard:    discard,
	}
}

// StreamConfigs returns the configuration of every stream.
func (t *Topology) StreamConfigs() []jetstream.StreamConfig {
	s := t.cfg.Streams
	return []jetstream.StreamConfig{
		// Articles and analyzed articles are a working queue with history:
		// at the limit the oldest go, the pipeline keeps moving.
		t.stream(StreamArticles, "news.articles.>", s.Articles, jetstream.DiscardOld),
		t.stream(StreamAnalyzed, "news.analyzed.>", s.Analyzed, jetstream.DiscardOld),
		// Alerts are the record analysts query; at the limit the oldest go.
		t.stream(StreamAlerts, "alerts.>", s.Alerts, jetstream.DiscardOld),
		// Dead letters wait for an operator: refuse new ones rather than
		// silently losing old ones.
		t.stream(StreamDeadLetter, "deadletter.>", config.StreamLimits{MaxAge: 30 * 24 * time.Hour, MaxBytes: 256 << 20, DuplicateWindow: 2 * time.Hour}, jetstream.DiscardNew),
	}
}

// EnsureStreams creates or updates every stream.
func (t *Topology) EnsureStreams(ctx context.Context) error {
	for _, sc := range t.StreamConfigs() {
		if _, err := t.js.CreateOrUpdateStream(ctx, sc); err != nil {
			return fmt.Errorf("%w: stream %s: %v", ErrSetup, sc.Name, err)
		}
	}
	return nil
}

// Consumer creates or updates a durable pull consumer with explicit acks.
func (t *Topology) Consumer(ctx context.Context, stream, durable string, ackWait time.Duration, maxDeliver int) (jetstream.Consumer, error) {
	c, err := t.js.CreateOrUpdateConsumer(ctx, stream, jetstream.ConsumerConfig{
		Durable:       durable,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       ackWait,
		MaxDeliver:    maxDeliver,
		DeliverPolicy: jetstream.DeliverAllPolicy,
		Replicas:      t.cfg.NATS.Replicas,
	})
	if err != nil {
		return nil, fmt.Errorf("%w: consumer %s on %s: %v", ErrSetup, durable, stream, err)
	}
	return c, nil
}

// KV creates or updates a bucket; ttl 0 keeps entries until deleted.
func (t *Topology) KV(ctx context.Context, bucket string, ttl time.Duration, history uint8) (jetstream.KeyValue, error) {
	if history == 0 {
		history = 1
	}
	kv, err := t.js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:   bucket,
		TTL:      ttl,
		History:  history,
		Storage:  jetstream.FileStorage,
		Replicas: t.cfg.NATS.Replicas,
		MaxBytes: t.cfg.Streams.KVMaxBytes,
	})
	if err != nil {
		return nil, fmt.Errorf("%w: KV bucket %s: %v", ErrSetup, bucket, err)
	}
	return kv, nil
}

func maxMsgs(n int64) int64 {
	if n == 0 {
		return -1
	}
	return n
}

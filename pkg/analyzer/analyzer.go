// Package analyzer turns articles into analyzed articles: topic flags with
// their evidence, entities with every mention, and a story id shared by the
// copies of one story. It consumes ARTICLES and publishes to ANALYZED.
package analyzer

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/newswatch/newswatch/pkg/consume"
	"github.com/newswatch/newswatch/pkg/entities"
	"github.com/newswatch/newswatch/pkg/events"
	"github.com/newswatch/newswatch/pkg/story"
	"github.com/newswatch/newswatch/pkg/topics"
	"github.com/newswatch/newswatch/pkg/topology"
)

// Metrics are the analyzer's Prometheus metrics.
type Metrics struct {
	Articles    prometheus.Counter
	TopicFlags  *prometheus.CounterVec
	Duration    prometheus.Histogram
	Undecodable prometheus.Counter
}

// NewMetrics registers the analyzer's metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	f := promauto.With(reg)
	return &Metrics{
		Articles: f.NewCounter(prometheus.CounterOpts{
			Name: "newswatch_analyzer_articles_total",
			Help: "Articles analysed and published to ANALYZED.",
		}),
		TopicFlags: f.NewCounterVec(prometheus.CounterOpts{
			Name: "newswatch_analyzer_topic_flags_total",
			Help: "Topic flags raised, by topic.",
		}, []string{"topic"}),
		Duration: f.NewHistogram(prometheus.HistogramOpts{
			Name:    "newswatch_analyzer_analysis_duration_seconds",
			Help:    "Time to analyse one article (topics, entities, story).",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2, 14),
		}),
		Undecodable: f.NewCounter(prometheus.CounterOpts{
			Name: "newswatch_analyzer_undecodable_messages_total",
			Help: "Messages on ARTICLES that were not a known article and were terminated.",
		}),
	}
}

// EntityFinder finds entities; *entities.Gazetteer implements it.
type EntityFinder interface {
	Find(title, text string) []events.Entity
}

// StoryAssigner gives an article the id of its story; *story.Index implements it.
type StoryAssigner interface {
	Assign(ctx context.Context, articleID, title, text string, published time.Time) (string, error)
}

var (
	_ EntityFinder  = (*entities.Gazetteer)(nil)
	_ StoryAssigner = (*story.Index)(nil)
)

// Analyzer analyses articles.
type Analyzer struct {
	classifier *topics.Classifier
	gazetteer  EntityFinder
	stories    StoryAssigner
	metrics    *Metrics
	now        func() time.Time
}

// New returns an analyzer. stories may be nil, in which case each article
// is its own story.
func New(c *topics.Classifier, g EntityFinder, stories StoryAssigner, m *Metrics) *Analyzer {
	return &Analyzer{classifier: c, gazetteer: g, stories: stories, metrics: m, now: time.Now}
}

// Analyze judges one article.
func (a *Analyzer) Analyze(ctx context.Context, art events.Article) (events.AnalyzedArticle, error) {
	out := events.AnalyzedArticle{
		Schema:   events.AnalyzedArticleSchema,
		Article:  art,
		Topics:   a.classifier.Classify(art.Title, art.Text),
		Entities: a.gazetteer.Find(art.Title, art.Text),
		StoryID:  "s-" + art.ID,
	}
	if out.Topics == nil {
		out.Topics = []events.Topic{}
	}
	if out.Entities == nil {
		out.Entities = []events.Entity{}
	}
	if a.stories != nil {
		id, err := a.stories.Assign(ctx, art.ID, art.Title, art.Text, art.PublishedAt)
		if err != nil {
			return out, fmt.Errorf("analyzer: story of article %s: %w", art.ID, err)
		}
		out.StoryID = id
	}
	out.AnalyzedAt = a.now().UTC()
	return out, nil
}

// Handler returns the consumer handler that analyses an ARTICLES message and
// publishes the result.
func (a *Analyzer) Handler(js jetstream.JetStream) consume.Handler {
	return func(ctx context.Context, msg jetstream.Msg) error {
		start := time.Now()
		var art events.Article
		if err := json.Unmarshal(msg.Data(), &art); err != nil {
			a.metrics.Undecodable.Inc()
			return consume.Poison(fmt.Errorf("analyzer: decoding %s: %w", msg.Subject(), err))
		}
		if art.Schema != events.ArticleSchema || art.ID == "" {
			a.metrics.Undecodable.Inc()
			return consume.Poison(fmt.Errorf("analyzer: %s carries schema %q id %q; want %s with an id", msg.Subject(), art.Schema, art.ID, events.ArticleSchema))
		}
		out, err := a.Analyze(ctx, art)
		if err != nil {
			return err
		}
		data, err := json.Marshal(out)
		if err != nil {
			return consume.Poison(err)
		}
		msgID := art.ID + "-r" + strconv.Itoa(art.Revision)
		if _, err := js.Publish(ctx, topology.AnalyzedSubject(art.Feed), data, jetstream.WithMsgID(msgID)); err != nil {
			return fmt.Errorf("analyzer: publishing %s to %s: %w", art.ID, topology.StreamAnalyzed, err)
		}
		a.metrics.Articles.Inc()
		for _, t := range out.Topics {
			a.metrics.TopicFlags.WithLabelValues(t.Name).Inc()
		}
		a.metrics.Duration.Observe(time.Since(start).Seconds())
		return nil
	}
}

// Run consumes ARTICLES through cons until ctx ends.
func (a *Analyzer) Run(ctx context.Context, js jetstream.JetStream, cons jetstream.Consumer, logger *slog.Logger) error {
	return consume.Run(ctx, cons, topology.ConsumerAnalyzer, a.Handler(js), logger.With("component", "analyzer"), 5*time.Second)
}

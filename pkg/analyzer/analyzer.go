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
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/newswatch/newswatch/pkg/consume"
	"github.com/newswatch/newswatch/pkg/entities"
	"github.com/newswatch/newswatch/pkg/events"
	"github.com/newswatch/newswatch/pkg/scan"
	"github.com/newswatch/newswatch/pkg/story"
	"github.com/newswatch/newswatch/pkg/topics"
	"github.com/newswatch/newswatch/pkg/topology"
	"github.com/newswatch/newswatch/pkg/watchset"
)

// Metrics are the analyzer's Prometheus metrics.
type Metrics struct {
	Articles    prometheus.Counter
	TopicFlags  *prometheus.CounterVec
	Duration    prometheus.Histogram
	Undecodable prometheus.Counter
	Terms       prometheus.Gauge
	WatchesRev  prometheus.Gauge
	Trimmed     prometheus.Counter
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
		Terms: f.NewGauge(prometheus.GaugeOpts{
			Name: "newswatch_analyzer_dictionary_terms",
			Help: "Terms of the taxonomy, the gazetteer and the watches in the analyzer's one automaton.",
		}),
		WatchesRev: f.NewGauge(prometheus.GaugeOpts{
			Name: "newswatch_analyzer_watches_revision",
			Help: "Revision of the newswatch_watches bucket the analyzer evaluates watches at; 0 until it has read the bucket.",
		}),
		Trimmed: f.NewCounter(prometheus.CounterOpts{
			Name: "newswatch_analyzer_trimmed_total",
			Help: "Analyzed articles whose evidence, mentions, matched terms (and at worst the end of the text) were trimmed to fit the NATS max payload.",
		}),
	}
}

// StoryAssigner gives an article the id of its story from the MinHash
// signature of its normalised text; *story.Index implements it.
type StoryAssigner interface {
	AssignSignature(ctx context.Context, articleID string, sig story.Signature, published time.Time) (string, error)
}

var _ StoryAssigner = (*story.Index)(nil)

// Dictionaries of the analyzer's one machine, in Compile order.
const (
	listTopics int32 = iota
	listEntities
	listWatches
)

// Analyzer analyses articles.
type Analyzer struct {
	classifier *topics.Classifier
	gazetteer  *entities.Gazetteer
	stories    StoryAssigner
	metrics    *Metrics
	now        func() time.Time
	matcher    atomic.Pointer[matcher]
	pool       sync.Pool // *scratch
}

// matcher is the one automaton over the taxonomy, the gazetteer and the
// watches, rebuilt whenever the watches change.
type matcher struct {
	machine *scan.Machine
	watches *watchset.Set // nil until SetWatches
}

type scratch struct {
	doc  scan.Doc
	hits []scan.Hit
}

// New returns an analyzer. stories may be nil, in which case each article
// is its own story. Until SetWatches is called the analyzer evaluates no
// watches and says so in its output, so the notifier evaluates them.
func New(c *topics.Classifier, g *entities.Gazetteer, stories StoryAssigner, m *Metrics) (*Analyzer, error) {
	a := &Analyzer{classifier: c, gazetteer: g, stories: stories, metrics: m, now: time.Now}
	a.pool.New = func() any { return &scratch{hits: make([]scan.Hit, 0, 1024)} }
	if err := a.SetWatches(nil); err != nil {
		return nil, err
	}
	return a, nil
}

// SetWatches rebuilds the analyzer's automaton with the terms of ws; nil
// means that the analyzer does not know the watches. Articles analysed
// from then on carry ws's results.
func (a *Analyzer) SetWatches(ws *watchset.Set) error {
	lists := [][]scan.Term{a.classifier.Terms(), a.gazetteer.Terms()}
	var rev uint64
	if ws != nil {
		lists = append(lists, ws.Terms())
		rev = ws.Revision()
	}
	m, err := scan.Compile(lists...)
	if err != nil {
		return fmt.Errorf("analyzer: compiling the taxonomy, gazetteer and watches: %w", err)
	}
	a.matcher.Store(&matcher{machine: m, watches: ws})
	n := 0
	for _, l := range lists {
		n += len(l)
	}
	a.metrics.Terms.Set(float64(n))
	a.metrics.WatchesRev.Set(float64(rev))
	return nil
}

// Analyze judges one article: it normalises title and text once, matches
// every term of the taxonomy, the gazetteer and the watches in one pass,
// and hands the same occurrences to the classifier, the gazetteer and the
// watches; the story signature is computed from the same normalised words.
func (a *Analyzer) Analyze(ctx context.Context, art events.Article) (events.AnalyzedArticle, error) {
	mt := a.matcher.Load()
	sc := a.pool.Get().(*scratch)
	defer func() {
		sc.doc.Title, sc.doc.Text = "", "" // keep no article alive in the pool
		a.pool.Put(sc)
	}()
	sc.doc.Normalize(art.Title, art.Text)
	sc.hits = mt.machine.Scan(&sc.doc, sc.hits[:0])

	out := events.AnalyzedArticle{
		Schema:   events.AnalyzedArticleSchema,
		Article:  art,
		Topics:   a.classifier.ClassifyDoc(&sc.doc, sc.hits, listTopics),
		Entities: a.gazetteer.FindDoc(&sc.doc, sc.hits, listEntities),
		StoryID:  "s-" + art.ID,
	}
	if out.Topics == nil {
		out.Topics = []events.Topic{}
	}
	if out.Entities == nil {
		out.Entities = []events.Entity{}
	}
	if ws := mt.watches; ws != nil {
		out.Watches = &events.WatchResults{
			Revision: ws.Revision(),
			Set:      ws.Key(),
			Matches:  ws.Match(&sc.doc, sc.hits, listWatches, watchset.Meta(art, out.Topics)),
		}
		if out.Watches.Matches == nil {
			out.Watches.Matches = []events.WatchMatch{}
		}
	}
	if a.stories != nil {
		id, err := a.stories.AssignSignature(ctx, art.ID, story.FingerprintDoc(&sc.doc), art.PublishedAt)
		if err != nil {
			return out, fmt.Errorf("analyzer: story of article %s: %w", art.ID, err)
		}
		out.StoryID = id
	}
	out.AnalyzedAt = a.now().UTC()
	return out, nil
}

// ReplayHeader marks an ARTICLES message republished by `newswatch replay`;
// its value names the replay run.
const ReplayHeader = "Newswatch-Replay"

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
		// The feed id becomes a subject token of news.analyzed.<feed>.
		if art.Feed == "" || strings.ContainsAny(art.Feed, ".*> \t\r\n") {
			a.metrics.Undecodable.Inc()
			return consume.Poison(fmt.Errorf("analyzer: %s carries feed %q, which cannot name a subject", msg.Subject(), art.Feed))
		}
		out, err := a.Analyze(ctx, art)
		if err != nil {
			return err
		}
		// An analyzed form over the server's max payload is trimmed to
		// fit, never failed: a publish that can never succeed would
		// otherwise be redelivered until it is dead-lettered.
		data, trimmed, err := fit(&out, maxPayload(js))
		if err != nil {
			return consume.Poison(err)
		}
		if trimmed {
			a.metrics.Trimmed.Inc()
		}
		msgID := art.ID + "-r" + strconv.Itoa(art.Revision)
		if run := msg.Headers().Get(ReplayHeader); run != "" {
			// A replay's analysis must not be dropped as a duplicate of the
			// first one; the notifier still alerts once per story.
			msgID += "-replay-" + run
		}
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

// maxPayload is the largest message js's server takes, less room for the
// headers a publish adds; 0 when unknown.
func maxPayload(js jetstream.JetStream) int {
	nc := js.Conn()
	if nc == nil || nc.MaxPayload() <= 0 {
		return 0
	}
	return int(nc.MaxPayload()) - 1024
}

// Workers is how many ARTICLES messages an analyzer handles at once, so that
// one article's analysis overlaps another's KV and publish round trips.
// Their story assignments are ordered by the stories bucket, as those of
// several analyzers are.
const Workers = 4

// Run consumes ARTICLES through cons until ctx ends, Workers messages at a
// time; opts choose the dead-lettering and backoff of failed messages.
func (a *Analyzer) Run(ctx context.Context, js jetstream.JetStream, cons jetstream.Consumer, logger *slog.Logger, opts ...consume.Option) error {
	h, log := a.Handler(js), logger.With("component", "analyzer")
	return consume.Parallel(ctx, Workers, func(ctx context.Context) error {
		return consume.Run(ctx, cons, topology.ConsumerAnalyzer, h, log, 5*time.Second, opts...)
	})
}

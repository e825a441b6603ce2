// Package app wires newswatch's components from a configuration: the
// embedded NATS server when no nats.url is set, the JetStream topology, the
// status server and any of the fetcher, analyzer and notifier workers. The
// all-in-one command and the three worker binaries all start through it.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/newswatch/newswatch/pkg/analyzer"
	"github.com/newswatch/newswatch/pkg/config"
	"github.com/newswatch/newswatch/pkg/consume"
	"github.com/newswatch/newswatch/pkg/delivery"
	"github.com/newswatch/newswatch/pkg/embedded"
	"github.com/newswatch/newswatch/pkg/entities"
	"github.com/newswatch/newswatch/pkg/fetcher"
	"github.com/newswatch/newswatch/pkg/natsconn"
	"github.com/newswatch/newswatch/pkg/notifier"
	"github.com/newswatch/newswatch/pkg/silences"
	"github.com/newswatch/newswatch/pkg/statusserver"
	"github.com/newswatch/newswatch/pkg/story"
	"github.com/newswatch/newswatch/pkg/topics"
	"github.com/newswatch/newswatch/pkg/topology"
	watchstore "github.com/newswatch/newswatch/pkg/watches"
	"github.com/newswatch/newswatch/pkg/watchset"
)

// Component names.
const (
	Fetcher  = "fetcher"
	Analyzer = "analyzer"
	Notifier = "notifier"
)

// All is every worker, as the all-in-one runs them.
var All = []string{Fetcher, Analyzer, Notifier}

// ErrNeedsNATS is returned when a standalone worker has no server to join.
var ErrNeedsNATS = errors.New("app: no NATS server to connect to")

// App is a running set of components.
type App struct {
	cfg     *config.Config
	logger  *slog.Logger
	server  *embedded.Server
	nc      *nats.Conn
	js      jetstream.JetStream
	status  *statusserver.Server
	fetcher *fetcher.Fetcher
	// onWatches receive every new set of watches from the one follower of
	// the watches bucket; the analyzer and the notifier share it.
	onWatches []func(*watchset.Set)
	watchKV   jetstream.KeyValue
	// watchesRead closes when the first state of the watches bucket has
	// been compiled, so the analyzer evaluates watches from its first
	// article on.
	watchesRead chan struct{}
	// The gazetteer, classifier, watches, sinks and extractor are built
	// once, before anything starts, so a bad config fails before a server
	// runs (prepare).
	*parts
	components []string
	cancel     context.CancelFunc
	wg         sync.WaitGroup
	errMu      sync.Mutex
	err        error
	// failed closes when a component stops on its own (with an error, or
	// without one before Stop): the others are cancelled and the process
	// should exit non-zero so that the orchestrator restarts it.
	failed    chan struct{}
	failOnce  sync.Once
	runningMu sync.Mutex
	running   map[string]bool
}

// Start starts the named components. With embedded set and no nats.url in
// cfg it runs an embedded NATS server first.
func Start(ctx context.Context, cfg *config.Config, components []string, embed bool, logger *slog.Logger) (*App, error) {
	a := &App{cfg: cfg, logger: logger, components: components, watchesRead: make(chan struct{}),
		failed: make(chan struct{}), running: map[string]bool{}}
	ok := false
	defer func() {
		if !ok {
			a.Stop()
		}
	}()
	// Everything the config describes is built and checked before any
	// server starts or any request leaves the process.
	p, err := prepare(cfg, components)
	if err != nil {
		return nil, err
	}
	a.parts = p
	url := cfg.NATS.URL
	if url == "" {
		if !embed {
			return nil, fmt.Errorf("%w: set nats.url in the config, NEWSWATCH_NATS_URL or -nats-url (or run `newswatch run`, which embeds a server)", ErrNeedsNATS)
		}
		user, password, token, err := natsconn.Credentials(cfg.NATS)
		if err != nil {
			return nil, err
		}
		srv, err := embedded.Start(cfg.NATS.Listen, cfg.NATS.StoreDir,
			embedded.WithToken(token), embedded.WithUser(user, password),
			embedded.WithTLS(cfg.NATS.EmbeddedTLS.CertFile, cfg.NATS.EmbeddedTLS.KeyFile))
		if err != nil {
			return nil, err
		}
		a.server = srv
		url = srv.ClientURL()
		logger.Info("embedded NATS server with JetStream running", "url", url, "store_dir", cfg.NATS.StoreDir)
	}
	nc, err := natsconn.Connect(url, cfg.NATS, "newswatch", logger)
	if err != nil {
		return nil, err
	}
	a.nc = nc
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, fmt.Errorf("app: JetStream: %w", err)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	js = topology.CountPublishErrors(js, reg)
	a.js = js
	status, err := statusserver.New(cfg.HTTP.Listen, reg, statusserver.WithPprof(cfg.HTTP.Pprof))
	if err != nil {
		return nil, err
	}
	a.status = status

	setupCtx, cancelSetup := context.WithTimeout(ctx, 30*time.Second)
	defer cancelSetup()
	topo := topology.New(js, cfg)
	if err := topo.EnsureStreams(setupCtx); err != nil {
		return nil, err
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	a.cancel = cancel
	a.goRun(runCtx, "status", func() error { return status.Serve(runCtx, logger) })
	lag := consume.NewLagMetrics(reg)
	consumeMetrics := consume.NewMetrics(reg)
	consumeOpts := []consume.Option{
		consume.WithDeadLetter(js, consumeMetrics),
		consume.WithBackoff(cfg.Consumers.MaxDeliveries, cfg.Consumers.Backoff),
	}

	for _, c := range components {
		switch c {
		case Fetcher:
			f, err := a.buildFetcher(setupCtx, topo, reg)
			if err != nil {
				return nil, err
			}
			a.fetcher = f
			a.goRun(runCtx, Fetcher, func() error { return f.Run(runCtx) })
			feeds, err := topo.KV(setupCtx, topology.BucketFeeds, 0, 1)
			if err != nil {
				return nil, err
			}
			status.AddCheck("fetcher", a.fetcherReady(feeds))
			status.AddDetail("feeds", feedHealth(reg))
		case Analyzer:
			an, err := a.buildAnalyzer(setupCtx, topo, reg)
			if err != nil {
				return nil, err
			}
			cons, err := topo.Consumer(setupCtx, topology.StreamArticles, topology.ConsumerAnalyzer, 30*time.Second, cfg.Consumers.MaxDeliveries)
			if err != nil {
				return nil, err
			}
			status.AddCheck("consumer "+topology.ConsumerAnalyzer, consumerExists(cons))
			status.AddCheck(Analyzer, a.runningCheck(Analyzer))
			a.goRun(runCtx, Analyzer, func() error {
				select {
				case <-a.watchesRead:
				case <-time.After(10 * time.Second):
					logger.Warn("analyzer starting before the watches bucket was read; the notifier evaluates watches until it is", "bucket", topology.BucketWatches)
				case <-runCtx.Done():
					return nil
				}
				return an.Run(runCtx, js, cons, logger, consumeOpts...)
			})
			a.goRun(runCtx, "lag-"+Analyzer, func() error { lag.Watch(runCtx, js, cons, 15*time.Second); return nil })
			a.goRun(runCtx, "usage-stories", func() error { lag.WatchStream(runCtx, js, "KV_"+topology.BucketStories, time.Minute); return nil })
		case Notifier:
			n, err := a.buildNotifier(setupCtx, topo, reg)
			if err != nil {
				return nil, err
			}
			cons, err := topo.Consumer(setupCtx, topology.StreamAnalyzed, topology.ConsumerNotifier, 30*time.Second, cfg.Consumers.MaxDeliveries)
			if err != nil {
				return nil, err
			}
			status.AddCheck("consumer "+topology.ConsumerNotifier, consumerExists(cons))
			status.AddCheck(Notifier, a.runningCheck(Notifier))
			// Each sink's consumer exists before the notifier publishes an alert.
			d, err := a.buildDelivery(setupCtx, topo, reg, n.Watch)
			if err != nil {
				return nil, err
			}
			if err := d.Setup(setupCtx); err != nil {
				return nil, err
			}
			for _, dcons := range d.Consumers() {
				status.AddCheck("consumer "+dcons.CachedInfo().Name, consumerExists(dcons))
				a.goRun(runCtx, "lag-"+dcons.CachedInfo().Name, func() error { lag.Watch(runCtx, js, dcons, 15*time.Second); return nil })
			}
			status.AddCheck("delivery", a.runningCheck("delivery"))
			a.goRun(runCtx, Notifier, func() error { return n.Run(runCtx, cons, consumeOpts...) })
			a.goRun(runCtx, "delivery", func() error { return d.Run(runCtx) })
			a.goRun(runCtx, "lag-"+Notifier, func() error { lag.Watch(runCtx, js, cons, 15*time.Second); return nil })
			a.goRun(runCtx, "usage-alerted", func() error { lag.WatchStream(runCtx, js, "KV_"+topology.BucketAlerted, time.Minute); return nil })
		}
	}
	if len(a.onWatches) > 0 {
		status.AddCheck("watches", a.runningCheck("watches"))
		a.goRun(runCtx, "watches", func() error { return a.followWatches(runCtx, reg) })
	}
	status.AddCheck("nats", func() error {
		if !nc.IsConnected() {
			return errors.New("not connected to NATS")
		}
		return nil
	})
	logger.Info("newswatch started", "components", components, "http_listen", status.Addr())
	ok = true
	return a, nil
}

// Gazetteer builds the entity gazetteer: the built-in entries plus those of
// analyzer.gazetteer_file.
func Gazetteer(cfg *config.Config) (*entities.Gazetteer, error) {
	entries := entities.DefaultEntries()
	if f := cfg.Analyzer.GazetteerFile; f != "" {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("app: analyzer.gazetteer_file: %w (fix the path, or remove the key to use only the built-in entries)", err)
		}
		extra, err := entities.ParseEntries(b)
		if err != nil {
			return nil, fmt.Errorf("app: analyzer.gazetteer_file %s: %w", f, err)
		}
		entries = append(entries, extra...)
	}
	return entities.New(entries)
}

// Classifier builds the topic classifier from analyzer.taxonomy_file or the
// built-in taxonomy.
func Classifier(cfg *config.Config) (*topics.Classifier, error) {
	tax := topics.DefaultTaxonomy()
	if f := cfg.Analyzer.TaxonomyFile; f != "" {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("app: analyzer.taxonomy_file: %w (fix the path, or remove the key to use the built-in taxonomy)", err)
		}
		if tax, err = topics.ParseTaxonomy(b); err != nil {
			return nil, fmt.Errorf("app: analyzer.taxonomy_file %s: %w", f, err)
		}
	}
	m, err := TopicModel(cfg)
	if err != nil {
		return nil, err
	}
	return topics.New(tax, topics.WithModel(m))
}

// TopicModel returns the built-in topic model with the topics of
// analyzer.topic_model_file merged over it.
func TopicModel(cfg *config.Config) (*topics.Model, error) {
	m := topics.DefaultModel()
	f := cfg.Analyzer.TopicModelFile
	if f == "" {
		return m, nil
	}
	b, err := os.ReadFile(f)
	if err != nil {
		return nil, fmt.Errorf("app: analyzer.topic_model_file: %w (fix the path, or remove the key to use the built-in model)", err)
	}
	user, err := topics.ParseModel(b)
	if err != nil {
		return nil, fmt.Errorf("app: analyzer.topic_model_file %s: %w", f, err)
	}
	if m, err = m.Merge(user); err != nil {
		return nil, fmt.Errorf("app: analyzer.topic_model_file %s: %w", f, err)
	}
	return m, nil
}

func (a *App) buildAnalyzer(ctx context.Context, topo *topology.Topology, reg prometheus.Registerer) (*analyzer.Analyzer, error) {
	cl := a.classifier
	kv, err := topo.KV(ctx, topology.BucketStories, story.Retention(a.cfg.Analyzer.StoryWindow), 1)
	if err != nil {
		return nil, err
	}
	stories := story.New(kv, story.WithThreshold(a.cfg.Analyzer.StoryThreshold), story.WithWindow(a.cfg.Analyzer.StoryWindow), story.WithMetrics(story.NewMetrics(reg)))
	an, err := analyzer.New(cl, a.gazetteer, stories, analyzer.NewMetrics(reg))
	if err != nil {
		return nil, err
	}
	if _, err := a.watchBucket(ctx, topo); err != nil {
		return nil, err
	}
	a.onWatches = append(a.onWatches, func(ws *watchset.Set) {
		if err := an.SetWatches(ws); err != nil {
			a.logger.Error("keeping the previous watches in the analyzer", "err", err)
		}
	})
	return an, nil
}

// watchBucket opens (creating if needed) the watches bucket, once.
func (a *App) watchBucket(ctx context.Context, topo *topology.Topology) (jetstream.KeyValue, error) {
	if a.watchKV == nil {
		kv, err := topo.KV(ctx, topology.BucketWatches, 0, 5)
		if err != nil {
			return nil, err
		}
		a.watchKV = kv
	}
	return a.watchKV, nil
}

// followWatches compiles every new state of the watches bucket once and
// hands it to the analyzer and the notifier. Entries that are not valid
// watches (and those naming a sink the config does not have) are left out
// and counted in newswatch_watches_invalid.
func (a *App) followWatches(ctx context.Context, reg prometheus.Registerer) error {
	gz := a.gazetteer
	m := watchstore.NewMetrics(reg)
	// Sinks are checked wherever the config lists them (one config for
	// every worker, as in k8s/), so that analyzer and notifier leave out
	// the same watches and agree on the compiled set. A worker whose config
	// lists no sinks, and runs no notifier, cannot tell.
	var opts []watchstore.Option
	if len(a.cfg.Sinks) > 0 || slices.Contains(a.components, Notifier) {
		opts = append(opts, watchstore.WithSinks(a.cfg.HasSink))
	}
	var once sync.Once
	return watchstore.New(a.watchKV, opts...).Follow(ctx, a.logger, func(ws []config.Watch, invalid int, revision uint64) {
		set, badQueries := watchset.CompileValid(ws, revision, gz.Aliases, a.logger)
		m.Invalid.Set(float64(invalid + badQueries))
		for _, f := range a.onWatches {
			f(set)
		}
		once.Do(func() { close(a.watchesRead) })
	})
}

func (a *App) buildNotifier(ctx context.Context, topo *topology.Topology, reg prometheus.Registerer) (*notifier.Notifier, error) {
	watches := a.watches
	alerted, err := topo.KV(ctx, topology.BucketAlerted, 0, 1)
	if err != nil {
		return nil, err
	}
	kv, err := a.watchBucket(ctx, topo)
	if err != nil {
		return nil, err
	}
	// The config file's watches seed the bucket; an operator's change to
	// a seeded watch stays until its config entry changes. The bucket may
	// hold more, added at run time with `newswatch watch add`.
	if err := watchstore.New(kv).ApplyConfig(ctx, a.cfg.Watches); err != nil {
		return nil, err
	}
	skv, err := topo.KV(ctx, topology.BucketSilences, 0, 1)
	if err != nil {
		return nil, err
	}
	n := notifier.New(a.js, alerted, watches, notifier.NewMetrics(reg), a.logger, notifier.WithSilences(silences.New(skv)))
	a.onWatches = append(a.onWatches, n.SetWatches)
	return n, nil
}

// buildDelivery builds the deliverer; watchOf gives the current watches
// (the notifier's), whose sinks, rate limits and digests delivery applies.
func (a *App) buildDelivery(ctx context.Context, topo *topology.Topology, reg prometheus.Registerer, watchOf func(string) (config.Watch, bool)) (*delivery.Deliverer, error) {
	// Each sink has its own client, network policy and timeout (built in
	// prepare); the fetcher's allow_private_networks does not apply to sinks.
	var (
		b   delivery.Buckets
		err error
	)
	for _, bk := range []struct {
		name string
		ttl  time.Duration
		dst  *jetstream.KeyValue
	}{
		{topology.BucketDeliveries, 30 * 24 * time.Hour, &b.Deliveries},
		{topology.BucketRates, 2 * time.Hour, &b.Rates},
		{topology.BucketDigests, 0, &b.Digests},
	} {
		if *bk.dst, err = topo.KV(ctx, bk.name, bk.ttl, 1); err != nil {
			return nil, err
		}
	}
	skv, err := topo.KV(ctx, topology.BucketSilences, 0, 1)
	if err != nil {
		return nil, err
	}
	return delivery.New(a.js, b, a.sinks, watchOf, a.cfg.Notifier.MaxDeliveries, delivery.NewMetrics(reg), a.logger,
		delivery.WithReplicas(a.cfg.NATS.Replicas), delivery.WithSilences(silences.New(skv))), nil
}

// goRun runs a long-lived component. One that stops on its own while ctx
// is live, with an error or without, is fatal: every other component is
// cancelled and Failed closes, so the process exits non-zero.
func (a *App) goRun(ctx context.Context, name string, f func() error) {
	a.setRunning(name, true)
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		err := f()
		a.setRunning(name, false)
		if ctx.Err() != nil {
			if err != nil && !errors.Is(err, context.Canceled) {
				a.logger.Error("component stopped", "component", name, "err", err)
				a.setErr(fmt.Errorf("%s: %w", name, err))
			}
			return
		}
		if err == nil {
			err = ErrStopped
		}
		a.logger.Error("component failed; stopping the others", "component", name, "err", err)
		a.setErr(fmt.Errorf("%s: %w", name, err))
		a.failOnce.Do(func() {
			close(a.failed)
			a.cancel()
		})
	}()
}

// ErrStopped is the error of a component that returned without one while
// it should have kept running.
var ErrStopped = errors.New("app: component stopped unexpectedly")

func (a *App) setErr(err error) {
	a.errMu.Lock()
	defer a.errMu.Unlock()
	if a.err == nil {
		a.err = err
	}
}

func (a *App) setRunning(name string, v bool) {
	a.runningMu.Lock()
	defer a.runningMu.Unlock()
	a.running[name] = v
}

// runningCheck is a readiness check: the component has not stopped.
func (a *App) runningCheck(name string) statusserver.ReadyFunc {
	return func() error {
		a.runningMu.Lock()
		defer a.runningMu.Unlock()
		if !a.running[name] {
			return fmt.Errorf("%s is not running", name)
		}
		return nil
	}
}

// fetcherReady is the fetcher's readiness check: its scheduler runs and
// the feeds bucket it polls from answers.
func (a *App) fetcherReady(feeds jetstream.KeyValue) statusserver.ReadyFunc {
	running := a.runningCheck(Fetcher)
	return func() error {
		if err := running(); err != nil {
			return err
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if _, err := feeds.Status(ctx); err != nil {
			return fmt.Errorf("feeds bucket %s unreachable: %w", topology.BucketFeeds, err)
		}
		return nil
	}
}

// Failed closes when a component has failed and the app has stopped the
// others; Stop returns the component's error.
func (a *App) Failed() <-chan struct{} { return a.failed }

// consumerExists is a readiness check: the durable consumer (and so its
// stream) exists on the server.
func consumerExists(c jetstream.Consumer) statusserver.ReadyFunc {
	return func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if _, err := c.Info(ctx); err != nil {
			return fmt.Errorf("consumer missing or unreachable: %w", err)
		}
		return nil
	}
}

// Conn is the NATS connection of the app.
func (a *App) Conn() *nats.Conn { return a.nc }

// JetStream is the JetStream context of the app.
func (a *App) JetStream() jetstream.JetStream { return a.js }

// FetcherWorker is the running fetcher, or nil.
func (a *App) FetcherWorker() *fetcher.Fetcher { return a.fetcher }

// StatusAddr is the address of /metrics, /healthz and /readyz.
func (a *App) StatusAddr() string { return a.status.Addr() }

// Stop stops the workers, drains the NATS connection and stops the
// embedded server. It returns the first error a component stopped with.
func (a *App) Stop() error {
	if a.cancel != nil {
		a.cancel()
	}
	a.wg.Wait()
	if a.nc != nil {
		if err := a.nc.Drain(); err == nil {
			for i := 0; i < 100 && !a.nc.IsClosed(); i++ {
				time.Sleep(50 * time.Millisecond)
			}
		}
		a.nc.Close()
	}
	if a.server != nil {
		a.server.Shutdown()
	}
	a.errMu.Lock()
	defer a.errMu.Unlock()
	return a.err
}

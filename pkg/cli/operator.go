package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/newswatch/newswatch/pkg/app"
	"github.com/newswatch/newswatch/pkg/config"
	"github.com/newswatch/newswatch/pkg/natsconn"
	"github.com/newswatch/newswatch/pkg/query"
	"github.com/newswatch/newswatch/pkg/topology"
	"github.com/newswatch/newswatch/pkg/watches"
)

// operator is the connection of an operator command (watch, feeds, alerts,
// ...) to a running newswatch's NATS server. Operator commands never start a
// server of their own.
type operator struct {
	cfg  *config.Config
	nc   *nats.Conn
	js   jetstream.JetStream
	topo *topology.Topology
}

// operatorFlags registers the flags every operator command takes.
func operatorFlags(fs *flag.FlagSet) *app.Flags {
	var f app.Flags
	fs.StringVar(&f.Config, "config", "", "YAML configuration `file` of the running newswatch")
	fs.StringVar(&f.NATSURL, "nats-url", "", "NATS server `URL`; overrides nats.url and NEWSWATCH_NATS_URL")
	return &f
}

// connectOperator connects to nats.url or, when the configuration runs an
// embedded server, to that server's nats.listen address.
func connectOperator(f *app.Flags) (*operator, error) {
	cfg, err := f.Load()
	if err != nil {
		return nil, err
	}
	url := cfg.NATS.URL
	if url == "" {
		url = "nats://" + cfg.NATS.Listen
	}
	nc, err := natsconn.Connect(url, cfg.NATS, "newswatch-cli", slog.New(slog.DiscardHandler))
	if err != nil {
		return nil, fmt.Errorf("%w; start newswatch first (newswatch run --config FILE) or pass -nats-url", err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, err
	}
	return &operator{cfg: cfg, nc: nc, js: js, topo: topology.New(js, cfg)}, nil
}

func (o *operator) Close() { o.nc.Close() }

func withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, 15*time.Second)
}

// checkWatch returns nil when the running newswatch has a watch id, and
// otherwise an error that lists the watches it has.
func (o *operator) checkWatch(ctx context.Context, id string) error {
	kv, err := o.topo.KV(ctx, topology.BucketWatches, 0, 5)
	if err != nil {
		return err
	}
	ws, err := watches.New(kv).List(ctx)
	if err != nil {
		return err
	}
	ids := make([]string, 0, len(ws))
	for _, e := range ws {
		if e.Key == id {
			return nil
		}
		ids = append(ids, e.Key)
	}
	return fmt.Errorf("no watch %q; the watches are: %s (newswatch watch list)", id, orNone(ids))
}

// checkedWatches lists the watches bucket with every entry checked as the
// analyzer and notifier check it: one that is not a valid watch, or whose
// query does not parse with the config's gazetteer (when it loads), has Err
// set.
func (o *operator) checkedWatches(ctx context.Context, store *watches.Store) ([]watches.Entry, error) {
	entries, err := store.List(ctx)
	if err != nil {
		return nil, err
	}
	gz, err := app.Gazetteer(o.cfg)
	if err != nil {
		return entries, nil
	}
	for i, e := range entries {
		if e.Err != nil {
			continue
		}
		if _, err := query.Parse(e.Watch.Query, query.WithAliases(gz.Aliases)); err != nil {
			entries[i].Err = err
		}
	}
	return entries, nil
}

// invalidWatches returns the entries of the watches bucket that are not
// valid watches (every analyzer and notifier skips them); none when the
// bucket does not exist yet.
func (o *operator) invalidWatches(ctx context.Context) ([]watches.Entry, error) {
	kv, err := o.js.KeyValue(ctx, topology.BucketWatches)
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", topology.BucketWatches, err)
	}
	es, err := o.checkedWatches(ctx, watches.New(kv))
	if err != nil {
		return nil, err
	}
	var bad []watches.Entry
	for _, e := range es {
		if e.Err != nil {
			bad = append(bad, e)
		}
	}
	return bad, nil
}

// orNone joins names for an error message.
func orNone(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

// checkSink returns nil when sink is one of the --config file's sinks: or has
// dead letters, and otherwise an error that lists both.
func (o *operator) checkSink(ctx context.Context, sink string) error {
	var configured, dead []string
	for _, s := range o.cfg.Sinks {
		if s.Name == sink {
			return nil
		}
		configured = append(configured, s.Name)
	}
	stream, err := o.js.Stream(ctx, topology.StreamDeadLetter)
	if err != nil && !errors.Is(err, jetstream.ErrStreamNotFound) {
		return err
	}
	if stream != nil {
		info, err := stream.Info(ctx, jetstream.WithSubjectFilter(topology.DeadLetterSubject(">")))
		if err != nil {
			return err
		}
		for subject := range info.State.Subjects {
			name := strings.TrimPrefix(subject, topology.DeadLetterSubject(""))
			if name == sink {
				return nil
			}
			dead = append(dead, name)
		}
	}
	return fmt.Errorf("no sink %q: the --config file's sinks are: %s; sinks with dead letters: %s", sink, orNone(configured), orNone(dead))
}

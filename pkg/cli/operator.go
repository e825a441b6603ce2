package cli

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/newswatch/newswatch/pkg/app"
	"github.com/newswatch/newswatch/pkg/config"
	"github.com/newswatch/newswatch/pkg/natsconn"
	"github.com/newswatch/newswatch/pkg/topology"
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

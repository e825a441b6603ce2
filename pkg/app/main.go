package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os/signal"
	"syscall"

	"github.com/newswatch/newswatch/pkg/config"
	"github.com/newswatch/newswatch/pkg/version"
)

// Flags are the flags every newswatch process takes.
type Flags struct {
	Config      string
	NATSURL     string
	HTTPListen  string
	ShowVersion bool
}

// Register adds -config, -nats-url, -http-listen and -version to fs.
func (f *Flags) Register(fs *flag.FlagSet) {
	fs.StringVar(&f.Config, "config", "", "YAML configuration `file` (see docs/config.md)")
	fs.StringVar(&f.NATSURL, "nats-url", "", "NATS server `URL`; overrides nats.url and NEWSWATCH_NATS_URL")
	fs.StringVar(&f.HTTPListen, "http-listen", "", "`address` of /metrics, /healthz and /readyz; overrides http.listen and NEWSWATCH_HTTP_LISTEN (give each process on one machine its own)")
	fs.BoolVar(&f.ShowVersion, "version", false, "print the version and exit")
}

// Load reads the configuration the flags name and applies -nats-url and
// -http-listen.
func (f *Flags) Load() (*config.Config, error) {
	cfg, err := config.Load(f.Config)
	if err != nil {
		return nil, err
	}
	if f.NATSURL != "" {
		cfg.NATS.URL = f.NATSURL
	}
	if f.HTTPListen != "" {
		cfg.HTTP.Listen = f.HTTPListen
	}
	return cfg, nil
}

// NewLogger builds the process logger from the log: section.
func NewLogger(c config.Log, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(c.Level))
	opts := &slog.HandlerOptions{Level: level}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// WorkerMain is the whole program of a standalone worker binary
// (cmd/fetcher, cmd/analyzer, cmd/notifier): it parses flags, loads the
// configuration, runs the component until SIGINT or SIGTERM and drains the
// NATS connection. It returns the exit code.
func WorkerMain(component string, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet(component, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var flags Flags
	flags.Register(fs)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if flags.ShowVersion {
		fmt.Fprintln(stdout, version.String(component))
		return 0
	}
	cfg, err := flags.Load()
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", component, err)
		return 1
	}
	logger := NewLogger(cfg.Log, stderr).With("service", component)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	return RunUntilDone(ctx, cfg, []string{component}, false, logger, stderr)
}

// RunUntilDone starts the components and stops them when ctx ends.
func RunUntilDone(ctx context.Context, cfg *config.Config, components []string, embed bool, logger *slog.Logger, stderr io.Writer) int {
	a, err := Start(ctx, cfg, components, embed, logger)
	if err != nil {
		// Name the binary: the fetcher, analyzer and notifier binaries run
		// one component each, newswatch runs them all.
		name := "newswatch"
		if !embed && len(components) == 1 {
			name = components[0]
		}
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return 1
	}
	<-ctx.Done()
	logger.Info("stopping: draining the NATS connection")
	if err := a.Stop(); err != nil {
		logger.Error("stopped with an error", "err", err)
		return 1
	}
	return 0
}

package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os/signal"
	"strings"
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
	// Check asks only for the config check (CheckMain).
	Check bool
}

// Register adds -config, -nats-url, -http-listen, -check and -version to fs.
func (f *Flags) Register(fs *flag.FlagSet) {
	fs.StringVar(&f.Config, "config", "", "YAML configuration `file` (see docs/config.md)")
	fs.StringVar(&f.NATSURL, "nats-url", "", "NATS server `URL`; overrides nats.url and NEWSWATCH_NATS_URL")
	fs.StringVar(&f.HTTPListen, "http-listen", "", "`address` of /metrics, /healthz and /readyz; overrides http.listen and NEWSWATCH_HTTP_LISTEN (give each process on one machine its own)")
	fs.BoolVar(&f.Check, "check", false, "only check the config (every key, sink, watch query, taxonomy, gazetteer, feed), print every error and exit 0 or 1; starts nothing")
	fs.BoolVar(&f.ShowVersion, "version", false, "print the version and exit")
}

// Load reads the configuration the flags name and applies -nats-url and
// -http-listen. Like config.Load, it returns the config with an error that
// is only a validation error, for CheckMain.
func (f *Flags) Load() (*config.Config, error) {
	cfg, err := config.Load(f.Config)
	if cfg != nil && f.NATSURL != "" {
		cfg.NATS.URL = f.NATSURL
	}
	if cfg != nil && f.HTTPListen != "" {
		cfg.HTTP.Listen = f.HTTPListen
	}
	return cfg, err
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
	if flags.Check {
		return CheckMain(cfg, err, []string{component}, stdout, stderr)
	}
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", component, err)
		return 1
	}
	logger := NewLogger(cfg.Log, stderr).With("service", component)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	return RunUntilDone(ctx, cfg, []string{component}, false, logger, stderr)
}

// RunUntilDone starts the components and stops them when ctx ends or when
// one of them fails; it returns the exit code, 1 after a failure.
func RunUntilDone(ctx context.Context, cfg *config.Config, components []string, embed bool, logger *slog.Logger, stderr io.Writer) int {
	// Name the binary in errors: the fetcher, analyzer and notifier
	// binaries run one component each, newswatch runs them all.
	name := "newswatch"
	if !embed && len(components) == 1 {
		name = components[0]
	}
	a, err := Start(ctx, cfg, components, embed, logger)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return 1
	}
	select {
	case <-ctx.Done():
		logger.Info("stopping: draining the NATS connection")
	case <-a.Failed():
		logger.Error("a component failed; stopping")
	}
	if err := a.Stop(); err != nil {
		logger.Error("stopped with an error", "err", err)
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return 1
	}
	return 0
}

// CheckMain prints every error of the config for the components, one per
// line, as `newswatch run --check` does, and returns the exit code: 0 when
// the config would start, 1 otherwise. loadErr is the error of loading cfg:
// a config that only failed validation is still checked for the rest
// (sinks, queries, files); one that could not be read or decoded (cfg nil)
// is not.
func CheckMain(cfg *config.Config, loadErr error, components []string, stdout, stderr io.Writer) int {
	var errs []error
	if loadErr != nil {
		errs = append(errs, loadErr)
	}
	if cfg != nil {
		if err := Check(cfg, components); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		for _, line := range strings.Split(err.Error(), "\n") {
			fmt.Fprintln(stderr, line)
		}
		return 1
	}
	fmt.Fprintln(stdout, "config ok")
	return 0
}

package cli

import (
	"context"
	"flag"
	"fmt"

	"github.com/newswatch/newswatch/pkg/app"
	"github.com/newswatch/newswatch/pkg/version"
)

// runRun is `newswatch run`: every worker in one process, with an embedded
// NATS server unless nats.url is set.
func runRun(ctx context.Context, args []string, io IO) int {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(io.Stderr)
	var flags app.Flags
	flags.Register(fs)
	if code, ok := parseFlags(fs, args, io); !ok {
		return code
	}
	if flags.ShowVersion {
		fmt.Fprintln(io.Stdout, version.String("newswatch"))
		return 0
	}
	cfg, err := flags.Load()
	if flags.Check {
		return app.CheckMain(cfg, err, app.All, io.Stdout, io.Stderr)
	}
	if err != nil {
		fmt.Fprintf(io.Stderr, "newswatch run: %v\n", err)
		return 1
	}
	logger := app.NewLogger(cfg.Log, io.Stderr).With("service", "newswatch")
	return app.RunUntilDone(ctx, cfg, app.All, true, logger, io.Stderr)
}

func runVersion(_ context.Context, _ []string, io IO) int {
	fmt.Fprintln(io.Stdout, version.String("newswatch"))
	return 0
}

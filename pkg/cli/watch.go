package cli

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/newswatch/newswatch/pkg/app"
	"github.com/newswatch/newswatch/pkg/config"
	"github.com/newswatch/newswatch/pkg/query"
	"github.com/newswatch/newswatch/pkg/topology"
	"github.com/newswatch/newswatch/pkg/watches"
)

const watchUsage = `usage: newswatch watch <subcommand> [flags]

  add    --id ID --query Q [--sinks a,b] [--updates] [--rate-limit N] [--digest 1h]
                                                      create or replace a watch
         [--dry-run [--since 168h]]                   or only show what it would have alerted on
  list                                                list the watches, invalid entries too
  show   ID                                           print one watch as JSON
  rm     ID                                           delete a watch (an invalid entry too)
  pause  ID                                           stop evaluating a watch
  resume ID                                           evaluate it again

Every subcommand takes -config FILE and -nats-url URL to find the running newswatch.`

// runWatch is `newswatch watch`: manage watches in the newswatch_watches
// bucket of a running newswatch; notifiers apply a change within a second.
func runWatch(ctx context.Context, args []string, io IO) int {
	sub, rest, code, ok := subcommand(args, watchUsage, io)
	if !ok {
		return code
	}
	fs := flag.NewFlagSet("watch "+sub, flag.ContinueOnError)
	fs.SetOutput(io.Stderr)
	flags := operatorFlags(fs)
	id := fs.String("id", "", "watch `id` (letters, digits, - and _): alerts go to alerts.<id>")
	q := fs.String("query", "", "watch `query` (docs/queries.md)")
	sinks := fs.String("sinks", "", "comma-separated sink `names` from the config")
	updates := fs.Bool("updates", false, "send one update alert when an alerted story gains a source")
	rateLimit := fs.Int("rate-limit", 0, "at most `n` alerts an hour to the sinks (0: no limit)")
	digest := fs.Duration("digest", 0, "send the sinks one digest per `period` (e.g. 1h) instead of one message per alert")
	dryRun := fs.Bool("dry-run", false, "add: save nothing; show what the watch would have alerted on in the stored articles (see backtest)")
	since := fs.Duration("since", 168*time.Hour, "add --dry-run: how far back to look")
	fs.Usage = func() { fmt.Fprintf(fs.Output(), "%s\n\nflags:\n", watchUsage); fs.PrintDefaults() }
	if code, ok := parseFlags(fs, rest, io); !ok {
		return code
	}
	switch sub {
	case "add", "list":
	case "show", "rm", "pause", "resume":
		if fs.NArg() != 1 {
			fmt.Fprintf(io.Stderr, "newswatch watch %s: give one watch id, after the flags (newswatch watch %s [--config FILE] ID)\n", sub, sub)
			return 2
		}
		*id = fs.Arg(0)
	default:
		fmt.Fprintf(io.Stderr, "newswatch watch: unknown subcommand %q\n\n%s\n", sub, watchUsage)
		return 2
	}
	op, err := connectOperator(flags)
	if err != nil {
		fmt.Fprintf(io.Stderr, "newswatch watch: %v\n", err)
		return 1
	}
	defer op.Close()
	runCtx := ctx
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	kv, err := op.topo.KV(ctx, topology.BucketWatches, 0, 5)
	if err != nil {
		fmt.Fprintf(io.Stderr, "newswatch watch: %v\n", err)
		return 1
	}
	store := watches.New(kv)
	fail := func(err error) int {
		fmt.Fprintf(io.Stderr, "newswatch watch %s: %v\n", sub, err)
		return 1
	}
	knownSink := op.cfg.HasSink
	switch sub {
	case "add":
		w := config.Watch{ID: *id, Query: *q, Updates: *updates, RateLimit: *rateLimit, Digest: *digest}
		if *sinks != "" {
			w.Sinks = strings.Split(*sinks, ",")
		}
		if err := w.Validate(knownSink); err != nil {
			return fail(err)
		}
		gz, err := app.Gazetteer(op.cfg)
		if err != nil {
			return fail(err)
		}
		parsed, err := query.Parse(w.Query, query.WithAliases(gz.Aliases))
		if err != nil {
			fmt.Fprintf(io.Stderr, "newswatch watch add: %v\n  %s\n", err, w.Query)
			var pe *query.ParseError
			if errors.As(err, &pe) && pe.Pos > 0 {
				fmt.Fprintf(io.Stderr, "  %s^\n", strings.Repeat(" ", pe.Pos-1))
			}
			return 2
		}
		if *dryRun {
			return printBacktest(runCtx, op.js, w.Query, parsed, *since, false, io)
		}
		if err := store.Put(ctx, w); err != nil {
			return fail(err)
		}
		fmt.Fprintf(io.Stdout, "watch %s saved; alerts go to alerts.%s\n", w.ID, w.ID)
	case "list":
		entries, err := op.checkedWatches(ctx, store)
		if err != nil {
			return fail(err)
		}
		tw := tabwriter.NewWriter(io.Stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tSTATE\tORIGIN\tSINKS\tQUERY\tPROBLEM")
		for _, e := range entries {
			w, state, problem := e.Watch, "active", ""
			if w.Paused {
				state = "paused"
			}
			if e.Err != nil {
				state, problem = "invalid", strings.ReplaceAll(e.Err.Error(), "\n", "; ")
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", e.Key, state, cmp.Or(w.Origin, "-"), strings.Join(w.Sinks, ","), w.Query, problem)
		}
		tw.Flush()
	case "show":
		w, err := store.Get(ctx, *id)
		if err != nil {
			return fail(err)
		}
		enc := json.NewEncoder(io.Stdout)
		enc.SetIndent("", "  ")
		enc.Encode(w)
	case "rm":
		if err := store.Delete(ctx, *id); err != nil {
			return fail(err)
		}
		fmt.Fprintf(io.Stdout, "watch %s deleted\n", *id)
	case "pause", "resume":
		w, err := store.Get(ctx, *id)
		if err != nil {
			return fail(err)
		}
		w.Paused = sub == "pause"
		if err := store.Put(ctx, w); err != nil {
			return fail(err)
		}
		fmt.Fprintf(io.Stdout, "watch %s %sd\n", *id, sub)
	default:
		fmt.Fprintf(io.Stderr, "newswatch watch: unknown subcommand %q\n\n%s\n", sub, watchUsage)
		return 2
	}
	return 0
}

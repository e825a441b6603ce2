package cli

import (
	"context"
	"flag"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/newswatch/newswatch/pkg/silences"
	"github.com/newswatch/newswatch/pkg/topology"
)

const silenceUsage = `usage: newswatch silence <subcommand> [flags]

  add --watch W [--for 8h] [--story S] [--comment C]   mute a watch for a while, or one story of it
  list                                                 list silences
  rm --watch W [--story S]                             remove a silence

Every subcommand takes -config FILE and -nats-url URL to find the running newswatch.`

// runSilence is `newswatch silence`: mute watches and stories at run time.
func runSilence(ctx context.Context, args []string, io IO) int {
	sub, rest, code, ok := subcommand(args, silenceUsage, io)
	if !ok {
		return code
	}
	fs := flag.NewFlagSet("silence "+sub, flag.ContinueOnError)
	fs.SetOutput(io.Stderr)
	flags := operatorFlags(fs)
	var watch, story, comment string
	var dur time.Duration
	switch sub {
	case "add":
		fs.StringVar(&watch, "watch", "", "watch `id` (newswatch watch list)")
		fs.StringVar(&story, "story", "", "mute only this story `id` of the watch")
		fs.DurationVar(&dur, "for", 0, "how long, as a `duration` (0: until removed; a watch silence needs one)")
		fs.StringVar(&comment, "comment", "", "why, for the other analysts")
		fs.Usage = usageFunc(fs, "newswatch silence add --watch W [--for 8h] [--story S] [--comment C]")
	case "rm":
		fs.StringVar(&watch, "watch", "", "watch `id`")
		fs.StringVar(&story, "story", "", "remove the silence of this story `id` of the watch")
		fs.Usage = usageFunc(fs, "newswatch silence rm --watch W [--story S]")
	case "list":
		fs.Usage = usageFunc(fs, "newswatch silence list")
	default:
		fmt.Fprintf(io.Stderr, "newswatch silence: unknown subcommand %q\n\n%s\n", sub, silenceUsage)
		return 2
	}
	if code, ok := parseFlags(fs, rest, io); !ok {
		return code
	}
	switch sub {
	case "add", "rm":
		if watch == "" {
			fmt.Fprintf(io.Stderr, "newswatch silence %s: --watch is required\n", sub)
			return 2
		}
	}
	if sub == "add" && story == "" && dur <= 0 {
		fmt.Fprintln(io.Stderr, "newswatch silence add: a watch silence needs --for (e.g. --for 8h); use newswatch watch pause to stop a watch")
		return 2
	}
	op, err := connectOperator(flags)
	if err != nil {
		fmt.Fprintf(io.Stderr, "newswatch silence: %v\n", err)
		return 1
	}
	defer op.Close()
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	kv, err := op.topo.KV(ctx, topology.BucketSilences, 0, 1)
	if err != nil {
		fmt.Fprintf(io.Stderr, "newswatch silence: %v\n", err)
		return 1
	}
	store := silences.New(kv)
	switch sub {
	case "add":
		// A silence of a watch that does not exist would mute nothing.
		if err := op.checkWatch(ctx, watch); err != nil {
			fmt.Fprintf(io.Stderr, "newswatch silence add: %v\n", err)
			return 1
		}
		sl := silences.Silence{Watch: watch, Story: story, Comment: comment}
		if dur > 0 {
			sl.Until = time.Now().Add(dur).UTC()
		}
		if err := store.Add(ctx, sl); err != nil {
			fmt.Fprintf(io.Stderr, "newswatch silence add: %v\n", err)
			return 1
		}
		fmt.Fprintf(io.Stdout, "silenced %s\n", sl)
	case "rm":
		if err := store.Remove(ctx, watch, story); err != nil {
			fmt.Fprintf(io.Stderr, "newswatch silence rm: %v\n", err)
			return 1
		}
		fmt.Fprintln(io.Stdout, "silence removed")
	case "list":
		list, err := store.List(ctx)
		if err != nil {
			fmt.Fprintf(io.Stderr, "newswatch silence list: %v\n", err)
			return 1
		}
		tw := tabwriter.NewWriter(io.Stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "WATCH\tSTORY\tUNTIL\tSTATE\tCOMMENT")
		now := time.Now()
		for _, sl := range list {
			until, state := "removed by hand", "active"
			if !sl.Until.IsZero() {
				until = sl.Until.Format(time.RFC3339)
			}
			if !sl.Active(now) {
				state = "expired"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", sl.Watch, sl.Story, until, state, sl.Comment)
		}
		tw.Flush()
	}
	return 0
}

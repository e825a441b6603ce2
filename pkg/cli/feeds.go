package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"text/tabwriter"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/newswatch/newswatch/pkg/config"
	"github.com/newswatch/newswatch/pkg/fetcher"
	"github.com/newswatch/newswatch/pkg/topology"
)

const feedsUsage = `usage: newswatch feeds [subcommand] [flags]

  list                                          each feed with its state (the default)
  add    --url URL [--id ID] [--interval D]      add or replace a feed
  rm     ID                                     stop polling a feed and forget it
  pause  ID                                     stop polling a feed, keep it
  resume ID                                     poll it again, at once
  import-opml [--interval D] FILE               add every feed of an OPML subscription list

Every fetcher replica applies a change within a second, without a restart.
A feed removed here that is in the configuration file comes back when
newswatch restarts; remove it from the file too.

Every subcommand takes -config FILE and -nats-url URL to find the running newswatch.`

// runFeeds is `newswatch feeds`: manage the feeds in the newswatch_feeds
// bucket of a running newswatch and show their polling state.
func runFeeds(ctx context.Context, args []string, io IO) int {
	sub := "list"
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		sub, args = args[0], args[1:]
	}
	fs := flag.NewFlagSet("feeds "+sub, flag.ContinueOnError)
	fs.SetOutput(io.Stderr)
	flags := operatorFlags(fs)
	id := fs.String("id", "", "feed `id` (letters, digits, - and _); derived from the URL when empty")
	feedURL := fs.String("url", "", "feed `URL` (RSS, Atom or JSON Feed)")
	interval := fs.Duration("interval", 0, "poll `interval` such as 5m; fetcher.default_interval when 0")
	asJSON := fs.Bool("json", false, "list: print JSON lines instead of a table")
	if err := fs.Parse(args); err != nil {
		return exitForFlagError(err)
	}
	switch sub {
	case "rm", "pause", "resume", "import-opml":
		if fs.NArg() != 1 {
			what, arg := "feed id", "ID"
			if sub == "import-opml" {
				what, arg = "file", "FILE"
			}
			fmt.Fprintf(io.Stderr, "newswatch feeds %s: give one %s, after the flags (newswatch feeds %s [--config FILE] %s)\n", sub, what, sub, arg)
			return 2
		}
	case "add", "list":
		if fs.NArg() != 0 {
			fmt.Fprintf(io.Stderr, "newswatch feeds %s: unexpected argument %q\n", sub, fs.Arg(0))
			return 2
		}
	default:
		fmt.Fprintf(io.Stderr, "newswatch feeds: unknown subcommand %q\n\n%s\n", sub, feedsUsage)
		return 2
	}
	op, err := connectOperator(flags)
	if err != nil {
		fmt.Fprintf(io.Stderr, "newswatch feeds: %v\n", err)
		return 1
	}
	defer op.Close()
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	kv, err := op.topo.KV(ctx, topology.BucketFeeds, 0, 1)
	if err != nil {
		fmt.Fprintf(io.Stderr, "newswatch feeds: %v\n", err)
		return 1
	}
	store := fetcher.NewStore(kv)
	fail := func(err error) int {
		fmt.Fprintf(io.Stderr, "newswatch feeds %s: %v\n", sub, err)
		return 1
	}
	// validate checks feeds the way the configuration file's are checked,
	// filling in ids and intervals.
	validate := func(fs []config.Feed) ([]config.Feed, error) {
		check := *op.cfg
		check.Feeds = fs
		if err := check.Validate(); err != nil {
			return nil, err
		}
		return check.Feeds, nil
	}
	switch sub {
	case "add":
		if *feedURL == "" {
			fmt.Fprintln(io.Stderr, "newswatch feeds add: --url is required")
			return 2
		}
		fds, err := validate([]config.Feed{{ID: *id, URL: *feedURL, Interval: *interval}})
		if err != nil {
			return fail(err)
		}
		fd := fds[0]
		if err := store.Put(ctx, fetcher.FeedSpec{ID: fd.ID, URL: fd.URL, Interval: fd.Interval, Origin: "operator"}); err != nil {
			return fail(err)
		}
		fmt.Fprintf(io.Stdout, "feed %s saved: %s every %s\n", fd.ID, fd.URL, fd.Interval)
	case "import-opml":
		file, err := os.Open(fs.Arg(0))
		if err != nil {
			return fail(err)
		}
		outlines, err := fetcher.ParseOPML(file)
		file.Close()
		if err != nil {
			return fail(err)
		}
		added, skipped := 0, 0
		for _, o := range outlines {
			fds, err := validate([]config.Feed{{URL: o.URL, Interval: *interval}})
			if err != nil {
				fmt.Fprintf(io.Stderr, "skipping %q (%s): %v\n", o.Title, o.URL, err)
				skipped++
				continue
			}
			fd := fds[0]
			if _, err := store.Get(ctx, fd.ID); err == nil {
				skipped++ // already there: keep its interval and pause state
				continue
			}
			if err := store.Put(ctx, fetcher.FeedSpec{ID: fd.ID, URL: fd.URL, Interval: fd.Interval, Origin: "operator"}); err != nil {
				return fail(err)
			}
			added++
		}
		fmt.Fprintf(io.Stdout, "%d feeds added, %d skipped\n", added, skipped)
	case "rm":
		if err := store.Delete(ctx, fs.Arg(0)); err != nil {
			return fail(err)
		}
		fmt.Fprintf(io.Stdout, "feed %s removed\n", fs.Arg(0))
	case "pause", "resume":
		spec, err := store.Get(ctx, fs.Arg(0))
		if err != nil {
			return fail(err)
		}
		spec.Paused = sub == "pause"
		if err := store.Put(ctx, spec); err != nil {
			return fail(err)
		}
		fmt.Fprintf(io.Stdout, "feed %s %sd\n", spec.ID, sub)
	case "list":
		specs, err := store.List(ctx)
		if err != nil {
			return fail(err)
		}
		states, err := feedStates(ctx, op.js)
		if err != nil {
			return fail(err)
		}
		return printFeeds(io, specs, states, *asJSON, time.Now())
	}
	return 0
}

// feedStates reads the newswatch_feed_state bucket in one pass; a bucket
// not created yet means no feed was polled.
func feedStates(ctx context.Context, js jetstream.JetStream) (map[string]fetcher.FeedState, error) {
	out := map[string]fetcher.FeedState{}
	kv, err := js.KeyValue(ctx, topology.BucketFeedState)
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		return out, nil
	}
	if err != nil {
		return nil, err
	}
	w, err := kv.WatchAll(ctx, jetstream.IgnoreDeletes())
	if err != nil {
		return nil, err
	}
	defer w.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case e := <-w.Updates():
			if e == nil {
				return out, nil
			}
			var st fetcher.FeedState
			if json.Unmarshal(e.Value(), &st) == nil {
				out[e.Key()] = st
			}
		}
	}
}

// feedRow is one line of `newswatch feeds list --json`.
type feedRow struct {
	fetcher.FeedSpec
	State string             `json:"state"`
	Poll  *fetcher.FeedState `json:"poll,omitempty"`
}

func printFeeds(io IO, specs []fetcher.FeedSpec, states map[string]fetcher.FeedState, asJSON bool, now time.Time) int {
	state := func(s fetcher.FeedSpec, st fetcher.FeedState, ok bool) string {
		switch {
		case s.Paused:
			return "paused"
		case !ok:
			return "new"
		case st.ConsecutiveFailures >= 5:
			return "failing"
		case st.ConsecutiveFailures > 0:
			return "retrying"
		}
		return "ok"
	}
	if asJSON {
		enc := json.NewEncoder(io.Stdout)
		for _, s := range specs {
			st, ok := states[s.ID]
			row := feedRow{FeedSpec: s, State: state(s, st, ok)}
			if ok {
				row.Poll = &st
			}
			enc.Encode(row)
		}
		return 0
	}
	ago := func(t time.Time) string {
		if t.IsZero() {
			return "never"
		}
		d := now.Sub(t).Round(time.Second)
		if d < 0 {
			return "in " + (-d).String()
		}
		return d.String() + " ago"
	}
	tw := tabwriter.NewWriter(io.Stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATE\tINTERVAL\tLAST SUCCESS\tNEXT POLL\tFAILURES\tLAST ERROR\tURL")
	for _, s := range specs {
		st, ok := states[s.ID]
		next := "due"
		if s.Paused {
			next = "-"
		} else if st.NextPoll.After(now) {
			next = ago(st.NextPoll)
		}
		lastErr := st.LastError
		if r := []rune(lastErr); len(r) > 80 {
			lastErr = string(r[:77]) + "..."
		}
		if lastErr == "" {
			lastErr = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n", s.ID, state(s, st, ok), s.Interval, ago(st.LastSuccess), next, st.ConsecutiveFailures, lastErr, s.URL)
	}
	tw.Flush()
	return 0
}

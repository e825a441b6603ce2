package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/nats-io/nats.go/jetstream"
	"golang.org/x/text/unicode/norm"

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
	switch {
	case len(args) > 0 && isHelp(args[0]):
		fmt.Fprintln(io.Stdout, feedsUsage)
		return 0
	case len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-':
		sub, args = args[0], args[1:]
	}
	fs := flag.NewFlagSet("feeds "+sub, flag.ContinueOnError)
	fs.SetOutput(io.Stderr)
	flags := operatorFlags(fs)
	var id, feedURL string
	var interval time.Duration
	var asJSON bool
	intervalFlag := func() {
		fs.DurationVar(&interval, "interval", 0, "poll `interval` such as 5m; fetcher.default_interval when 0")
	}
	var usage string
	switch sub {
	case "list":
		fs.BoolVar(&asJSON, "json", false, "print JSON lines instead of a table (interval as a duration such as \"5m0s\")")
		usage = "newswatch feeds [list] [--json]"
	case "add":
		fs.StringVar(&id, "id", "", "feed `id` (letters, digits, - and _); derived from the URL when empty")
		fs.StringVar(&feedURL, "url", "", "feed `URL` (RSS, Atom or JSON Feed)")
		intervalFlag()
		usage = "newswatch feeds add --url URL [--id ID] [--interval D]"
	case "import-opml":
		intervalFlag()
		usage = "newswatch feeds import-opml [--interval D] FILE"
	case "rm", "pause", "resume":
		usage = "newswatch feeds " + sub + " ID"
	default:
		fmt.Fprintf(io.Stderr, "newswatch feeds: unknown subcommand %q\n\n%s\n", sub, feedsUsage)
		return 2
	}
	fs.Usage = usageFunc(fs, usage)
	if code, ok := parseFlags(fs, args, io); !ok {
		return code
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
		if feedURL == "" {
			fmt.Fprintln(io.Stderr, "newswatch feeds add: --url is required")
			return 2
		}
		fds, err := validate([]config.Feed{{ID: id, URL: feedURL, Interval: interval}})
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
		existing, err := store.List(ctx)
		if err != nil {
			return fail(err)
		}
		idOf, taken := map[string]string{}, map[string]bool{}
		for _, sp := range existing {
			idOf[sp.URL], taken[sp.ID] = sp.ID, true
		}
		added, skipped := 0, 0
		for _, o := range outlines {
			if id, ok := idOf[o.URL]; ok {
				skipped++ // already there: keep its id, interval and pause state
				fmt.Fprintf(io.Stderr, "skipping %q (%s): already feed %s\n", o.Title, o.URL, id)
				continue
			}
			// The id comes from the outline's title, so that alerts and
			// `feeds list` say "bbc-news", not a hash of the URL.
			id := titleID(o.Title)
			for n := 2; id != "" && taken[id]; n++ {
				id = fmt.Sprintf("%s-%d", titleID(o.Title), n)
			}
			fds, err := validate([]config.Feed{{ID: id, URL: o.URL, Interval: interval}})
			if err != nil {
				fmt.Fprintf(io.Stderr, "skipping %q (%s): %v\n", o.Title, o.URL, err)
				skipped++
				continue
			}
			fd := fds[0]
			if err := store.Put(ctx, fetcher.FeedSpec{ID: fd.ID, URL: fd.URL, Interval: fd.Interval, Origin: "operator"}); err != nil {
				return fail(err)
			}
			idOf[fd.URL], taken[fd.ID] = fd.ID, true
			fmt.Fprintf(io.Stdout, "feed %s added: %s every %s\n", fd.ID, fd.URL, fd.Interval)
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
		return printFeeds(io, specs, states, asJSON, time.Now())
	}
	return 0
}

// feedStates reads the newswatch_feed_state bucket in one pass; a bucket
// not created yet means no feed was polled.
func feedStates(ctx context.Context, js jetstream.JetStream) (map[string]fetcher.FeedState, error) {
	kv, err := js.KeyValue(ctx, topology.BucketFeedState)
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		return map[string]fetcher.FeedState{}, nil
	}
	if err != nil {
		return nil, err
	}
	return fetcher.FeedStates(ctx, kv)
}

// titleID makes a feed id from an OPML outline's title: lower-case ASCII
// letters and digits joined by '-', accents dropped ("Le Monde - À la une"
// gives "le-monde-a-la-une"), at most 48 characters; "" when nothing is left
// (the id is then derived from the URL).
func titleID(title string) string {
	var b strings.Builder
	dash := false
	for _, r := range norm.NFKD.String(title) {
		switch {
		case unicode.Is(unicode.Mn, r):
			continue
		case r < utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r)):
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(unicode.ToLower(r))
		default:
			dash = true
		}
		if b.Len() >= 48 {
			break
		}
	}
	return strings.TrimRight(b.String()[:min(b.Len(), 48)], "-")
}

// feedRow is one line of `newswatch feeds list --json`.
type feedRow struct {
	fetcher.FeedSpec
	// Interval shadows the spec's nanoseconds with a duration such as "5m0s".
	Interval string             `json:"interval"`
	State    string             `json:"state"`
	Poll     *fetcher.FeedState `json:"poll,omitempty"`
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
			row := feedRow{FeedSpec: s, Interval: s.Interval.String(), State: state(s, st, ok)}
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
	// LAST ERROR comes last and whole: the cause is at its end.
	fmt.Fprintln(tw, "ID\tSTATE\tINTERVAL\tLAST SUCCESS\tNEXT POLL\tFAILURES\tURL\tLAST ERROR")
	for _, s := range specs {
		st, ok := states[s.ID]
		next := "due"
		if s.Paused {
			next = "-"
		} else if st.NextPoll.After(now) {
			next = ago(st.NextPoll)
		}
		lastErr := strings.Join(strings.Fields(st.LastError), " ")
		if lastErr == "" {
			lastErr = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n", s.ID, state(s, st, ok), s.Interval, ago(st.LastSuccess), next, st.ConsecutiveFailures, s.URL, lastErr)
	}
	tw.Flush()
	return 0
}

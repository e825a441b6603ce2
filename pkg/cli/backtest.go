package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/newswatch/newswatch/pkg/app"
	"github.com/newswatch/newswatch/pkg/query"
	"github.com/newswatch/newswatch/pkg/topology"
)

// runBacktest is `newswatch backtest`: a query over the analyzed articles
// stored in ANALYZED, showing the alerts it would have sent, one per story.
func runBacktest(ctx context.Context, args []string, io IO) int {
	fs := flag.NewFlagSet("backtest", flag.ContinueOnError)
	fs.SetOutput(io.Stderr)
	flags := operatorFlags(fs)
	q := fs.String("query", "", `the watch query to try, e.g. '"MQ-9B" AND (India OR Quad)'`)
	since := fs.Duration("since", 168*time.Hour, "how far back to look: articles stored in ANALYZED within this `duration`")
	asJSON := fs.Bool("json", false, "print one JSON document instead of text")
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintln(w, "usage: newswatch backtest --query Q [--since 168h] [--json] [--config FILE] [--nats-url URL]")
		fmt.Fprintln(w, "\nEvaluates Q over the analyzed articles stored in ANALYZED, publishing nothing, and")
		fmt.Fprintln(w, "prints per story the alert a watch with that query would have sent (the first")
		fmt.Fprintln(w, "matching copy), the copies it would have suppressed, and alerts per day.")
		fmt.Fprintln(w, "\nflags:")
		fs.PrintDefaults()
	}
	if code, ok := parseFlags(fs, args, io); !ok {
		return code
	}
	if strings.TrimSpace(*q) == "" || fs.NArg() > 0 {
		fmt.Fprintln(io.Stderr, "newswatch backtest: give the query with --query (quote it), and no other argument")
		return 2
	}
	if *since <= 0 {
		fmt.Fprintln(io.Stderr, "newswatch backtest: --since must be positive, e.g. 168h")
		return 2
	}
	op, err := connectOperator(flags)
	if err != nil {
		fmt.Fprintf(io.Stderr, "newswatch backtest: %v\n", err)
		return 1
	}
	defer op.Close()
	gz, err := app.Gazetteer(op.cfg)
	if err != nil {
		fmt.Fprintf(io.Stderr, "newswatch backtest: %v\n", err)
		return 1
	}
	parsed, err := query.Parse(*q, query.WithAliases(gz.Aliases))
	if err != nil {
		printQueryError(io.Stderr, *q, err)
		return 2
	}
	return printBacktest(ctx, op.js, *q, parsed, *since, *asJSON, io)
}

// printBacktest runs a backtest and prints it; watch add --dry-run uses it.
func printBacktest(ctx context.Context, js jetstream.JetStream, src string, q *query.Query, since time.Duration, asJSON bool, io IO) int {
	start := time.Now()
	lastProgress := start
	progress := func(done, total uint64) {
		if now := time.Now(); now.Sub(lastProgress) >= time.Second {
			lastProgress = now
			fmt.Fprintf(io.Stderr, "\rscanned %d of %d articles (%.0f/s) ", done, total, float64(done)/now.Sub(start).Seconds())
		}
	}
	rep, err := backtest(ctx, js, q, time.Now().Add(-since), progress)
	if lastProgress != start {
		fmt.Fprintln(io.Stderr)
	}
	if err != nil {
		fmt.Fprintf(io.Stderr, "newswatch backtest: %v\n", err)
		return 1
	}
	rep.Query, rep.Since = src, since.String()
	out := bufio.NewWriter(io.Stdout)
	defer out.Flush()
	if asJSON {
		enc := json.NewEncoder(out)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			fmt.Fprintf(io.Stderr, "newswatch backtest: %v\n", err)
			return 1
		}
		return 0
	}
	rep.print(out)
	return 0
}

// backtestReport is what backtest found.
type backtestReport struct {
	Query    string           `json:"query"`
	Since    string           `json:"since"`
	Scanned  int              `json:"articles_scanned"`
	Matched  int              `json:"articles_matched"`
	Stories  []*backtestStory `json:"stories"`
	PerDay   []dayCount       `json:"alerts_per_day"`
	Skipped  int              `json:"skipped,omitempty"` // undecodable messages
	Duration float64          `json:"seconds"`
}

type backtestStory struct {
	StoryID    string         `json:"story_id"`
	Alert      backtestCopy   `json:"alert"`
	Suppressed []backtestCopy `json:"suppressed"`
}

type backtestCopy struct {
	ArticleID   string    `json:"article_id"`
	Title       string    `json:"title"`
	Source      string    `json:"source,omitempty"`
	URL         string    `json:"url,omitempty"`
	PublishedAt time.Time `json:"published_at,omitzero"`
	StoredAt    time.Time `json:"stored_at"`
	Snippet     string    `json:"snippet,omitempty"`
}

type dayCount struct {
	Day    string `json:"day"`
	Alerts int    `json:"alerts"`
	Copies int    `json:"copies_suppressed"`
}

// backtest evaluates q over the analyzed articles stored in ANALYZED from
// since up to the stream's last message when it starts, with the same
// decoding and matching as `newswatch match`. The first matching article
// of a story is its alert (as the notifier sends one per watch and story);
// later matching articles of the story are copies the alert suppressed, and
// further revisions of an article already seen are not counted again.
func backtest(ctx context.Context, js jetstream.JetStream, q *query.Query, since time.Time, progress func(done, total uint64)) (*backtestReport, error) {
	began := time.Now()
	stream, err := js.Stream(ctx, topology.StreamAnalyzed)
	if err != nil {
		return nil, fmt.Errorf("reading stream %s: %w (is this the NATS server of a running newswatch?)", topology.StreamAnalyzed, err)
	}
	info, err := stream.Info(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading stream %s: %w", topology.StreamAnalyzed, err)
	}
	rep := &backtestReport{Stories: []*backtestStory{}, PerDay: []dayCount{}}
	last := info.State.LastSeq
	if info.State.Msgs == 0 || !info.State.LastTime.After(since) {
		return rep, nil
	}
	cons, err := stream.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{
		DeliverPolicy: jetstream.DeliverByStartTimePolicy, OptStartTime: &since,
	})
	if err != nil {
		return nil, fmt.Errorf("reading stream %s: %w", topology.StreamAnalyzed, err)
	}
	it, err := cons.Messages(jetstream.PullMaxMessages(1000))
	if err != nil {
		return nil, fmt.Errorf("reading stream %s: %w", topology.StreamAnalyzed, err)
	}
	defer it.Stop()
	// A message deleted between the stream info and reading it (age or
	// size limit) must not leave Next waiting for ever.
	idle := time.AfterFunc(idleRead, it.Stop)
	defer idle.Stop()
	stories := map[string]*backtestStory{}
	seen := map[string]bool{} // article ids already counted
	days := map[string]*dayCount{}
	add := func(r *backtestItem) {
		rep.Scanned++
		if r.in == nil {
			rep.Skipped++
			return
		}
		if !r.ok {
			return
		}
		rep.Matched++
		in := r.in
		if seen[in.ID] {
			return
		}
		seen[in.ID] = true
		c := backtestCopy{ArticleID: in.ID, Title: in.Title, Source: in.Source, URL: in.URL, StoredAt: r.stored.UTC()}
		if in.Article != nil {
			c.PublishedAt = in.Article.PublishedAt
		}
		if len(r.spans) > 0 {
			c.Snippet = r.spans[0].Snippet
		}
		day := c.StoredAt.Format(time.DateOnly)
		d := days[day]
		if d == nil {
			d = &dayCount{Day: day}
			days[day] = d
		}
		if st := stories[in.StoryID]; st != nil {
			st.Suppressed = append(st.Suppressed, c)
			d.Copies++
			return
		}
		st := &backtestStory{StoryID: in.StoryID, Alert: c, Suppressed: []backtestCopy{}}
		stories[in.StoryID] = st
		rep.Stories = append(rep.Stories, st)
		d.Alerts++
	}
	// Decoding and matching run on every core, a batch at a time; the
	// results are then taken in stream order, so the first copy of a story
	// is its alert as it would have been.
	batch := make([]backtestItem, 0, backtestBatch)
	flush := func() {
		evaluate(q, batch)
		for i := range batch {
			add(&batch[i])
		}
		batch = batch[:0]
	}
	first := uint64(0)
	for done := false; !done; {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		msg, err := it.Next()
		if err != nil {
			if errors.Is(err, jetstream.ErrMsgIteratorClosed) {
				break
			}
			return nil, fmt.Errorf("reading stream %s: %w", topology.StreamAnalyzed, err)
		}
		idle.Reset(idleRead)
		meta, err := msg.Metadata()
		if err != nil {
			continue
		}
		seq := meta.Sequence.Stream
		if first == 0 {
			first = seq
		}
		if seq > last {
			break
		}
		done = seq >= last
		batch = append(batch, backtestItem{data: msg.Data(), stored: meta.Timestamp})
		if len(batch) == backtestBatch || done {
			flush()
			if progress != nil {
				progress(seq-first+1, last-first+1)
			}
		}
	}
	flush()
	for _, d := range days {
		rep.PerDay = append(rep.PerDay, *d)
	}
	slices.SortFunc(rep.PerDay, func(a, b dayCount) int { return strings.Compare(a.Day, b.Day) })
	rep.Duration = time.Since(began).Seconds()
	return rep, nil
}

// idleRead ends a read of a stream that delivers nothing for this long.
const idleRead = 10 * time.Second

// backtestBatch is how many messages are decoded and matched at once.
const backtestBatch = 512

// backtestItem is one stored message and, after evaluate, its decoding
// (nil if it is not an analyzed article with a story) and match.
type backtestItem struct {
	data   []byte
	stored time.Time
	in     *matchInput
	spans  []query.Span
	ok     bool
}

// evaluate decodes and matches the items on every core.
func evaluate(q *query.Query, items []backtestItem) {
	workers := min(runtime.GOMAXPROCS(0), max(len(items)/16, 1))
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(items); i += workers {
				it := &items[i]
				in, err := decodeMatchInput(it.data)
				it.data = nil
				if err != nil || in.StoryID == "" {
					continue
				}
				doc := in.doc()
				it.in = in
				it.spans, it.ok = q.Match(&doc)
				in.Text = "" // keep no article text beyond its batch
			}
		})
	}
	wg.Wait()
}

func (r *backtestReport) print(w io.Writer) {
	for _, st := range r.Stories {
		a := st.Alert
		fmt.Fprintf(w, "%s  %s  %s\n", a.StoredAt.Format("2006-01-02 15:04"), cmpOr(a.Source, "-"), a.Title)
		fmt.Fprintf(w, "    story %s  article %s\n", st.StoryID, a.ArticleID)
		if a.URL != "" {
			fmt.Fprintf(w, "    %s\n", a.URL)
		}
		if a.Snippet != "" {
			fmt.Fprintf(w, "    %s\n", a.Snippet)
		}
		if n := len(st.Suppressed); n > 0 {
			srcs := make([]string, 0, n)
			for _, c := range st.Suppressed {
				if s := cmpOr(c.Source, c.ArticleID); !slices.Contains(srcs, s) {
					srcs = append(srcs, s)
				}
			}
			fmt.Fprintf(w, "    + %d %s suppressed: %s\n", n, plural(n, "copy", "copies"), strings.Join(srcs, ", "))
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "%d %s would have alerted; %d of %d articles matched (query %s, since %s)\n",
		len(r.Stories), plural(len(r.Stories), "story", "stories"), r.Matched, r.Scanned, r.Query, r.Since)
	if r.Skipped > 0 {
		fmt.Fprintf(w, "%d messages skipped: not analyzed articles with a story id\n", r.Skipped)
	}
	if len(r.PerDay) > 0 {
		fmt.Fprintln(w, "\nday         alerts  copies suppressed")
		for _, d := range r.PerDay {
			fmt.Fprintf(w, "%s  %6d  %6d\n", d.Day, d.Alerts, d.Copies)
		}
	}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/newswatch/newswatch/pkg/events"
	"github.com/newswatch/newswatch/pkg/topology"
)

const alertsUsage = `usage: newswatch alerts <subcommand> [flags]

  list [--watch W] [--story S] [--since 24h] [--json]   past alerts from the ALERTS stream
  show [--since 2160h] ALERT-ID                        one alert as JSON

Every subcommand takes -config FILE and -nats-url URL to find the running newswatch.`

// readStream calls f for every message of stream on subject stored since
// the given time, oldest first, until f returns false.
func readStream(ctx context.Context, js jetstream.JetStream, stream, subject string, since time.Time, f func(jetstream.Msg) bool) error {
	cfg := jetstream.OrderedConsumerConfig{DeliverPolicy: jetstream.DeliverAllPolicy}
	if subject != "" {
		cfg.FilterSubjects = []string{subject}
	}
	if !since.IsZero() {
		cfg.DeliverPolicy = jetstream.DeliverByStartTimePolicy
		cfg.OptStartTime = &since
	}
	cons, err := js.OrderedConsumer(ctx, stream, cfg)
	if err != nil {
		return fmt.Errorf("reading stream %s: %w", stream, err)
	}
	info, err := cons.Info(ctx)
	if err != nil {
		return fmt.Errorf("reading stream %s: %w", stream, err)
	}
	if info.NumPending == 0 {
		return nil
	}
	for {
		batch, err := cons.Fetch(256, jetstream.FetchMaxWait(2*time.Second))
		if err != nil {
			return fmt.Errorf("reading stream %s: %w", stream, err)
		}
		n := 0
		for m := range batch.Messages() {
			n++
			if !f(m) {
				return nil
			}
			if meta, err := m.Metadata(); err == nil && meta.NumPending == 0 {
				return nil
			}
		}
		if batch.Error() != nil || n == 0 {
			return batch.Error()
		}
	}
}

// runAlerts is `newswatch alerts`: the history of alerts beyond live subscriptions.
func runAlerts(ctx context.Context, args []string, io IO) int {
	sub, rest, code, ok := subcommand(args, alertsUsage, io)
	if !ok {
		return code
	}
	fs := flag.NewFlagSet("alerts "+sub, flag.ContinueOnError)
	fs.SetOutput(io.Stderr)
	flags := operatorFlags(fs)
	var watch, story string
	var since time.Duration
	var asJSON bool
	switch sub {
	case "list":
		fs.StringVar(&watch, "watch", "", "only the alerts of watch `id`")
		fs.StringVar(&story, "story", "", "only the alerts of story `id`")
		fs.DurationVar(&since, "since", 24*time.Hour, "how far back to look, as a `duration`")
		fs.BoolVar(&asJSON, "json", false, "print JSON lines")
		fs.Usage = usageFunc(fs, "newswatch alerts list [--watch W] [--story S] [--since 24h] [--json]")
	case "show":
		fs.DurationVar(&since, "since", 90*24*time.Hour, "how far back to look, as a `duration`")
		fs.Usage = usageFunc(fs, "newswatch alerts show [--since 2160h] ALERT-ID")
	default:
		fmt.Fprintf(io.Stderr, "newswatch alerts: unknown subcommand %q\n\n%s\n", sub, alertsUsage)
		return 2
	}
	if code, ok := parseFlags(fs, rest, io); !ok {
		return code
	}
	if sub == "show" && fs.NArg() != 1 {
		fmt.Fprintln(io.Stderr, "newswatch alerts show: give one alert id, after the flags (newswatch alerts show [--since 2160h] ID)")
		return 2
	}
	op, err := connectOperator(flags)
	if err != nil {
		fmt.Fprintf(io.Stderr, "newswatch alerts: %v\n", err)
		return 1
	}
	defer op.Close()
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	subject := "alerts.>"
	if watch != "" {
		subject = topology.AlertSubject(watch)
	}
	from := time.Now().Add(-since)

	if sub == "show" {
		var found *events.CloudEvent
		err := readStream(ctx, op.js, topology.StreamAlerts, subject, from, func(m jetstream.Msg) bool {
			var ev events.CloudEvent
			if json.Unmarshal(m.Data(), &ev) == nil && ev.ID == fs.Arg(0) {
				found = &ev
				return false
			}
			return true
		})
		if err != nil {
			fmt.Fprintf(io.Stderr, "newswatch alerts show: %v\n", err)
			return 1
		}
		if found == nil {
			fmt.Fprintf(io.Stderr, "newswatch alerts show: no alert %s in the last %s (try --since)\n", fs.Arg(0), since)
			return 1
		}
		enc := json.NewEncoder(io.Stdout)
		enc.SetIndent("", "  ")
		enc.Encode(found)
		return 0
	}

	tw := tabwriter.NewWriter(io.Stdout, 2, 4, 2, ' ', 0)
	if !asJSON {
		fmt.Fprintln(tw, "TIME\tWATCH\tTYPE\tALERT\tSTORY\tSOURCE\tTITLE")
	}
	n := 0
	err = readStream(ctx, op.js, topology.StreamAlerts, subject, from, func(m jetstream.Msg) bool {
		var ev events.CloudEvent
		if json.Unmarshal(m.Data(), &ev) != nil {
			return true
		}
		if story != "" && ev.Data.StoryID != story {
			return true
		}
		n++
		if asJSON {
			b, _ := json.Marshal(ev)
			fmt.Fprintln(io.Stdout, string(b))
			return true
		}
		kind := "alert"
		if ev.Type == events.AlertUpdateEventType {
			kind = "update"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", ev.Time.Format(time.RFC3339), ev.Data.WatchID, kind, ev.ID, ev.Data.StoryID, ev.Data.Source, ev.Data.Title)
		return true
	})
	tw.Flush()
	if err != nil {
		fmt.Fprintf(io.Stderr, "newswatch alerts list: %v\n", err)
		return 1
	}
	if n == 0 {
		fmt.Fprintf(io.Stderr, "no alerts in the last %s\n", since)
	}
	return 0
}

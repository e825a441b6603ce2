package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/newswatch/newswatch/pkg/app"
	"github.com/newswatch/newswatch/pkg/delivery"
	"github.com/newswatch/newswatch/pkg/httpguard"
	"github.com/newswatch/newswatch/pkg/topology"
)

const dlqUsage = `usage: newswatch dlq <subcommand> [flags]

  list [--sink S]                     alerts that could not be delivered, with the last error
  replay [--sink S] [--id DELIVERY]   send them again (same delivery id); delivered ones leave the queue

Every subcommand takes -config FILE (whose sinks: are used to replay) and -nats-url URL.`

// runDLQ is `newswatch dlq`: inspect and re-send dead-lettered deliveries.
func runDLQ(ctx context.Context, args []string, io IO) int {
	sub, rest, code, ok := subcommand(args, dlqUsage, io)
	if !ok {
		return code
	}
	fs := flag.NewFlagSet("dlq "+sub, flag.ContinueOnError)
	fs.SetOutput(io.Stderr)
	flags := operatorFlags(fs)
	sinkName := fs.String("sink", "", "only the dead letters of sink `name`")
	id := fs.String("id", "", "only the dead letter with this delivery `id`")
	fs.Usage = func() { fmt.Fprintf(fs.Output(), "%s\n\nflags:\n", dlqUsage); fs.PrintDefaults() }
	if code, ok := parseFlags(fs, rest, io); !ok {
		return code
	}
	if sub != "list" && sub != "replay" {
		fmt.Fprintf(io.Stderr, "newswatch dlq: unknown subcommand %q\n\n%s\n", sub, dlqUsage)
		return 2
	}
	op, err := connectOperator(flags)
	if err != nil {
		fmt.Fprintf(io.Stderr, "newswatch dlq: %v\n", err)
		return 1
	}
	defer op.Close()
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	if *sinkName != "" {
		if err := op.checkSink(ctx, *sinkName); err != nil {
			fmt.Fprintf(io.Stderr, "newswatch dlq %s: %v\n", sub, err)
			return 1
		}
	}
	subject := "deadletter.>"
	if *sinkName != "" {
		subject = topology.DeadLetterSubject(*sinkName)
	}
	type entry struct {
		seq uint64
		dl  delivery.DeadLetter
	}
	var entries []entry
	err = readStream(ctx, op.js, topology.StreamDeadLetter, subject, time.Time{}, func(m jetstream.Msg) bool {
		var dl delivery.DeadLetter
		meta, merr := m.Metadata()
		if json.Unmarshal(m.Data(), &dl) == nil && merr == nil && (*id == "" || dl.DeliveryID == *id) {
			entries = append(entries, entry{meta.Sequence.Stream, dl})
		}
		return true
	})
	if err != nil {
		fmt.Fprintf(io.Stderr, "newswatch dlq %s: %v\n", sub, err)
		return 1
	}
	if sub == "list" {
		tw := tabwriter.NewWriter(io.Stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "FAILED\tSINK\tDELIVERY\tWATCH\tATTEMPTS\tREASON\tERROR")
		for _, e := range entries {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%s\n", e.dl.FailedAt.Format(time.RFC3339), e.dl.Sink, e.dl.DeliveryID,
				e.dl.Event.Data.WatchID, e.dl.Attempts, e.dl.Reason, e.dl.Error)
		}
		tw.Flush()
		return 0
	}

	client := httpguard.New(httpguard.WithAllowPrivateNetworks(op.cfg.Fetcher.AllowPrivateNetworks), httpguard.WithUserAgent(op.cfg.Fetcher.UserAgent))
	sinks, err := app.Sinks(op.cfg.Sinks, client.HTTPClient())
	if err != nil {
		fmt.Fprintf(io.Stderr, "newswatch dlq replay: %v\n", err)
		return 1
	}
	stream, err := op.js.Stream(ctx, topology.StreamDeadLetter)
	if err != nil {
		fmt.Fprintf(io.Stderr, "newswatch dlq replay: %v\n", err)
		return 1
	}
	failed := 0
	for _, e := range entries {
		s, ok := sinks[e.dl.Sink]
		if !ok {
			fmt.Fprintf(io.Stderr, "%s: sink %q is not in the config's sinks:; skipped\n", e.dl.DeliveryID, e.dl.Sink)
			failed++
			continue
		}
		sendCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
		err := s.Send(sendCtx, e.dl.DeliveryID, e.dl.Event)
		cancel()
		if err != nil {
			fmt.Fprintf(io.Stderr, "%s to %s: still failing: %v\n", e.dl.DeliveryID, e.dl.Sink, err)
			failed++
			continue
		}
		if err := stream.DeleteMsg(ctx, e.seq); err != nil {
			fmt.Fprintf(io.Stderr, "%s delivered but not removed from %s: %v\n", e.dl.DeliveryID, topology.StreamDeadLetter, err)
		}
		fmt.Fprintf(io.Stdout, "%s delivered to %s\n", e.dl.DeliveryID, e.dl.Sink)
	}
	if failed > 0 {
		return 1
	}
	return 0
}

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
	"github.com/newswatch/newswatch/pkg/topology"
)

const dlqUsage = `usage: newswatch dlq <subcommand> [flags]

  list [--sink S]                     alerts that could not be delivered, with the last error
  replay [--sink S] [--id DELIVERY]   send them again (same delivery id); delivered ones leave the queue;
                                      --id of one already replayed, delivered or unknown says so and exits 1

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
				e.dl.Watch(), e.dl.Attempts, e.dl.Reason, e.dl.Error)
		}
		tw.Flush()
		return 0
	}

	// Replays are recorded in the deliveries bucket, so that replaying an
	// id twice can say so; without the bucket (no delivery ever ran) they
	// are not.
	records, err := op.js.KeyValue(ctx, topology.BucketDeliveries)
	if err != nil {
		records = nil
	}
	if *id != "" && len(entries) == 0 {
		fmt.Fprintf(io.Stderr, "newswatch dlq replay: %s\n", notDeadLettered(ctx, records, *id, *sinkName))
		return 1
	}
	sinks, err := app.Sinks(op.cfg.Sinks)
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
		// Each sink bounds the attempt by its own timeout.
		var err error
		if len(e.dl.Digest) > 0 {
			ds, ok := s.(delivery.DigestSink)
			if !ok {
				fmt.Fprintf(io.Stderr, "%s: sink %q cannot send digests; skipped\n", e.dl.DeliveryID, e.dl.Sink)
				failed++
				continue
			}
			err = ds.SendDigest(ctx, e.dl.DeliveryID, e.dl.Watch(), e.dl.Digest)
		} else {
			err = s.Send(ctx, e.dl.DeliveryID, e.dl.Event)
		}
		if err != nil {
			fmt.Fprintf(io.Stderr, "%s to %s: still failing: %v\n", e.dl.DeliveryID, e.dl.Sink, err)
			failed++
			continue
		}
		if records != nil {
			if err := delivery.RecordReplay(ctx, records, e.dl); err != nil {
				fmt.Fprintf(io.Stderr, "%s delivered but not recorded in %s: %v\n", e.dl.DeliveryID, topology.BucketDeliveries, err)
			}
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

// notDeadLettered says why --id matched no dead letter: replayed already,
// delivered, or unknown.
func notDeadLettered(ctx context.Context, records jetstream.KeyValue, id, sinkName string) string {
	where := "the dead letters"
	if sinkName != "" {
		where = "the dead letters of sink " + sinkName
	}
	var rec delivery.Record
	var err error = jetstream.ErrBucketNotFound
	if records != nil {
		rec, err = delivery.LookupRecord(ctx, records, id)
	}
	switch {
	case err == nil && rec.Result == delivery.ResultReplayed:
		return fmt.Sprintf("delivery %s to %s was already replayed at %s; nothing to do", id, rec.Sink, rec.CompletedAt.Format(time.RFC3339))
	case err == nil && rec.Result == delivery.ResultDelivered:
		return fmt.Sprintf("delivery %s to %s was delivered at %s and never dead-lettered; nothing to do", id, rec.Sink, rec.CompletedAt.Format(time.RFC3339))
	}
	return fmt.Sprintf("no dead letter with delivery id %s among %s; list them with newswatch dlq list", id, where)
}

package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/newswatch/newswatch/pkg/app"
	"github.com/newswatch/newswatch/pkg/consume"
	"github.com/newswatch/newswatch/pkg/delivery"
	"github.com/newswatch/newswatch/pkg/topology"
)

const dlqUsage = `usage: newswatch dlq <subcommand> [flags]

  list   [--sink S | --stage S] [--id ID]   what was given up on, with the last error: alerts a sink
                                            could not take, and messages the analyzer or notifier
                                            could not handle
  replay [--sink S | --stage S] [--id ID]   try them again: an alert is sent to its sink again (same
                                            delivery id), a stage's message is published again on
                                            its subject; what succeeds leaves the queue; --id of one
                                            already replayed, delivered or unknown says so and exits 1

ID is a delivery id, or STREAM:SEQ for a stage's message. Every subcommand takes -config FILE
(whose sinks: are used to replay) and -nats-url URL.`

// dlqEntry is one dead letter: a sink's or a stage's.
type dlqEntry struct {
	seq   uint64
	sink  *delivery.DeadLetter
	stage *consume.DeadLetter
}

func (e dlqEntry) id() string {
	if e.sink != nil {
		return e.sink.DeliveryID
	}
	return fmt.Sprintf("%s:%d", e.stage.Stream, e.stage.StreamSeq)
}

// runDLQ is `newswatch dlq`: inspect and retry what was dead-lettered.
func runDLQ(ctx context.Context, args []string, io IO) int {
	sub, rest, code, ok := subcommand(args, dlqUsage, io)
	if !ok {
		return code
	}
	fs := flag.NewFlagSet("dlq "+sub, flag.ContinueOnError)
	fs.SetOutput(io.Stderr)
	flags := operatorFlags(fs)
	sinkName := fs.String("sink", "", "only the dead letters of sink `name`")
	stage := fs.String("stage", "", "only the dead letters of stage `name` (analyzer, notifier)")
	id := fs.String("id", "", "only the dead letter with this delivery `id` (or STREAM:SEQ for a stage's)")
	fs.Usage = func() { fmt.Fprintf(fs.Output(), "%s\n\nflags:\n", dlqUsage); fs.PrintDefaults() }
	if code, ok := parseFlags(fs, rest, io); !ok {
		return code
	}
	if sub != "list" && sub != "replay" {
		fmt.Fprintf(io.Stderr, "newswatch dlq: unknown subcommand %q\n\n%s\n", sub, dlqUsage)
		return 2
	}
	if *sinkName != "" && *stage != "" {
		fmt.Fprintf(io.Stderr, "newswatch dlq %s: give --sink or --stage, not both\n", sub)
		return 2
	}
	if *stage != "" && *stage != topology.ConsumerAnalyzer && *stage != topology.ConsumerNotifier {
		fmt.Fprintf(io.Stderr, "newswatch dlq %s: unknown stage %q; use %s or %s\n", sub, *stage, topology.ConsumerAnalyzer, topology.ConsumerNotifier)
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
	switch {
	case *sinkName != "":
		subject = topology.DeadLetterSubject(*sinkName)
	case *stage != "":
		subject = consume.StageSubject(*stage)
	}
	var entries []dlqEntry
	err = readStream(ctx, op.js, topology.StreamDeadLetter, subject, time.Time{}, func(m jetstream.Msg) bool {
		meta, merr := m.Metadata()
		if merr != nil {
			return true
		}
		e := dlqEntry{seq: meta.Sequence.Stream}
		if dl, ok := consume.ParseDeadLetter(m.Subject(), m.Headers(), m.Data()); ok {
			e.stage = &dl
		} else {
			var dl delivery.DeadLetter
			if json.Unmarshal(m.Data(), &dl) != nil {
				return true
			}
			e.sink = &dl
		}
		if *id == "" || e.id() == *id {
			entries = append(entries, e)
		}
		return true
	})
	if err != nil {
		fmt.Fprintf(io.Stderr, "newswatch dlq %s: %v\n", sub, err)
		return 1
	}
	if sub == "list" {
		tw := tabwriter.NewWriter(io.Stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "FAILED\tWHERE\tID\tWATCH/SUBJECT\tATTEMPTS\tREASON\tERROR")
		for _, e := range entries {
			if dl := e.sink; dl != nil {
				fmt.Fprintf(tw, "%s\tsink %s\t%s\t%s\t%d\t%s\t%s\n", dl.FailedAt.Format(time.RFC3339), dl.Sink, dl.DeliveryID,
					dl.Watch(), dl.Attempts, dl.Reason, oneLine(dl.Error))
				continue
			}
			dl := e.stage
			fmt.Fprintf(tw, "%s\tstage %s\t%s\t%s\t%d\t%s\t%s\n", dl.FailedAt.Format(time.RFC3339), dl.Stage, e.id(),
				dl.Subject, dl.Deliveries, dl.Reason, oneLine(dl.Error))
		}
		if *sinkName == "" && *stage == "" && *id == "" {
			// Entries of the watches bucket that are not valid watches are
			// skipped by every analyzer and notifier: nothing of theirs is
			// ever dead-lettered, so list them here, where an operator looks
			// for what was given up on.
			invalid, err := op.invalidWatches(ctx)
			if err != nil {
				fmt.Fprintf(io.Stderr, "newswatch dlq list: %v\n", err)
				return 1
			}
			for _, e := range invalid {
				fmt.Fprintf(tw, "-\twatches\t%s\t%s\t-\tinvalid_watch\t%s\n", e.Key, topology.BucketWatches, oneLine(e.Err.Error()))
			}
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
	stream, err := op.js.Stream(ctx, topology.StreamDeadLetter)
	if err != nil {
		fmt.Fprintf(io.Stderr, "newswatch dlq replay: %v\n", err)
		return 1
	}
	var sinks map[string]delivery.Sink
	failed := 0
	for _, e := range entries {
		if e.stage != nil {
			if err := consume.Replay(ctx, op.js, *e.stage); err != nil {
				fmt.Fprintf(io.Stderr, "%s: %v\n", e.id(), err)
				failed++
				continue
			}
			if err := stream.DeleteMsg(ctx, e.seq); err != nil {
				fmt.Fprintf(io.Stderr, "%s republished but not removed from %s: %v\n", e.id(), topology.StreamDeadLetter, err)
			}
			// The stage handles it again; if it fails again it comes back here.
			fmt.Fprintf(io.Stdout, "%s republished on %s\n", e.id(), e.stage.Subject)
			continue
		}
		if sinks == nil {
			if sinks, err = app.Sinks(op.cfg.Sinks); err != nil {
				fmt.Fprintf(io.Stderr, "newswatch dlq replay: %v\n", err)
				return 1
			}
		}
		dl := e.sink
		s, ok := sinks[dl.Sink]
		if !ok {
			fmt.Fprintf(io.Stderr, "%s: sink %q is not in the config's sinks:; skipped\n", dl.DeliveryID, dl.Sink)
			failed++
			continue
		}
		// Each sink bounds the attempt by its own timeout.
		var err error
		if len(dl.Digest) > 0 {
			ds, ok := s.(delivery.DigestSink)
			if !ok {
				fmt.Fprintf(io.Stderr, "%s: sink %q cannot send digests; skipped\n", dl.DeliveryID, dl.Sink)
				failed++
				continue
			}
			err = ds.SendDigest(ctx, dl.DeliveryID, dl.Watch(), dl.Digest)
		} else {
			err = s.Send(ctx, dl.DeliveryID, dl.Event)
		}
		if err != nil {
			fmt.Fprintf(io.Stderr, "%s to %s: still failing: %v\n", dl.DeliveryID, dl.Sink, err)
			failed++
			continue
		}
		if records != nil {
			if err := delivery.RecordReplay(ctx, records, *dl); err != nil {
				fmt.Fprintf(io.Stderr, "%s delivered but not recorded in %s: %v\n", dl.DeliveryID, topology.BucketDeliveries, err)
			}
		}
		if err := stream.DeleteMsg(ctx, e.seq); err != nil {
			fmt.Fprintf(io.Stderr, "%s delivered but not removed from %s: %v\n", dl.DeliveryID, topology.StreamDeadLetter, err)
		}
		fmt.Fprintf(io.Stdout, "%s delivered to %s\n", dl.DeliveryID, dl.Sink)
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

func oneLine(s string) string { return strings.ReplaceAll(s, "\n", " ") }

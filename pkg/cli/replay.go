package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/newswatch/newswatch/pkg/analyzer"
	"github.com/newswatch/newswatch/pkg/topology"
)

// runReplay is `newswatch replay`: republish the articles stored in
// ARTICLES since a time, so that the running analyzers analyse them again
// (after a taxonomy, model or gazetteer change) and the notifiers see the
// new results. Stories keep their ids (each article's story record stands)
// and the notifier's record of alerted (watch, story) pairs stands, so
// already alerted stories get no second alert.
func runReplay(ctx context.Context, args []string, io IO) int {
	fs := flag.NewFlagSet("replay", flag.ContinueOnError)
	fs.SetOutput(io.Stderr)
	flags := operatorFlags(fs)
	since := fs.Duration("since", 0, "replay the articles stored in ARTICLES within this `duration`, e.g. 24h")
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintln(w, "usage: newswatch replay --since D [--config FILE] [--nats-url URL]")
		fmt.Fprintln(w, "\nRepublishes the articles stored in ARTICLES within D for the running analyzers to")
		fmt.Fprintln(w, "analyse again; alerts are sent only for stories no watch alerted on before.")
		fmt.Fprintln(w, "\nflags:")
		fs.PrintDefaults()
	}
	if code, ok := parseFlags(fs, args, io); !ok {
		return code
	}
	if *since <= 0 || fs.NArg() > 0 {
		fmt.Fprintln(io.Stderr, "newswatch replay: give how far back with --since, e.g. --since 24h")
		return 2
	}
	op, err := connectOperator(flags)
	if err != nil {
		fmt.Fprintf(io.Stderr, "newswatch replay: %v\n", err)
		return 1
	}
	defer op.Close()
	run := strconv.FormatInt(time.Now().Unix(), 36)
	start := time.Now()
	last := start
	n, err := replay(ctx, op.js, time.Now().Add(-*since), run, func(done, total uint64) {
		if now := time.Now(); now.Sub(last) >= time.Second {
			last = now
			fmt.Fprintf(io.Stderr, "\rrepublished %d of %d articles ", done, total)
		}
	})
	if last != start {
		fmt.Fprintln(io.Stderr)
	}
	if err != nil {
		fmt.Fprintf(io.Stderr, "newswatch replay: %v\n", err)
		return 1
	}
	fmt.Fprintf(io.Stdout, "republished %d articles for analysis (replay %s)\n", n, run)
	return 0
}

// replay republishes the ARTICLES messages stored since the given time, up
// to the last one when it starts, on their own subjects with ReplayHeader
// set to run and a Nats-Msg-Id of their own.
func replay(ctx context.Context, js jetstream.JetStream, since time.Time, run string, progress func(done, total uint64)) (int, error) {
	stream, err := js.Stream(ctx, topology.StreamArticles)
	if err != nil {
		return 0, fmt.Errorf("reading stream %s: %w (is this the NATS server of a running newswatch?)", topology.StreamArticles, err)
	}
	info, err := stream.Info(ctx)
	if err != nil {
		return 0, fmt.Errorf("reading stream %s: %w", topology.StreamArticles, err)
	}
	last := info.State.LastSeq
	if info.State.Msgs == 0 || !info.State.LastTime.After(since) {
		return 0, nil
	}
	cons, err := stream.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{
		DeliverPolicy: jetstream.DeliverByStartTimePolicy, OptStartTime: &since,
	})
	if err != nil {
		return 0, fmt.Errorf("reading stream %s: %w", topology.StreamArticles, err)
	}
	it, err := cons.Messages(jetstream.PullMaxMessages(500))
	if err != nil {
		return 0, fmt.Errorf("reading stream %s: %w", topology.StreamArticles, err)
	}
	defer it.Stop()
	idle := time.AfterFunc(idleRead, it.Stop)
	defer idle.Stop()
	n := 0
	first := uint64(0)
	var futures []jetstream.PubAckFuture
	for {
		msg, err := it.Next()
		if err != nil {
			if errors.Is(err, jetstream.ErrMsgIteratorClosed) {
				break
			}
			return n, fmt.Errorf("reading stream %s: %w", topology.StreamArticles, err)
		}
		idle.Reset(idleRead)
		meta, err := msg.Metadata()
		if err != nil {
			continue
		}
		seq := meta.Sequence.Stream
		if seq > last {
			break
		}
		if msg.Headers().Get(analyzer.ReplayHeader) == "" { // not an earlier replay's copy
			out := nats.NewMsg(msg.Subject())
			out.Data = msg.Data()
			out.Header.Set(analyzer.ReplayHeader, run)
			id := msg.Headers().Get(jetstream.MsgIDHeader)
			if id == "" {
				id = "seq-" + strconv.FormatUint(seq, 10)
			}
			f, err := js.PublishMsgAsync(out, jetstream.WithMsgID(id+"-replay-"+run))
			if err != nil {
				return n, fmt.Errorf("republishing %s: %w", id, err)
			}
			futures = append(futures, f)
			n++
		}
		if first == 0 {
			first = seq
		}
		if progress != nil {
			progress(seq-first+1, last-first+1)
		}
		if seq >= last {
			break
		}
	}
	select {
	case <-js.PublishAsyncComplete():
	case <-ctx.Done():
		return n, ctx.Err()
	}
	var errs []error
	for _, f := range futures {
		select {
		case err := <-f.Err():
			errs = append(errs, err)
		default:
		}
	}
	if len(errs) > 0 {
		return n - len(errs), fmt.Errorf("%d of %d republishes failed (run replay again; it republishes them all): %w", len(errs), n, errors.Join(errs...))
	}
	return n, nil
}

package cli

import (
	"context"
	"flag"
	"fmt"
	"time"

	"github.com/newswatch/newswatch/pkg/pipebench"
	"github.com/newswatch/newswatch/pkg/topology"
)

const benchUsage = `usage: newswatch bench <subcommand> [flags]

  pipeline [--articles N] [--rate R] [--bytes B]
        publish N distinct articles to a running newswatch, wait for their
        alerts, and print articles/s end to end and alert latency beside a
        do-nothing two-hop JetStream relay through the same server
  soak --metrics-url URL [--articles N] [--rate R] [--rounds K] [--settle 20s]
        publish K rounds of N articles at R per second and print the
        newswatch process's resident memory and Go heap before, and
        --settle after each round

Every subcommand takes -config FILE and -nats-url URL to find the running
newswatch. The run adds a watch bench-<run> and removes it at the end.`

// runBench is `newswatch bench`.
func runBench(ctx context.Context, args []string, io IO) int {
	sub, rest, code, ok := subcommand(args, benchUsage, io)
	if !ok {
		return code
	}
	if sub != "pipeline" && sub != "soak" {
		fmt.Fprintf(io.Stderr, "newswatch bench: unknown subcommand %q\n\n%s\n", sub, benchUsage)
		return 2
	}
	fs := flag.NewFlagSet("bench "+sub, flag.ContinueOnError)
	fs.SetOutput(io.Stderr)
	flags := operatorFlags(fs)
	n := fs.Int("articles", 5000, "distinct `articles` to publish (per round for soak)")
	rate := fs.Float64("rate", 0, "articles per `second` (0: as fast as the server acks)")
	size := fs.Int("bytes", 5000, "approximate `size` of each article's text")
	timeout := fs.Duration("timeout", 2*time.Minute, "how long to wait for the last alert after the last publish")
	metricsURL := fs.String("metrics-url", "", "soak: the running newswatch's `URL` of /metrics (http.listen), e.g. http://127.0.0.1:9090/metrics")
	rounds := fs.Int("rounds", 2, "soak: `rounds` of --articles")
	settle := fs.Duration("settle", 20*time.Second, "soak: wait this `long` after a round's last alert before reading memory")
	fs.Usage = usageFunc(fs, "newswatch bench "+sub+" [flags]")
	if code, ok := parseFlags(fs, rest, io); !ok {
		return code
	}
	if *n < 1 || *size < 100 || *rate < 0 || *rounds < 1 {
		fmt.Fprintln(io.Stderr, "newswatch bench: --articles must be at least 1, --bytes at least 100, --rate 0 or more, --rounds at least 1")
		return 2
	}
	if sub == "soak" && *metricsURL == "" {
		fmt.Fprintln(io.Stderr, "newswatch bench soak: --metrics-url is required (the running newswatch's http.listen, e.g. http://127.0.0.1:9090/metrics)")
		return 2
	}
	op, err := connectOperator(flags)
	if err != nil {
		fmt.Fprintf(io.Stderr, "newswatch bench: %v\n", err)
		return 1
	}
	defer op.Close()
	wkv, err := op.js.KeyValue(ctx, topology.BucketWatches)
	if err != nil {
		fmt.Fprintf(io.Stderr, "newswatch bench: opening %s: %v (is newswatch running with an analyzer and a notifier?)\n", topology.BucketWatches, err)
		return 1
	}
	b := pipebench.New(op.js)
	fmt.Fprintf(io.Stdout, "adding watch %s and waiting for a probe article's alert\n", b.WatchID())
	if err := b.AddWatch(ctx, wkv, time.Minute); err != nil {
		fmt.Fprintf(io.Stderr, "newswatch bench: %v\n", err)
		return 1
	}
	defer func() { _ = b.RemoveWatch(context.WithoutCancel(ctx), wkv) }()
	progress := func(pub, alerted int) {
		fmt.Fprintf(io.Stderr, "\rpublished %d, alerted %d ", pub, alerted)
	}
	opts := pipebench.Options{Articles: *n, Rate: *rate, Bytes: *size, Timeout: *timeout, Progress: progress}
	if sub == "soak" {
		return benchSoak(ctx, io, b, opts, *metricsURL, *rounds, *settle)
	}

	relay, err := b.Relay(ctx, *n, *size+600, *timeout)
	if err != nil {
		fmt.Fprintf(io.Stderr, "newswatch bench: relay: %v\n", err)
		return 1
	}
	res, err := b.Pipeline(ctx, opts)
	fmt.Fprintln(io.Stderr)
	if err != nil {
		fmt.Fprintf(io.Stderr, "newswatch bench: pipeline: %v\n", err)
		return 1
	}
	fmt.Fprintf(io.Stdout, "relay (2 hops, same server): %d messages in %.2fs = %.0f msgs/s\n", relay.Messages, relay.Elapsed.Seconds(), relay.PerSecond())
	fmt.Fprintf(io.Stdout, "pipeline (fetcher skipped):  %d articles in %.2fs = %.0f articles/s = %.2fx relay\n", res.Messages, res.Elapsed.Seconds(), res.PerSecond(), res.PerSecond()/relay.PerSecond())
	printLatency(io, res)
	return 0
}

func printLatency(io IO, res pipebench.Result) {
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	fmt.Fprintf(io.Stdout, "alert latency, article stored -> alert stored (%d alerts): p50 %.1f ms  p90 %.1f ms  p99 %.1f ms  max %.1f ms\n",
		len(res.Latencies), ms(res.Quantile(0.5)), ms(res.Quantile(0.9)), ms(res.Quantile(0.99)), ms(res.Quantile(1)))
}

func benchSoak(ctx context.Context, io IO, b *pipebench.Bench, opts pipebench.Options, metricsURL string, rounds int, settle time.Duration) int {
	mib := func(f float64) float64 { return f / (1 << 20) }
	show := func(label string) bool {
		m, err := pipebench.ReadMemory(ctx, metricsURL)
		if err != nil {
			fmt.Fprintf(io.Stderr, "newswatch bench soak: %v\n", err)
			return false
		}
		fmt.Fprintf(io.Stdout, "%-28s resident %6.1f MiB  heap in use %6.1f MiB\n", label, mib(m.Resident), mib(m.HeapInuse))
		return true
	}
	if !show("before") {
		return 1
	}
	for r := 1; r <= rounds; r++ {
		res, err := b.Pipeline(ctx, opts)
		fmt.Fprintln(io.Stderr)
		if err != nil {
			fmt.Fprintf(io.Stderr, "newswatch bench soak: round %d: %v\n", r, err)
			return 1
		}
		fmt.Fprintf(io.Stdout, "round %d: %d articles, all alerted, in %.1fs (%.0f articles/s)\n", r, res.Messages, res.Elapsed.Seconds(), res.PerSecond())
		printLatency(io, res)
		select {
		case <-time.After(settle):
		case <-ctx.Done():
			return 1
		}
		if !show(fmt.Sprintf("round %d + %s", r, settle)) {
			return 1
		}
	}
	return 0
}

package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/newswatch/newswatch/pkg/app"
	"github.com/newswatch/newswatch/pkg/config"
	"github.com/newswatch/newswatch/pkg/demosite"
	"github.com/newswatch/newswatch/pkg/events"
	"github.com/newswatch/newswatch/pkg/topology"
)

// demoWatches are the watches the demo runs: the ones of the examples.
var demoWatches = []config.Watch{
	{ID: "mq-9b", Query: `"MQ-9B"`},
	{ID: "quad", Query: `Quad`},
}

// runDemo is `newswatch demo`: the all-in-one against the bundled sample
// news site, printing each alert as it arrives.
func runDemo(ctx context.Context, args []string, io IO) int {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(io.Stderr)
	dataDir := fs.String("data", "", "JetStream storage `dir` (default: a temporary directory, removed at exit)")
	maxAlerts := fs.Int("max-alerts", 0, "exit after `n` alerts (0: run until interrupted)")
	timeout := fs.Duration("timeout", 0, "exit after this `duration` (0: run until interrupted)")
	verbose := fs.Bool("v", false, "show the workers' logs")
	if code, ok := parseFlags(fs, args, io); !ok {
		return code
	}
	if *timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *timeout)
		defer cancel()
	}
	dir := *dataDir
	if dir == "" {
		tmp, err := os.MkdirTemp("", "newswatch-demo-")
		if err != nil {
			fmt.Fprintf(io.Stderr, "newswatch demo: %v\n", err)
			return 1
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintf(io.Stderr, "newswatch demo: sample site: %v\n", err)
		return 1
	}
	site := &http.Server{Handler: demosite.Handler(), ReadHeaderTimeout: 5 * time.Second}
	go site.Serve(ln)
	defer site.Close()
	feedURL := "http://" + ln.Addr().String() + "/feed.xml"

	cfg := config.Default()
	cfg.NATS.Listen = "127.0.0.1:0"
	cfg.NATS.StoreDir = dir
	cfg.HTTP.Listen = "127.0.0.1:0"
	cfg.Fetcher.AllowPrivateNetworks = true // the sample site is on loopback
	cfg.Feeds = []config.Feed{{ID: "demo", URL: feedURL, Interval: time.Minute}}
	cfg.Watches = demoWatches
	if err := cfg.Validate(); err != nil {
		fmt.Fprintf(io.Stderr, "newswatch demo: %v\n", err)
		return 1
	}
	logCfg := cfg.Log
	if !*verbose {
		logCfg.Level = "error"
	}
	logger := app.NewLogger(logCfg, io.Stderr)

	a, err := app.Start(ctx, &cfg, app.All, true, logger)
	if err != nil {
		fmt.Fprintf(io.Stderr, "newswatch demo: %v\n", err)
		return 1
	}
	defer a.Stop()
	fmt.Fprintf(io.Stdout, "newswatch demo: sample site %s, NATS %s, metrics http://%s/metrics\n",
		feedURL, a.Conn().ConnectedUrl(), a.StatusAddr())
	fmt.Fprintf(io.Stdout, "watches: mq-9b = %s, quad = %s; waiting for alerts on alerts.> (Ctrl-C to stop)\n\n",
		demoWatches[0].Query, demoWatches[1].Query)

	// Read the ALERTS stream from its start, so no alert published before
	// this line is missed.
	cons, err := a.JetStream().OrderedConsumer(ctx, topology.StreamAlerts, jetstream.OrderedConsumerConfig{})
	if err != nil {
		fmt.Fprintf(io.Stderr, "newswatch demo: reading %s: %v\n", topology.StreamAlerts, err)
		return 1
	}
	got := make(chan jetstream.Msg, 64)
	cc, err := cons.Consume(func(m jetstream.Msg) { got <- m })
	if err != nil {
		fmt.Fprintf(io.Stderr, "newswatch demo: reading %s: %v\n", topology.StreamAlerts, err)
		return 1
	}
	defer cc.Stop()
	n := 0
	for {
		select {
		case <-ctx.Done():
			if n == 0 {
				fmt.Fprintln(io.Stderr, "newswatch demo: no alert arrived; run with -v to see the workers' logs")
				return 1
			}
			return 0
		case m := <-got:
			n++
			printAlert(io, m.Subject(), m.Data())
			if *maxAlerts > 0 && n >= *maxAlerts {
				return 0
			}
		}
	}
}

func printAlert(io IO, subject string, data []byte) {
	var ev events.CloudEvent
	if err := json.Unmarshal(data, &ev); err != nil {
		fmt.Fprintf(io.Stdout, "%s: %s\n", subject, data)
		return
	}
	a := ev.Data
	fmt.Fprintf(io.Stdout, "ALERT %s  watch=%s  story=%s\n  %s\n  %s (%s)\n", subject, a.WatchID, a.StoryID, a.Title, a.URL, a.Source)
	if len(a.Topics) > 0 {
		fmt.Fprintf(io.Stdout, "  topics: %v\n", a.Topics)
	}
	for i, mt := range a.Matches {
		if i == 3 {
			fmt.Fprintf(io.Stdout, "  ... %d more matches\n", len(a.Matches)-3)
			break
		}
		fmt.Fprintf(io.Stdout, "  [%s in %s] %s\n", mt.Term, mt.Field, mt.Snippet)
	}
	fmt.Fprintln(io.Stdout)
}

// runDemoSite is `newswatch demo-site`: the bundled sample news site alone,
// for pointing `newswatch run` at a feed on this machine.
func runDemoSite(ctx context.Context, args []string, io IO) int {
	fs := flag.NewFlagSet("demo-site", flag.ContinueOnError)
	fs.SetOutput(io.Stderr)
	listen := fs.String("listen", "127.0.0.1:8080", "`address` to serve the sample site on")
	if code, ok := parseFlags(fs, args, io); !ok {
		return code
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintf(io.Stderr, "newswatch demo-site: cannot listen on %s: %v (pick another --listen)\n", *listen, err)
		return 1
	}
	srv := &http.Server{Handler: demosite.Handler(), ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	fmt.Fprintf(io.Stdout, "sample news site on http://%s/ (feed: http://%s/feed.xml)\n", ln.Addr(), ln.Addr())
	if err := srv.Serve(ln); err != nil && ctx.Err() == nil {
		fmt.Fprintf(io.Stderr, "newswatch demo-site: %v\n", err)
		return 1
	}
	return 0
}

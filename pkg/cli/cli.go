// Package cli implements the newswatch command line: the all-in-one runner,
// the demo and the operator and analyst commands.
package cli

import (
	"context"
	"fmt"
	"io"
	"os/signal"
	"sort"
	"syscall"
)

// IO bundles a command's standard streams.
type IO struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
}

// command runs one subcommand with its arguments and returns the exit code.
type command struct {
	run   func(ctx context.Context, args []string, io IO) int
	usage string
}

// commands is the explicit table of subcommands.
var commands = map[string]command{
	"run":       {runRun, "run every worker in one process (embedded NATS unless nats.url is set): run --config FILE"},
	"demo":      {runDemo, "run everything against a bundled sample news site and print the alerts"},
	"demo-site": {runDemoSite, "serve the bundled sample news site: demo-site [--listen ADDR]"},
	"watch":     {runWatch, "manage watches at run time: watch add|list|show|rm|pause|resume"},
	"version":   {runVersion, "print the version"},
	"feeds":     {runFeeds, "manage feeds at run time and see their state: feeds [list]|add|rm|pause|resume|import-opml"},
	"alerts":    {runAlerts, "past alerts from the ALERTS stream: alerts list|show"},
	"silence":   {runSilence, "mute a watch for a while or one story of it: silence add|list|rm"},
	"dlq":       {runDLQ, "undeliverable alerts: dlq list|replay"},
	"backtest":  {runBacktest, "what a query would have alerted on in the stored analyzed articles: backtest --query Q [--since 168h] [--json]"},
	"replay":    {runReplay, "re-analyse stored articles (after a taxonomy, model or gazetteer change): replay --since 24h"},
	"bench":     {runBench, "measure a running newswatch: bench pipeline|soak (see bench with no subcommand)"},
	"extract":   {runExtract, "extract an article page as JSON: extract --url URL [--file FILE]"},
	"analyze":   {runAnalyze, "flag topics and entities of JSON-lines articles on stdin"},
	"match":     {runMatch, "test a watch query on JSON-lines articles on stdin: match --query Q"},
	"topics":    {runTopics, "learn a topic model from labelled JSON lines, or word clusters from word vectors: topics train --items FILE --out MODEL | topics clusters --vectors FILE --out FILE"},
}

// Main runs the newswatch command line and returns the process exit code.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	streams := IO{Stdin: stdin, Stdout: stdout, Stderr: stderr}
	if len(args) == 0 {
		printUsage(stderr)
		return 2
	}
	if isHelp(args[0]) {
		if len(args) > 1 { // `newswatch help watch` is `newswatch watch -h`
			args = []string{args[1], "-h"}
		} else {
			printUsage(stdout)
			return 0
		}
	}
	if args[0] == "-version" || args[0] == "--version" {
		args[0] = "version"
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "newswatch: unknown command %q\n\n", args[0])
		printUsage(stderr)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	return cmd.run(ctx, args[1:], streams)
}

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "usage: newswatch <command> [subcommand] [flags]\n\ncommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-9s %s\n", n, commands[n].usage)
	}
	fmt.Fprintln(w, "\n`newswatch <command> -h` (or `newswatch help <command>`) shows a command's subcommands and flags.")
}

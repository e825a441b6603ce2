package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/newswatch/newswatch/pkg/analyzer"
	"github.com/newswatch/newswatch/pkg/app"
	"github.com/newswatch/newswatch/pkg/config"
	"github.com/newswatch/newswatch/pkg/events"
	"github.com/newswatch/newswatch/pkg/topics"
)

// maxAnalyzeLine bounds one JSON line on stdin: full article bodies of a
// megabyte or more must fit.
const maxAnalyzeLine = 16 << 20

// analyzeInput is the part of a JSON line analyze reads; a full
// events.Article has these fields too.
type analyzeInput struct {
	ID    string `json:"id"`
	Title string `json:"title"`
	Text  string `json:"text"`
}

// analyzeOutput is one result line.
type analyzeOutput struct {
	ID       string          `json:"id"`
	Topics   []events.Topic  `json:"topics"`
	Entities []events.Entity `json:"entities"`
}

// runAnalyze flags the topics of JSON-lines articles read from stdin and
// writes one JSON line per article, or with --explain a readable account.
func runAnalyze(ctx context.Context, args []string, io IO) int {
	fs := flag.NewFlagSet("analyze", flag.ContinueOnError)
	fs.SetOutput(io.Stderr)
	explain := fs.Bool("explain", false, "print a readable account of every topic's score instead of JSON")
	taxonomyFile := fs.String("taxonomy", "", "YAML taxonomy file (default: the built-in taxonomy)")
	gazetteerFile := fs.String("gazetteer", "", "YAML file of extra gazetteer entries (docs/entities.md)")
	modelFile := fs.String("model", "", "topic model file from `newswatch topics train`, merged over the built-in model (docs/topics.md)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: newswatch analyze [--explain] [--taxonomy FILE] [--model FILE] [--gazetteer FILE] < articles.jsonl")
		fmt.Fprintln(fs.Output(), "\nReads JSON lines with id, title and text; writes {id, topics, entities} lines.")
		fs.PrintDefaults()
	}
	if code, ok := parseFlags(fs, args, io); !ok {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(io.Stderr, "newswatch analyze: unexpected argument %q; articles are read from stdin\n", fs.Arg(0))
		return 2
	}
	tax := topics.DefaultTaxonomy()
	if *taxonomyFile != "" {
		b, err := os.ReadFile(*taxonomyFile)
		if err != nil {
			fmt.Fprintf(io.Stderr, "newswatch analyze: %v\n", err)
			return 2
		}
		if tax, err = topics.ParseTaxonomy(b); err != nil {
			fmt.Fprintf(io.Stderr, "newswatch analyze: %s: %v\n", *taxonomyFile, err)
			return 2
		}
	}
	var cfg config.Config
	cfg.Analyzer.TopicModelFile = *modelFile
	model, err := app.TopicModel(&cfg)
	if err != nil {
		fmt.Fprintf(io.Stderr, "newswatch analyze: %v\n", err)
		return 2
	}
	clf, err := topics.New(tax, topics.WithModel(model))
	if err != nil {
		fmt.Fprintf(io.Stderr, "newswatch analyze: %v\n", err)
		return 2
	}
	cfg.Analyzer.GazetteerFile = *gazetteerFile
	gz, err := app.Gazetteer(&cfg)
	if err != nil {
		fmt.Fprintf(io.Stderr, "newswatch analyze: %v\n", err)
		return 2
	}
	// The production path: one normalisation and one automaton pass for the
	// taxonomy and the gazetteer, as in the analyzer worker.
	an, err := analyzer.New(clf, gz, nil, analyzer.NewMetrics(prometheus.NewRegistry()))
	if err != nil {
		fmt.Fprintf(io.Stderr, "newswatch analyze: %v\n", err)
		return 2
	}
	return analyzeStream(ctx, clf, an, *explain, io)
}

func analyzeStream(ctx context.Context, clf *topics.Classifier, an *analyzer.Analyzer, explain bool, streams IO) int {
	sc := bufio.NewScanner(streams.Stdin)
	sc.Buffer(make([]byte, 0, 64<<10), maxAnalyzeLine)
	out := bufio.NewWriter(streams.Stdout)
	defer out.Flush()
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	bad := 0
	line := 0
	for sc.Scan() {
		line++
		if ctx.Err() != nil {
			fmt.Fprintf(streams.Stderr, "newswatch analyze: interrupted at line %d\n", line)
			return 1
		}
		raw := bytes.TrimSpace(sc.Bytes())
		if len(raw) == 0 {
			continue
		}
		var in analyzeInput
		if err := json.Unmarshal(raw, &in); err != nil {
			fmt.Fprintf(streams.Stderr, "newswatch analyze: line %d: not a JSON article: %v\n", line, err)
			bad++
			continue
		}
		if in.Title == "" && in.Text == "" {
			fmt.Fprintf(streams.Stderr, "newswatch analyze: line %d: no \"title\" or \"text\" to analyze\n", line)
			bad++
			continue
		}
		if explain {
			if err := writeExplanation(out, line, in, clf.Explain(in.Title, in.Text)); err != nil {
				fmt.Fprintf(streams.Stderr, "newswatch analyze: %v\n", err)
				return 1
			}
			continue
		}
		a, err := an.Analyze(ctx, events.Article{ID: in.ID, Title: in.Title, Text: in.Text})
		if err != nil {
			fmt.Fprintf(streams.Stderr, "newswatch analyze: line %d: %v\n", line, err)
			return 1
		}
		res := analyzeOutput{ID: in.ID, Topics: a.Topics, Entities: a.Entities}
		if err := enc.Encode(res); err != nil {
			fmt.Fprintf(streams.Stderr, "newswatch analyze: writing output: %v\n", err)
			return 1
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			fmt.Fprintf(streams.Stderr, "newswatch analyze: line %d: longer than %d bytes\n", line+1, maxAnalyzeLine)
		} else {
			fmt.Fprintf(streams.Stderr, "newswatch analyze: reading stdin: %v\n", err)
		}
		return 1
	}
	if bad > 0 {
		fmt.Fprintf(streams.Stderr, "newswatch analyze: %d bad line(s) skipped\n", bad)
		return 1
	}
	return 0
}

func writeExplanation(w io.Writer, line int, in analyzeInput, ex topics.Explanation) error {
	id := in.ID
	if id == "" {
		id = fmt.Sprintf("line %d", line)
	}
	title := in.Title
	if r := []rune(title); len(r) > 120 {
		title = string(r[:120]) + "…"
	}
	if _, err := fmt.Fprintf(w, "%s: %s\n", id, title); err != nil {
		return err
	}
	if err := ex.WriteText(w); err != nil {
		return err
	}
	_, err := fmt.Fprintln(w)
	return err
}

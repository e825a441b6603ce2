package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/newswatch/newswatch/pkg/topics"
)

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

// runTopics dispatches the topics subcommands.
func runTopics(ctx context.Context, args []string, io IO) int {
	if len(args) > 0 {
		switch args[0] {
		case "train":
			return runTopicsTrain(ctx, args[1:], io)
		case "clusters":
			return runTopicsClusters(ctx, args[1:], io)
		}
	}
	fmt.Fprintln(io.Stderr, "usage: newswatch topics train --items FILE [--items FILE...] --out MODEL [flags]")
	fmt.Fprintln(io.Stderr, "       newswatch topics clusters --vectors FILE --out FILE [--words 50000] [--k 200,1000,3000] [--seed 1]")
	return 2
}

// runTopicsTrain learns a topic model from labelled JSON lines and writes it.
func runTopicsTrain(ctx context.Context, args []string, io IO) int {
	fs := flag.NewFlagSet("topics train", flag.ContinueOnError)
	fs.SetOutput(io.Stderr)
	var items stringList
	fs.Var(&items, "items", "JSON-lines file of labelled items {id,title,text,topics}; repeat for several")
	out := fs.String("out", "", "model file to write (JSON)")
	taxonomyFile := fs.String("taxonomy", "", "YAML taxonomy whose features the model reads (default: the built-in taxonomy)")
	topicList := fs.String("topics", "", "comma-separated topics to learn (default: every label in the items)")
	grid := fs.Bool("grid", true, "compare the feature option sets by cross-validation; false uses the built-in model's options, so the model can be merged over it (analyzer.topic_model_file)")
	lambdas := fs.String("lambdas", "", "comma-separated L2 penalties to compare (default 0.00003,0.0001,0.0003,0.001,0.003)")
	folds := fs.Int("folds", 5, "cross-validation folds")
	minDF := fs.Int("min-df", 2, "drop features seen in fewer items")
	minWeight := fs.Float64("min-weight", 0.01, "drop learned weights smaller in magnitude (in the cross-validation too)")
	seed := fs.Uint64("seed", 1, "seed of the assignment of story groups to cross-validation folds")
	repeats := fs.Int("repeats", 3, "fold assignments (seeds seed, seed+1, ...) whose cross-validated F1 the choice of feature set averages")
	ratio := fs.Float64("ratio-smoothing", 0.5, "smoothing count of the log-count ratio scaling of features (NBSVM-style); negative turns it off")
	quiet := fs.Bool("quiet", false, "print only the summary")
	fs.Usage = func() {
		fmt.Fprintln(io.Stderr, "usage: newswatch topics train --items FILE [--items FILE...] --out MODEL [flags]")
		fmt.Fprintln(io.Stderr, "\nLearns each topic's weights (logistic regression), penalty and threshold by grouped 5-fold")
		fmt.Fprintln(io.Stderr, "cross-validation, prints the cross-validated figures and writes the model (docs/topics.md).")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if len(items) == 0 || *out == "" {
		fmt.Fprintln(io.Stderr, "newswatch topics train: give --items FILE and --out MODEL")
		return 2
	}
	var opts topics.TrainOptions
	if *lambdas != "" {
		for _, s := range strings.Split(*lambdas, ",") {
			v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
			if err != nil || v <= 0 {
				fmt.Fprintf(io.Stderr, "newswatch topics train: --lambdas: %q is not a positive number\n", s)
				return 2
			}
			opts.Lambdas = append(opts.Lambdas, v)
		}
	}
	tax := topics.DefaultTaxonomy()
	if *taxonomyFile != "" {
		b, err := os.ReadFile(*taxonomyFile)
		if err != nil {
			fmt.Fprintf(io.Stderr, "newswatch topics train: %v\n", err)
			return 2
		}
		if tax, err = topics.ParseTaxonomy(b); err != nil {
			fmt.Fprintf(io.Stderr, "newswatch topics train: %s: %v\n", *taxonomyFile, err)
			return 2
		}
	}
	clf, err := topics.New(tax, topics.WithModel(nil))
	if err != nil {
		fmt.Fprintf(io.Stderr, "newswatch topics train: %v\n", err)
		return 2
	}
	var all []topics.Item
	for _, name := range items {
		f, err := os.Open(name)
		if err != nil {
			fmt.Fprintf(io.Stderr, "newswatch topics train: %v\n", err)
			return 2
		}
		its, err := topics.ReadItems(f, name)
		f.Close()
		if err != nil {
			fmt.Fprintf(io.Stderr, "newswatch topics train: %v\n", err)
			return 2
		}
		all = append(all, its...)
	}
	if *repeats < 1 {
		fmt.Fprintf(io.Stderr, "newswatch topics train: --repeats %d: give 1 or more\n", *repeats)
		return 2
	}
	opts.Folds, opts.MinDF, opts.MinWeight, opts.RatioSmoothing, opts.Seed, opts.Repeats = *folds, *minDF, *minWeight, *ratio, *seed, *repeats
	if *topicList != "" {
		opts.Topics = strings.Split(*topicList, ",")
	}
	if !*grid {
		opts.FeatureGrid = []topics.FeatureOptions{topics.DefaultModel().Features}
	}
	if !*quiet {
		opts.Log = io.Stderr
	}
	if ctx.Err() != nil {
		return 1
	}
	m, rep, err := topics.Train(clf, all, opts)
	if err != nil {
		fmt.Fprintf(io.Stderr, "newswatch topics train: %v\n", err)
		return 1
	}
	b, err := m.Marshal()
	if err != nil {
		fmt.Fprintf(io.Stderr, "newswatch topics train: %v\n", err)
		return 1
	}
	if err := os.WriteFile(*out, b, 0o644); err != nil {
		fmt.Fprintf(io.Stderr, "newswatch topics train: %v\n", err)
		return 1
	}
	w := io.Stdout
	fmt.Fprintf(w, "%d items, %d story groups, %d folds grouped by story\n", rep.Items, rep.Groups, rep.Folds)
	fmt.Fprintf(w, "features: %+v\n", rep.Chosen)
	for _, t := range rep.Topics {
		fmt.Fprintf(w, "%s: positives %d, lambda %g, threshold %.3f, CV F1 %.3f (P %.3f R %.3f), Brier %.4f; CV F1 over %d fold assignments %.3f",
			t.Name, t.Positives, t.Lambda, t.Threshold, t.CV.F1, t.CV.Precision, t.CV.Recall, t.CV.Brier, rep.Repeats, t.MeanF1)
		if len(t.Without) > 0 {
			fmt.Fprintf(w, "; without %s", strings.Join(t.Without, ", "))
		}
		fmt.Fprintln(w)
		fmt.Fprintln(w, "  calibration (out-of-fold): bin  items  mean predicted  observed")
		for _, b := range t.Calibration {
			if b.N > 0 {
				fmt.Fprintf(w, "    %.1f-%.1f  %5d  %.3f  %.3f\n", b.Lo, b.Hi, b.N, b.Predicted, b.Observed)
			}
		}
	}
	fmt.Fprintf(w, "wrote %s\n", *out)
	return 0
}

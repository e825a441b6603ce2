package wordclust

import (
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
// clusters (random vectors never settle, so Lloyd runs its 30 iterations).
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

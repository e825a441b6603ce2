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

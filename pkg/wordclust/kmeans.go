package wordclust

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

const (
	maxIterations = 30
	// chunk is the number of words one goroutine takes at a time. The
	// parallel steps compute each word's result on its own, so neither the
	// chunking nor GOMAXPROCS changes the output.
	chunk = 512
)

// Build clusters the words by their vectors, one spherical k-means per k in
// ks (the levels, in that order). Vectors are scaled to unit length and a
// word joins the centroid with the largest dot product (cosine). Centroids
// start by k-means++ from a PCG generator seeded by seed and k, so each
// level is the same whatever the other levels; Lloyd iterations stop when
// fewer than 0.1% of the words change cluster, or after 30. A cluster left
// empty takes the word farthest from its own centroid. The assignment runs
// on GOMAXPROCS goroutines; the result is byte-identical for any
// GOMAXPROCS.
func Build(words []string, vecs [][]float32, ks []int, seed uint64) (*Clusters, error) {
	n := len(words)
	if n == 0 || len(vecs) != n {
		return nil, fmt.Errorf("%w: %d words and %d vectors: give one vector per word, at least one word", ErrInput, n, len(vecs))
	}
	if len(ks) == 0 {
		return nil, fmt.Errorf("%w: no levels: give at least one number of clusters k", ErrInput)
	}
	for _, k := range ks {
		if k < 1 || k > n || k > MaxK {
			return nil, fmt.Errorf("%w: k = %d clusters for %d words: k must be from 1 to the number of words (and at most %d)", ErrInput, k, n, MaxK)
		}
	}
	d := len(vecs[0])
	if d == 0 {
		return nil, fmt.Errorf("%w: vector of %q is empty", ErrInput, words[0])
	}
	seen := make(map[string]bool, n)
	for i, w := range words {
		if why := checkWord(w); why != "" {
			return nil, fmt.Errorf("%w: word %d %q: %s", ErrInput, i+1, w, why)
		}
		if seen[w] {
			return nil, fmt.Errorf("%w: word %q is given twice: give each word once", ErrInput, w)
		}
		seen[w] = true
		if len(vecs[i]) != d {
			return nil, fmt.Errorf("%w: vector of %q has %d dimensions, the first has %d", ErrInput, w, len(vecs[i]), d)
		}
	}
	x := normalise(vecs, d)
	c := &Clusters{
		levels: append([]int(nil), ks...),
		words:  append([]string(nil), words...),
		ids:    make([]uint16, n*len(ks)),
	}
	for l, k := range ks {
		t0 := time.Now()
		km := newKMeans(x, n, d, k)
		st := km.run(rand.New(rand.NewPCG(seed, uint64(k))))
		st.Elapsed = time.Since(t0)
		for i, a := range km.assign {
			c.ids[i*len(ks)+l] = uint16(a)
		}
		c.stats = append(c.stats, st)
	}
	c.finish()
	return c, nil
}

// normalise copies the vectors into one flat slice, each scaled to unit
// length (a zero vector stays zero).
func normalise(vecs [][]float32, d int) []float32 {
	x := make([]float32, len(vecs)*d)
	for i, v := range vecs {
		var s float64
		for _, f := range v {
			s += float64(f) * float64(f)
		}
		row := x[i*d : (i+1)*d]
		if s == 0 {
			continue
		}
		inv := 1 / math.Sqrt(s)
		for j, f := range v {
			row[j] = float32(float64(f) * inv)
		}
	}
	return x
}

// kmeans is one level's state.
type kmeans struct {
	x       []float32 // n unit vectors of d
	n, d, k int
	cent    []float32 // k centroids of d
	assign  []int32   // word -> cluster
	best    []float32 // word -> dot with its cluster's centroid
	changed atomic.Int64
}

func newKMeans(x []float32, n, d, k int) *kmeans {
	km := &kmeans{x: x, n: n, d: d, k: k, cent: make([]float32, k*d), assign: make([]int32, n), best: make([]float32, n)}
	for i := range km.assign {
		km.assign[i] = -1
	}
	return km
}

func (km *kmeans) run(rng *rand.Rand) LevelStats {
	st := LevelStats{K: km.k}
	km.seed(rng)
	counts := make([]int, km.k)
	for it := 1; it <= maxIterations; it++ {
		km.changed.Store(0)
		parallel(km.n, km.assignChunk)
		moved := km.fillEmpty(counts)
		changed := int(km.changed.Load()) + moved
		st.Iterations, st.Changed, st.Reseeded = it, changed, st.Reseeded+moved
		if changed*1000 < km.n || it == maxIterations {
			break
		}
		km.update(counts)
	}
	return st
}

// seed picks the first centroids by k-means++: each next centroid is a word
// drawn with probability proportional to its squared distance to the
// nearest centroid so far (for unit vectors, 2 - 2·dot).
func (km *kmeans) seed(rng *rand.Rand) {
	n, d := km.n, km.d
	near := make([]float32, n) // largest dot with a chosen centroid
	for i := range near {
		near[i] = -2
	}
	pick := rng.IntN(n)
	for c := 0; c < km.k; c++ {
		cen := km.cent[c*d : (c+1)*d]
		copy(cen, km.x[pick*d:(pick+1)*d])
		if c == km.k-1 {
			break
		}
		parallel(n, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				if p := dot(km.x[i*d:(i+1)*d], cen); p > near[i] {
					near[i] = p
				}
			}
		})
		var total float64
		for _, p := range near {
			total += dist2(p)
		}
		if total <= 0 {
			// Every word sits on a centroid already (duplicate vectors):
			// take the words in order.
			pick = (pick + 1) % n
			continue
		}
		r := rng.Float64() * total
		pick = n - 1
		var acc float64
		for i, p := range near {
			acc += dist2(p)
			if acc > r {
				pick = i
				break
			}
		}
	}
}

func dist2(p float32) float64 {
	if q := 2 - 2*float64(p); q > 0 {
		return q
	}
	return 0
}

// assignChunk assigns words lo..hi to their nearest centroid, four words at
// a time so each centroid is loaded once per four dot products.
func (km *kmeans) assignChunk(lo, hi int) {
	d, k := km.d, km.k
	changed := 0
	i := lo
	for ; i+4 <= hi; i += 4 {
		a := km.x[i*d : (i+1)*d]
		b := km.x[(i+1)*d : (i+2)*d]
		e := km.x[(i+2)*d : (i+3)*d]
		f := km.x[(i+3)*d : (i+4)*d]
		var bi [4]int32
		bd := [4]float32{-3, -3, -3, -3}
		for c := 0; c < k; c++ {
			p0, p1, p2, p3 := dot4(km.cent[c*d:(c+1)*d], a, b, e, f)
			if p0 > bd[0] {
				bd[0], bi[0] = p0, int32(c)
			}
			if p1 > bd[1] {
				bd[1], bi[1] = p1, int32(c)
			}
			if p2 > bd[2] {
				bd[2], bi[2] = p2, int32(c)
			}
			if p3 > bd[3] {
				bd[3], bi[3] = p3, int32(c)
			}
		}
		for j := range 4 {
			if km.assign[i+j] != bi[j] {
				changed++
			}
			km.assign[i+j], km.best[i+j] = bi[j], bd[j]
		}
	}
	for ; i < hi; i++ {
		v := km.x[i*d : (i+1)*d]
		var bi int32
		var bd float32 = -3
		for c := 0; c < k; c++ {
			if p := dot(v, km.cent[c*d:(c+1)*d]); p > bd {
				bd, bi = p, int32(c)
			}
		}
		if km.assign[i] != bi {
			changed++
		}
		km.assign[i], km.best[i] = bi, bd
	}
	km.changed.Add(int64(changed))
}

// fillEmpty gives each empty cluster, in id order, the word farthest from
// its own centroid among clusters of two or more words, and returns how
// many words moved. counts is filled with the cluster sizes.
func (km *kmeans) fillEmpty(counts []int) int {
	clear(counts)
	for _, a := range km.assign {
		counts[a]++
	}
	moved := 0
	for c := range counts {
		if counts[c] > 0 {
			continue
		}
		far := -1
		for i, a := range km.assign {
			if counts[a] > 1 && (far < 0 || km.best[i] < km.best[far]) {
				far = i
			}
		}
		if far < 0 {
			break // cannot happen while k <= n
		}
		counts[km.assign[far]]--
		counts[c]++
		km.assign[far], km.best[far] = int32(c), 1
		copy(km.cent[c*km.d:(c+1)*km.d], km.x[far*km.d:(far+1)*km.d])
		moved++
	}
	return moved
}

// update moves each centroid to the normalised sum of its words, summed in
// word order.
func (km *kmeans) update(counts []int) {
	d := km.d
	sum := make([]float64, km.k*d)
	for i, a := range km.assign {
		s := sum[int(a)*d : (int(a)+1)*d]
		for j, f := range km.x[i*d : (i+1)*d] {
			s[j] += float64(f)
		}
	}
	for c := 0; c < km.k; c++ {
		s := sum[c*d : (c+1)*d]
		var norm float64
		for _, f := range s {
			norm += f * f
		}
		if counts[c] == 0 || norm == 0 {
			continue // keep the old centroid
		}
		inv := 1 / math.Sqrt(norm)
		cen := km.cent[c*d : (c+1)*d]
		for j, f := range s {
			cen[j] = float32(f * inv)
		}
	}
}

// parallel runs f over [0, n) in fixed chunks on GOMAXPROCS goroutines.
func parallel(n int, f func(lo, hi int)) {
	workers := min(runtime.GOMAXPROCS(0), (n+chunk-1)/chunk)
	if workers <= 1 {
		for lo := 0; lo < n; lo += chunk {
			f(lo, min(lo+chunk, n))
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				lo := int(next.Add(chunk)) - chunk
				if lo >= n {
					return
				}
				f(lo, min(lo+chunk, n))
			}
		})
	}
	wg.Wait()
}

// dot is the dot product of two equal-length vectors. It sums in the same
// order as dot4 (even and odd elements apart), so a word gets the same
// figures whichever of the two computes them.
func dot(a, b []float32) float32 {
	b = b[:len(a)]
	var s, t float32
	i := 0
	for ; i+2 <= len(a); i += 2 {
		s += a[i] * b[i]
		t += a[i+1] * b[i+1]
	}
	if i < len(a) {
		s += a[i] * b[i]
	}
	return s + t
}

// dot4 is the dot products of c with a, b, e and f (all of c's length).
func dot4(c, a, b, e, f []float32) (float32, float32, float32, float32) {
	n := len(c)
	a, b, e, f = a[:n], b[:n], e[:n], f[:n]
	var s0, s1, s2, s3, t0, t1, t2, t3 float32
	i := 0
	for ; i < n-1; i += 2 {
		c0, c1 := c[i], c[i+1]
		s0 += a[i] * c0
		s1 += b[i] * c0
		s2 += e[i] * c0
		s3 += f[i] * c0
		t0 += a[i+1] * c1
		t1 += b[i+1] * c1
		t2 += e[i+1] * c1
		t3 += f[i+1] * c1
	}
	if i < n {
		c0 := c[i]
		s0 += a[i] * c0
		s1 += b[i] * c0
		s2 += e[i] * c0
		s3 += f[i] * c0
	}
	return s0 + t0, s1 + t1, s2 + t2, s3 + t3
}

// Package benchtest is what the benchmarks share: the process's CPU time,
// throughput per wall second and per CPU second, and made-up words for
// dictionaries of any size.
//
// The machines the benchmarks run on are shared, so wall time measures the
// neighbours as much as the code; throughput per CPU second is the per-core
// figure. Run with -cpu 1 for the closest one: CPU time also counts the
// garbage collector's work on other cores.
package benchtest

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// Meter measures a benchmark's CPU time from Start to a Report call.
type Meter struct {
	cpu0 time.Duration
}

// Start begins measuring. Call it just before the benchmark's loop.
func Start() Meter {
	return Meter{cpu0: CPUTime()}
}

// ReportMB reports "MB/s" and "MB/cpu-s" for bytesPerOp bytes per
// iteration. Where CPU time is unavailable only "MB/s" is reported.
func (m Meter) ReportMB(b *testing.B, bytesPerOp int) {
	mb := float64(bytesPerOp) * float64(b.N) / 1e6
	b.ReportMetric(mb/b.Elapsed().Seconds(), "MB/s")
	if cpu := CPUTime() - m.cpu0; cpu > 0 {
		b.ReportMetric(mb/cpu.Seconds(), "MB/cpu-s")
	}
}

// ReportArticles reports "articles/s" and "articles/cpu-s" for one article
// per iteration. Where CPU time is unavailable only "articles/s" is
// reported.
func (m Meter) ReportArticles(b *testing.B) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "articles/s")
	if cpu := CPUTime() - m.cpu0; cpu > 0 {
		b.ReportMetric(float64(b.N)/cpu.Seconds(), "articles/cpu-s")
	}
}

// Words returns a generator of pronounceable lower-case pseudo-words of two
// to four consonant-vowel syllables ("kobe", "zalitu"), drawn from r. The
// caller owns r and may draw from it between words (how many words a name
// has, say): the same seeds and the same draws give the same words.
func Words(r *rand.Rand) func() string {
	const consonants, vowels = "bcdfghklmnprstvz", "aeiou"
	return func() string {
		var b strings.Builder
		for range 2 + r.IntN(3) {
			b.WriteByte(consonants[r.IntN(len(consonants))])
			b.WriteByte(vowels[r.IntN(len(vowels))])
		}
		return b.String()
	}
}

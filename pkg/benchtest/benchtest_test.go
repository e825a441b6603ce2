package benchtest_test

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/newswatch/newswatch/pkg/benchtest"
)

func TestWords(t *testing.T) {
	shape := regexp.MustCompile(`^([bcdfghklmnprstvz][aeiou]){2,4}$`)
	tests := []struct {
		name         string
		seed1, seed2 uint64
	}{
		{"scan and entities", 1, 2},
		{"analyzer", 3, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := benchtest.Words(rand.New(rand.NewPCG(tt.seed1, tt.seed2)))
			b := benchtest.Words(rand.New(rand.NewPCG(tt.seed1, tt.seed2)))
			for i := range 1000 {
				wa, wb := a(), b()
				if wa != wb {
					t.Fatalf("word %d: %q and %q from the same seeds", i, wa, wb)
				}
				if !shape.MatchString(wa) {
					t.Fatalf("word %d: %q is not 2-4 consonant-vowel syllables", i, wa)
				}
			}
		})
	}
}

func TestCPUTimeDoesNotDecrease(t *testing.T) {
	prev := benchtest.CPUTime()
	var sink string
	for range 1000 {
		sink = strings.Repeat("x", 1000)
		now := benchtest.CPUTime()
		if now < prev {
			t.Fatalf("CPUTime went from %v to %v", prev, now)
		}
		prev = now
	}
	_ = sink
}

func TestMeterReportsMetrics(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a benchmark for about a second")
	}
	var sink string
	r := testing.Benchmark(func(b *testing.B) {
		meter := benchtest.Start()
		for b.Loop() {
			sink = strings.Repeat("x", 100)
		}
		meter.ReportMB(b, 100)
		meter.ReportArticles(b)
	})
	_ = sink
	want := []string{"MB/s", "articles/s"}
	if benchtest.CPUTime() > 0 {
		want = append(want, "MB/cpu-s", "articles/cpu-s")
	}
	for _, name := range want {
		if v, ok := r.Extra[name]; !ok || v <= 0 {
			t.Errorf("metric %q = %v, %v; reported %v", name, v, ok, slices.Sorted(maps.Keys(r.Extra)))
		}
	}
}

// The words the scan and entities benchmarks build their dictionaries from
// (seeds 1, 2); changing them changes every benchmark's input.
func ExampleWords() {
	word := benchtest.Words(rand.New(rand.NewPCG(1, 2)))
	for range 5 {
		fmt.Println(word())
	}
	// Output:
	// sopesiva
	// zira
	// rodava
	// takofu
	// pivicomo
}

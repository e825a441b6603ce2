package analyzer

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/newswatch/newswatch/pkg/benchtest"
	"github.com/newswatch/newswatch/pkg/events"
	"github.com/newswatch/newswatch/pkg/watchset"
)

// BenchmarkAnalyzeLong runs the whole analysis (topics, entities, 1,000
// watches) of articles of 360 KB and 1.4 MB made of one repeated phrase,
// the input that used to take time quadratic in its length: the time per
// MB must stay flat (1.4 MB under 4x the time of 360 KB).
func BenchmarkAnalyzeLong(b *testing.B) {
	for _, size := range []int{360 << 10, 1400 << 10} {
		b.Run(fmt.Sprintf("%dKB", size>>10), func(b *testing.B) {
			unit := "terrorist attack. "
			text := strings.Repeat(unit, size/len(unit)+1)[:size]
			art := events.Article{ID: "long", Title: "Long article", Text: text}
			an, gz := newAnalyzer(b)
			set, err := watchset.Compile(syntheticWatches(1000), 1, gz.Aliases)
			if err != nil {
				b.Fatal(err)
			}
			if err := an.SetWatches(set); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(text)))
			meter := benchtest.Start()
			for b.Loop() {
				if _, err := an.Analyze(context.Background(), art); err != nil {
					b.Fatal(err)
				}
			}
			meter.ReportArticles(b)
			meter.ReportMB(b, len(text))
		})
	}
}

package query_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/newswatch/newswatch/pkg/benchtest"
	"github.com/newswatch/newswatch/pkg/query"
	"github.com/newswatch/newswatch/pkg/scan"
)

// benchArticle builds a deterministic ~5 KB defence news article.
func benchArticle() *query.Doc {
	sentences := []string{
		"India on Tuesday signed a deal with the United States for 31 MQ-9B drones worth about $3.5 billion.",
		"The agreement, cleared by the Cabinet Committee on Security, covers SeaGuardian and SkyGuardian variants.",
		"Officials said the Quad partners would deepen maritime domain awareness in the Indian Ocean.",
		"The Navy has leased two unarmed drones from General Atomics since 2020 for surveillance missions.",
		"Analysts in New Delhi said the purchase signals a shift towards long-endurance unmanned platforms.",
		"China's growing presence near the Andaman and Nicobar Islands has worried planners for years.",
		"The drones will be assembled partly in India, with a maintenance, repair and overhaul facility.",
		"Quad bikes, meanwhile, were banned from the beach after a spate of accidents, police said.",
	}
	var b strings.Builder
	for b.Len() < 5000 {
		for _, s := range sentences {
			b.WriteString(s)
			b.WriteByte(' ')
		}
		b.WriteString("\n")
	}
	return &query.Doc{
		Title:  "India signs $3.5 billion deal for 31 MQ-9B drones",
		Text:   b.String()[:5000],
		Source: "www.livemint.com",
		Lang:   "en",
		Topics: map[string]float64{"military": 0.91, "geopolitics": 0.55},
	}
}

// benchWatches returns n watches of the shapes analysts write.
func benchWatches(tb testing.TB, n int) []*query.Query {
	aliases := func(name string) []string {
		if name == "MQ-9B" {
			return []string{"SeaGuardian", "SkyGuardian", "MQ 9B", "MQ9B"}
		}
		return nil
	}
	shapes := []string{
		`"MQ-9B" Quad`,
		`entity:"MQ-9B" India`,
		`Quad AND (India OR Japan OR Australia) NOT cricket`,
		`NEAR/5(drone OR drones, India)`,
		`SENTENCE("Indian Ocean", Quad)`,
		`title:"MQ-9B" topic:military score>=0.8`,
		`"General Atomics" source:livemint`,
		`missile%d OR "anti-ship missile"`,
		`Taiwan%d AND Strait`,
		`frigate%d OR corvette OR destroyer lang:en`,
	}
	qs := make([]*query.Query, 0, n)
	for i := range n {
		s := shapes[i%len(shapes)]
		if strings.Contains(s, "%d") {
			s = fmt.Sprintf(s, i)
		}
		q, err := query.Parse(s, query.WithAliases(aliases))
		if err != nil {
			tb.Fatal(err)
		}
		qs = append(qs, q)
	}
	return qs
}

// benchRareWatches returns n watches of which about one in a hundred
// matches benchArticle: the others name places the article does not,
// alone or with words it has (India, drones, MQ-9B), so that most are
// skipped and some are evaluated and fail.
func benchRareWatches(tb testing.TB, n int) []*query.Query {
	shapes := []string{
		`Zanzibar%d`,
		`"Pemba%d island" OR Unguja%d`,
		`India AND Kilwa%d`,
		`NEAR/5(drones, Lamu%d)`,
		`entity:"MQ-9B" Malindi%d`,
	}
	common := benchWatches(tb, n/100+1)
	qs := make([]*query.Query, 0, n)
	for i := range n {
		if i%100 == 0 {
			qs = append(qs, common[i/100])
			continue
		}
		s := shapes[i%len(shapes)]
		q, err := query.Parse(strings.ReplaceAll(s, "%d", fmt.Sprint(i)))
		if err != nil {
			tb.Fatal(err)
		}
		qs = append(qs, q)
	}
	return qs
}

// BenchmarkMatch measures one 5 KB article against 100 watches, the way a
// matcher worker does it: prepare the article once, then match every watch.
func BenchmarkMatch(b *testing.B) {
	art := benchArticle()
	qs := benchWatches(b, 100)
	for _, q := range qs {
		q.Match(art) // compile each query's own machine outside the timer
	}
	for _, prepared := range []bool{true, false} {
		name := "prepared"
		if !prepared {
			name = "unprepared"
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			matched := 0
			meter := benchtest.Start()
			for b.Loop() {
				d := *art
				if prepared {
					d.Prepare()
				}
				for _, q := range qs {
					if _, ok := q.Match(&d); ok {
						matched++
					}
				}
			}
			meter.ReportArticles(b)
			b.ReportMetric(float64(matched)/float64(b.N), "matches/article")
			b.ReportMetric(float64(b.N*len(art.Text))/b.Elapsed().Seconds()/1e6, "MB/s")
		})
	}
}

// BenchmarkSet measures one 5 KB article against 100, 1,000 and 10,000
// watches: "set" normalises the article once, scans it once with one
// machine over the Set's terms and evaluates every watch on the hits, as
// the analyzer does; "loop" prepares the article and calls each watch's
// Match, as the notifier did before the Set.
func BenchmarkSet(b *testing.B) {
	art := benchArticle()
	for _, n := range []int{100, 1000, 10000} {
		qs := benchWatches(b, n)
		benchSet(b, fmt.Sprintf("watches=%d/set", n), art, qs)
		benchSet(b, fmt.Sprintf("watches=%d/set-rare", n), art, benchRareWatches(b, n))
		if n > 1000 && testing.Short() {
			continue
		}
		b.Run(fmt.Sprintf("watches=%d/loop", n), func(b *testing.B) {
			for _, q := range qs {
				q.Match(art) // compile each query's own machine outside the timer
			}
			matched := 0
			meter := benchtest.Start()
			for b.Loop() {
				d := *art
				d.Prepare()
				for _, q := range qs {
					if _, ok := q.Match(&d); ok {
						matched++
					}
				}
			}
			meter.ReportArticles(b)
			b.ReportMetric(float64(matched)/float64(b.N), "matches/article")
		})
	}
}

// benchSet measures the analyzer's way: normalise once, scan once with a
// machine over the Set's terms, evaluate every query on the hits.
func benchSet(b *testing.B, name string, art *query.Doc, qs []*query.Query) {
	set := query.NewSet(qs)
	m, err := scan.Compile(set.Terms())
	if err != nil {
		b.Fatal(err)
	}
	b.Run(name, func(b *testing.B) {
		b.ReportAllocs()
		var d scan.Doc
		var hits []scan.Hit
		matched := 0
		meter := benchtest.Start()
		for b.Loop() {
			d.Normalize(art.Title, art.Text)
			hits = m.Scan(&d, hits[:0])
			matched += len(set.Match(&d, hits, 0, art))
		}
		meter.ReportArticles(b)
		b.ReportMetric(float64(matched)/float64(b.N), "matches/article")
		b.ReportMetric(float64(len(set.Terms())), "terms")
		b.ReportMetric(float64(len(hits)), "hits/article")
	})
}

// BenchmarkParse measures parsing a typical watch.
func BenchmarkParse(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := query.Parse(`"MQ-9B" AND (Quad OR India) NOT topic:sports NEAR/5(drone, Navy)`); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "queries/s")
}

// BenchmarkPrepare measures tokenising and normalising one 5 KB article.
func BenchmarkPrepare(b *testing.B) {
	art := benchArticle()
	b.ReportAllocs()
	for b.Loop() {
		d := *art
		d.Prepare()
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "articles/s")
	b.ReportMetric(float64(b.N*(len(art.Text)+len(art.Title)))/b.Elapsed().Seconds()/1e6, "MB/s")
}

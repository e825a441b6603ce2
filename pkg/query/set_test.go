package query_test

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/newswatch/newswatch/pkg/query"
	"github.com/newswatch/newswatch/pkg/scan"
)

const seedPath = "testdata/livemint-2023-11-11-india-us-2plus2.txt"

func seedArticle(tb testing.TB) *query.Doc {
	raw, err := os.ReadFile(seedPath)
	if err != nil {
		tb.Fatalf("seed article: %v", err)
	}
	return &query.Doc{
		Title:  "India, US agree on MQ-9B co-production as Austin and Blinken visit for 2+2",
		Text:   string(raw),
		Source: "www.livemint.com",
		Lang:   "en-IN",
		Topics: map[string]float64{"military": 0.91, "terrorism": 0.35},
	}
}

func testAliases(name string) []string {
	switch name {
	case "MQ-9B":
		return []string{"SeaGuardian", "SkyGuardian", "MQ 9B", "MQ9B", "Predator B"}
	case "United States":
		return []string{"US", "U.S.", "USA", "America"}
	case "Lashkar-e-Taiba":
		return []string{"LeT", "Lashkar"}
	}
	return nil
}

// setQueries returns the queries of testdata/queries.txt that parse, the
// benchmark's shapes and more of every kind: terms, phrases, case rules,
// aliases, proximity, fields, filters and queries that need no term.
func setQueries(tb testing.TB) ([]*query.Query, []string) {
	f, err := os.Open(filepath.Join("testdata", "queries.txt"))
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var src []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if l := sc.Text(); l != "" && !strings.HasPrefix(l, "#") {
			src = append(src, l)
		}
	}
	src = append(src,
		`India`, `india`, `US`, `us`, `nocase:US`, `case:us`, `"U.S."`, `U.S. Navy`, `entity:"United States"`,
		`entity:"MQ-9B" NOT Pakistan`, `co-production`, `"co production"`, `coproduction`, `"Rajnath Singh"`,
		`Austin Blinken`, `China OR Pakistan`, `"Indo-Pacific"`, `F-414`, `"2+2"`, `26/11`, `entity:"Lashkar-e-Taiba"`,
		`NEAR/3(India, US)`, `NEAR/0(entity:"United States", India)`, `SENTENCE(Austin, Singh)`, `SENTENCE(India, China)`,
		`title:India text:Austin`, `title:(US OR India)`, `"India's"`, `India's`, `NOT India`, `NOT (Quad OR China)`,
		`topic:military`, `topic:military score>=0.9`, `score<0.5`, `lang:en source:livemint`, `India topic:cyber`,
		`Quad OR QUAD`, `case:Quad`, `nocase:quad`, `"Quad summit"`, `"Quad Summit"`, `Defence OR defence`,
		`NEAR/5(drone OR drones, India)`, `SENTENCE("Indian Ocean", Quad)`, `missile OR "anti-ship missile"`,
		`(India OR US) NEAR/10(defence, cooperation)`, `"a\nb"`, `Drone NOT drone`, `The`, `Then`, `s`, `u`,
		`India AND Kilwa`, `NEAR/5(drones, Lamu)`, `(India OR Kilwa) AND NOT Zanzibar`, `India AND (Kilwa OR NOT Quad)`,
		`"a\nb" OR India`, `(Austin OR Kilwa) SENTENCE(Singh, Lamu OR Rajnath)`, `India Austin Blinken Kilwa`,
	)
	var qs []*query.Query
	var names []string
	for _, s := range src {
		q, err := query.Parse(s, query.WithAliases(testAliases))
		if err != nil {
			continue
		}
		qs = append(qs, q)
		names = append(names, s)
	}
	for _, q := range benchWatches(tb, 30) {
		qs = append(qs, q)
		names = append(names, q.String())
	}
	return qs, names
}

// setChecker compares a Set's results with each query's own Match. The
// Set's terms are the second dictionary of the machine, after one that
// shares terms with them, as in the analyzer.
type setChecker struct {
	qs    []*query.Query
	names []string
	set   *query.Set
	all   *query.Set // evaluates every query, skipping none
	m     *scan.Machine
}

func newSetChecker(tb testing.TB) *setChecker {
	qs, names := setQueries(tb)
	set := query.NewSet(qs)
	other := []scan.Term{{Text: "India"}, {Text: "United States"}, {Text: "US"}, {Text: "MQ-9B"}, {Text: "terror", Prefix: true}}
	m, err := scan.Compile(other, set.Terms())
	if err != nil {
		tb.Fatal(err)
	}
	all := query.NewSet(qs)
	query.EvaluateAll(all)
	return &setChecker{qs: qs, names: names, set: set, all: all, m: m}
}

func (c *setChecker) check(tb testing.TB, d *query.Doc) int {
	tb.Helper()
	var sd scan.Doc
	sd.Normalize(d.Title, d.Text)
	hits := c.m.Scan(&sd, nil)
	before := append([]scan.Hit(nil), hits...)
	got := c.set.Match(&sd, hits, 1, d)
	if !reflect.DeepEqual(hits, before) {
		tb.Fatal("Set.Match modified the hits")
	}
	if all := c.all.Match(&sd, hits, 1, d); !reflect.DeepEqual(got, all) {
		tb.Fatalf("skipping queries without triggers changed the results on %q / %.200q:\n%+v\n%+v", d.Title, d.Text, got, all)
	}
	var want []query.Result
	for i, q := range c.qs {
		if spans, ok := q.Match(d); ok {
			want = append(want, query.Result{Query: i, Spans: spans})
		}
	}
	if !reflect.DeepEqual(got, want) {
		gi, wi := 0, 0
		for gi < len(got) || wi < len(want) {
			switch {
			case wi == len(want) || gi < len(got) && got[gi].Query < want[wi].Query:
				tb.Errorf("%s: Set matches, Match does not: %+v", c.names[got[gi].Query], got[gi].Spans)
				gi++
			case gi == len(got) || want[wi].Query < got[gi].Query:
				tb.Errorf("%s: Match matches, Set does not: %+v", c.names[want[wi].Query], want[wi].Spans)
				wi++
			default:
				if !reflect.DeepEqual(got[gi], want[wi]) {
					tb.Errorf("%s: Set spans %+v\nMatch spans %+v", c.names[got[gi].Query], got[gi].Spans, want[wi].Spans)
				}
				gi++
				wi++
			}
		}
		tb.Fatalf("on %q / %.200q", d.Title, d.Text)
	}
	return len(got)
}

// genText writes n random sentences from the words and punctuation that
// exercise the matcher: case variants, "US", dashes, abbreviations,
// possessives, Unicode.
func genText(r *rand.Rand, n int) string {
	words := []string{"Quad", "quad", "QUAD", "India", "india", "US", "us", "Us", "U.S.", "MQ-9B", "MQ9B", "mq-9b",
		"MQ", "9B", "drone", "Drone", "drones", "s", "u", "the", "The", "summit", "Summit", "Navy", "Gen.", "Mr.",
		"Inc.", "Zürich", "Київ", "AT&T", "Sea\u00adGuardian", "SeaGuardian", "co-production", "anti-ship",
		"Anti-ship", "antiship", "2+2", "26/11", "3.5", "Indo-Pacific", "e.g.", "United", "States", "Austin",
		"Pakistan", "China", "Indian", "Ocean", "missile", "LeT", "Lashkar", "defence", "cooperation", "Then"}
	seps := []string{" ", " ", " ", " ", " ", ", ", ". ", "\n", "-", "—", "'s ", "’", " (", ") ", "? ", "! ",
		": ", " “", "” ", "… ", "; ", "/", "  ", "#39;"}
	var b strings.Builder
	for range n {
		b.WriteString(words[r.IntN(len(words))])
		b.WriteString(seps[r.IntN(len(seps))])
	}
	return b.String()
}

// TestSetMatchesEachQuery checks that a Set over many queries gives
// exactly what each query's own Match gives, on the seed article and on
// generated texts.
func TestSetMatchesEachQuery(t *testing.T) {
	c := newSetChecker(t)
	t.Run("seed", func(t *testing.T) {
		if n := c.check(t, seedArticle(t)); n < 20 {
			t.Errorf("only %d queries match the seed article", n)
		}
	})
	t.Run("bench article", func(t *testing.T) { c.check(t, benchArticle()) })
	t.Run("generated", func(t *testing.T) {
		r := rand.New(rand.NewPCG(3, 4))
		matched := 0
		for i := range 500 {
			d := &query.Doc{Title: genText(r, r.IntN(8)), Text: genText(r, r.IntN(60)), Source: "livemint", Lang: "en"}
			if i%3 == 0 {
				d.Topics = map[string]float64{"military": r.Float64()}
			}
			matched += c.check(t, d)
		}
		if matched == 0 {
			t.Error("no query matched any generated text")
		}
	})
}

func FuzzSet(f *testing.F) {
	r := rand.New(rand.NewPCG(5, 6))
	for range 8 {
		f.Add(genText(r, 6), genText(r, 40))
	}
	f.Add("India, US agree", "The U.S. and India's Rajnath Singh met. Quad bikes were banned.\nQuad leaders met.")
	c := newSetChecker(f)
	f.Fuzz(func(t *testing.T, title, text string) {
		c.check(t, &query.Doc{Title: title, Text: text, Topics: map[string]float64{"military": 0.95}})
	})
}

// TestSetSkipsQueriesWithoutHits checks that queries needing a term are
// not evaluated when none of their terms occurs, while NOT and filter
// queries still are.
func TestSetSkipsQueriesWithoutHits(t *testing.T) {
	var qs []*query.Query
	for _, s := range []string{"Quad", "NOT Quad", "topic:terrorism", "Quad OR topic:terrorism", "Quad NOT India", "score<0.5"} {
		q, err := query.Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		qs = append(qs, q)
	}
	set := query.NewSet(qs)
	m, err := scan.Compile(set.Terms())
	if err != nil {
		t.Fatal(err)
	}
	var sd scan.Doc
	sd.Normalize("", "Nothing to see here.")
	res := set.Match(&sd, m.Scan(&sd, nil), 0, &query.Doc{Topics: map[string]float64{"terrorism": 0.9}})
	var got []int
	for _, r := range res {
		got = append(got, r.Query)
	}
	if fmt.Sprint(got) != "[1 2 3]" {
		t.Errorf("matching queries = %v, want [1 2 3]", got)
	}
	res = set.Match(&sd, nil, 0, nil)
	got = got[:0]
	for _, r := range res {
		got = append(got, r.Query)
	}
	if fmt.Sprint(got) != "[1 5]" {
		t.Errorf("without meta, matching queries = %v, want [1 5]", got)
	}
}

// TestSetMatchDoesNotAllocatePerHit checks that verifying hits and
// evaluating queries allocates nothing: only matching queries' results do.
func TestSetMatchDoesNotAllocatePerHit(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items under the race detector")
	}
	var qs []*query.Query
	for i := range 200 {
		q, err := query.Parse(fmt.Sprintf(`(Quad OR "MQ-9B" OR entity:"MQ-9B" OR NEAR/3(drones, India) OR India's) AND (Zanzibar%d OR NOT India)`, i), query.WithAliases(testAliases))
		if err != nil {
			t.Fatal(err)
		}
		qs = append(qs, q)
	}
	set := query.NewSet(qs)
	m, err := scan.Compile(set.Terms())
	if err != nil {
		t.Fatal(err)
	}
	art := benchArticle()
	var d scan.Doc
	d.Normalize(art.Title, art.Text)
	hits := m.Scan(&d, nil)
	if len(hits) < 50 {
		t.Fatalf("only %d hits", len(hits))
	}
	if n := testing.AllocsPerRun(50, func() {
		if res := set.Match(&d, hits, 0, art); len(res) != 0 {
			t.Fatalf("%d queries matched", len(res))
		}
	}); n >= 1 {
		t.Errorf("Set.Match allocated %v times for %d hits", n, len(hits))
	}
}

// TestSetConcurrent shares one Set, document and hit list between
// goroutines; run with -race.
func TestSetConcurrent(t *testing.T) {
	c := newSetChecker(t)
	d := benchArticle()
	var sd scan.Doc
	sd.Normalize(d.Title, d.Text)
	hits := c.m.Scan(&sd, nil)
	want := c.set.Match(&sd, hits, 1, d)
	if len(want) == 0 {
		t.Fatal("no match")
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 20 {
				if got := c.set.Match(&sd, hits, 1, d); !reflect.DeepEqual(got, want) {
					t.Errorf("concurrent Set.Match gave %d results, want %d", len(got), len(want))
					return
				}
			}
		})
	}
	wg.Wait()

	empty := query.NewSet(nil)
	if len(empty.Terms()) != 0 || empty.Match(&sd, hits, 1, d) != nil {
		t.Error("an empty Set has terms or matches")
	}
}

package analyzer

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/newswatch/newswatch/pkg/config"
	"github.com/newswatch/newswatch/pkg/events"
	"github.com/newswatch/newswatch/pkg/scan"
	"github.com/newswatch/newswatch/pkg/story"
	"github.com/newswatch/newswatch/pkg/watchset"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

// sigRecorder is a StoryAssigner that names each article's story by a
// hash of its MinHash signature, so the golden output pins the signature.
type sigRecorder struct{}

func (sigRecorder) AssignSignature(_ context.Context, _ string, sig story.Signature, _ time.Time) (string, error) {
	h := sha256.New()
	for _, m := range sig.Mins {
		fmt.Fprintf(h, "%08x", m)
	}
	return fmt.Sprintf("sig-%d-%x", sig.Shingles, h.Sum(nil)[:12]), nil
}

// goldenArticles are the articles of TestAnalyzeGolden: the seed report
// whole, untitled and cut to the benchmark's 5,000 bytes; the exercise
// article; every held-out item of two sets as a headline with its teaser;
// and articles of several paragraphs made of the other sets' items, so
// that body passages, boilerplate lines and non-ASCII text are scored.
// All of it is text in the repository (the seed report and items written
// for newswatch).
func goldenArticles(t *testing.T) []events.Article {
	t.Helper()
	seed := seedText(t)
	title := "India, US to co-produce armoured vehicles, fast-track MQ-9B drones"
	arts := []events.Article{
		{ID: "seed", Source: "livemint.com", Title: title, Text: seed},
		{ID: "seed-untitled", Text: seed},
		{ID: "seed-5kb", Title: title, Text: seed[:5000]},
	}
	ex, err := os.ReadFile("../topics/testdata/exercise-article.txt")
	if err != nil {
		t.Fatal(err)
	}
	exTitle, exText, _ := strings.Cut(string(ex), "\n")
	arts = append(arts, events.Article{ID: "exercise", Source: "example.com", Title: exTitle, Text: exText})

	type item struct{ ID, Source, Title, Text string }
	read := func(name string) []item {
		b, err := os.ReadFile(filepath.Join("../topics/testdata/heldout", name))
		if err != nil {
			t.Fatal(err)
		}
		var out []item
		sc := bufio.NewScanner(bytes.NewReader(b))
		for sc.Scan() {
			var it item
			if err := json.Unmarshal(sc.Bytes(), &it); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			out = append(out, it)
		}
		return out
	}
	for _, name := range []string{"items.jsonl", "fourth.jsonl"} {
		for _, it := range read(name) {
			arts = append(arts, events.Article{ID: it.ID, Source: it.Source, Title: it.Title, Text: it.Text})
		}
	}
	var rest []item
	for _, name := range []string{"fresh.jsonl", "blind.jsonl", "fifth.jsonl", "sixth.jsonl"} {
		rest = append(rest, read(name)...)
	}
	extras := []string{
		"Also read: Délégations à Paris — the ministers’ talks “continued” in New Delhi.",
		"नई दिल्ली: India and France signed a defence pact; the ﬁrst Rafale-M jets arrive next year.",
		"Subscribe to our newsletter for more on the U.S. and NATO.",
	}
	for i := 0; i*6 < len(rest); i++ {
		group := rest[i*6 : min(len(rest), i*6+6)]
		var b strings.Builder
		for k, it := range group[1:] {
			if k > 0 {
				b.WriteString("\n\n")
			}
			b.WriteString(it.Title + ". " + it.Text)
			if k == 2 {
				b.WriteString("\n" + extras[i%len(extras)])
			}
		}
		arts = append(arts, events.Article{ID: fmt.Sprintf("composed-%02d", i), Source: group[0].Source, Title: group[0].Title, Text: group[0].Text + "\n" + b.String()})
	}
	return arts
}

// goldenWatches are watches of the shapes analysts write over the
// articles' vocabulary, then synthetic ones, so that the automaton is the
// size of a real deployment's.
func goldenWatches() []config.Watch {
	qs := []string{
		`India`, `"MQ-9B" OR SeaGuardian`, `Quad AND drones`, `entity:"Lashkar-e-Tayyiba"`,
		`topic:terrorism AND India`, `topic:defence-cooperation AND score>=0.5`, `"joint exercise" OR drills`,
		`NEAR/5(India, France)`, `NEAR/10(Stryker, "co-production")`, `attack AND NOT cricket`,
		`entity:"NATO" OR alliance`, `(bomb OR blast OR explosion) AND (killed OR dead)`, `"defence pact"`,
		`source:composed-fourth AND topic:terrorism`, `Pakistan AND (militants OR insurgents)`,
		`"F-16" OR "F-35" OR Rafale`, `terror*`, `NEAR/3(arms, deal)`, `submarine*`, `"U.S." AND China`,
	}
	ws := make([]config.Watch, 0, len(qs)+2000)
	for i, q := range qs {
		ws = append(ws, config.Watch{ID: fmt.Sprintf("g%02d", i), Query: q})
	}
	return append(ws, syntheticWatches(2000)...)
}

// TestAnalyzeGolden pins the whole analysis (topics with evidence, every
// contribution of --explain, entities, watch matches and the story
// signature) of a few hundred articles, so that a change meant to make
// the analyzer faster is shown to change no output. A deliberate change of
// output (a new model, say) rewrites the file: go test -run TestAnalyzeGolden
// ./pkg/analyzer -args -update.
func TestAnalyzeGolden(t *testing.T) {
	an, gz := newAnalyzerWith(t, sigRecorder{}, NewMetrics(prometheus.NewRegistry()))
	an.now = func() time.Time { return time.Unix(0, 0) }
	set, err := watchset.Compile(goldenWatches(), 7, gz.Aliases)
	if err != nil {
		t.Fatal(err)
	}
	if err := an.SetWatches(set); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer // one line per article: its id and the hash of its analysis
	var d scan.Doc
	var hits []scan.Hit
	got := map[string][]byte{}
	for _, art := range goldenArticles(t) {
		res, err := an.Analyze(t.Context(), art)
		if err != nil {
			t.Fatal(err)
		}
		full, err := json.MarshalIndent(struct {
			ID       string               `json:"id"`
			Topics   []events.Topic       `json:"topics"`
			Entities []events.Entity      `json:"entities"`
			Watches  *events.WatchResults `json:"watches"`
			Story    string               `json:"story"`
		}{art.ID, res.Topics, res.Entities, res.Watches, res.StoryID}, "", " ")
		if err != nil {
			t.Fatal(err)
		}
		full = append(full, '\n')
		if strings.Contains(art.Text, "\n") {
			var ex bytes.Buffer
			d.Normalize(art.Title, art.Text)
			hits = an.matcher.Load().machine.Scan(&d, hits[:0])
			if err := an.classifier.ExplainDoc(&d, hits, listTopics).WriteText(&ex); err != nil {
				t.Fatal(err)
			}
			full = append(full, ex.Bytes()...)
		}
		got[art.ID] = full
		fmt.Fprintf(&out, "%s %x\n", art.ID, sha256.Sum256(full))
	}
	// The file holds hashes, not the analyses (2.3 MB of them): a
	// difference prints the article's whole analysis.
	golden := filepath.Join("testdata", "analyze.golden")
	if *update {
		if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -run TestAnalyzeGolden ./pkg/analyzer -args -update to write it)", err)
	}
	if !bytes.Equal(out.Bytes(), want) {
		gl, wl := strings.Split(out.String(), "\n"), strings.Split(string(want), "\n")
		for i := range min(len(gl), len(wl)) {
			if gl[i] != wl[i] {
				id, _, _ := strings.Cut(gl[i], " ")
				t.Fatalf("analysis differs from %s at line %d, article %s (run with -args -update after a deliberate change); it is now:\n%s", golden, i+1, id, got[id])
			}
		}
		t.Fatalf("analysis differs from %s: %d lines, want %d", golden, len(gl), len(wl))
	}
}

package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/newswatch/newswatch/pkg/app"
	"github.com/newswatch/newswatch/pkg/benchtest"
	"github.com/newswatch/newswatch/pkg/config"
	"github.com/newswatch/newswatch/pkg/demosite"
	"github.com/newswatch/newswatch/pkg/entities"
	"github.com/newswatch/newswatch/pkg/events"
	"github.com/newswatch/newswatch/pkg/natstest"
	"github.com/newswatch/newswatch/pkg/query"
	"github.com/newswatch/newswatch/pkg/testwait"
	"github.com/newswatch/newswatch/pkg/topology"
)

func analyzed(id string, rev int, story, source, title, text string, topics ...events.Topic) events.AnalyzedArticle {
	at := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	if topics == nil {
		topics = []events.Topic{}
	}
	return events.AnalyzedArticle{
		Schema: events.AnalyzedArticleSchema, StoryID: story, Topics: topics, Entities: []events.Entity{},
		Article: events.Article{Schema: events.ArticleSchema, ID: id, Revision: rev, Feed: "f", URL: "https://example.com/" + id,
			Source: source, Title: title, Text: text, PublishedAt: at, FetchedAt: at},
	}
}

func publishAnalyzed(t testing.TB, js jetstream.JetStream, arts []events.AnalyzedArticle) []string {
	t.Helper()
	lines := make([]string, 0, len(arts))
	for _, a := range arts {
		b, err := json.Marshal(a)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := js.PublishAsync(topology.AnalyzedSubject(a.Article.Feed), b, jetstream.WithMsgID(fmt.Sprintf("%s-r%d", a.Article.ID, a.Article.Revision))); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, string(b))
	}
	select {
	case <-js.PublishAsyncComplete():
	case <-time.After(time.Minute):
		t.Fatal("publishes not acknowledged")
	}
	return lines
}

// Backtest shows one alert per story with the copies it suppressed, and
// finds exactly the articles `newswatch match` finds on the same input.
func TestBacktest(t *testing.T) {
	ns := natstest.Start(t)
	drones := "India and the United States agreed to speed up the delivery of 31 MQ-9B drones."
	arts := []events.AnalyzedArticle{
		analyzed("pti-1", 0, "s-drones", "PTI", "India, US to co-produce vehicles", drones),
		analyzed("other-1", 0, "s-other", "Reuters", "Quad ministers meet", "Blinken spoke about the Quad in Delhi."),
		analyzed("mint-1", 0, "s-drones", "Mint", "MQ-9B deliveries to be expedited", drones+" With inputs from PTI."),
		analyzed("pti-1", 1, "s-drones", "PTI", "India, US to co-produce vehicles (updated)", drones),
		analyzed("navy-1", 0, "s-navy", "Hindu", "Navy leases two more MQ 9B", "The Navy will lease two more MQ-9B Sea Guardians.",
			events.Topic{Name: "defence-cooperation", Score: 0.9}),
	}
	lines := publishAnalyzed(t, ns.JS, arts)

	code, out, errOut := runCLI(t, "backtest", "--nats-url", ns.URL, "--query", `"MQ-9B"`, "--json")
	if code != 0 {
		t.Fatalf("backtest exited %d: %s", code, errOut)
	}
	var rep backtestReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if rep.Scanned != 5 || len(rep.Stories) != 2 {
		t.Fatalf("scanned %d, %d stories; want 5 and 2:\n%s", rep.Scanned, len(rep.Stories), out)
	}
	if st := rep.Stories[0]; st.StoryID != "s-drones" || st.Alert.ArticleID != "pti-1" || st.Alert.Source != "PTI" ||
		len(st.Suppressed) != 1 || st.Suppressed[0].ArticleID != "mint-1" || !strings.Contains(st.Alert.Snippet, "MQ-9B") {
		t.Errorf("first story %+v", st)
	}
	if rep.Stories[1].StoryID != "s-navy" || len(rep.PerDay) != 1 || rep.PerDay[0].Alerts != 2 || rep.PerDay[0].Copies != 1 {
		t.Errorf("second story or days: %+v %+v", rep.Stories[1], rep.PerDay)
	}

	// The same articles through `newswatch match`.
	for _, q := range []string{`"MQ-9B"`, `Quad OR topic:defence-cooperation`, `drones AND NOT source:Mint`} {
		var mout, merr bytes.Buffer
		Main([]string{"match", "--json", "--query", q}, strings.NewReader(strings.Join(lines, "\n")), &mout, &merr)
		var fromMatch []string
		for _, l := range strings.Split(strings.TrimSpace(mout.String()), "\n") {
			var m matchOutput
			if l != "" && json.Unmarshal([]byte(l), &m) == nil && !slices.Contains(fromMatch, m.ID) {
				fromMatch = append(fromMatch, m.ID)
			}
		}
		code, out, errOut := runCLI(t, "backtest", "--nats-url", ns.URL, "--query", q, "--json")
		if code != 0 {
			t.Fatalf("%s: backtest exited %d: %s", q, code, errOut)
		}
		var r backtestReport
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatal(err)
		}
		var fromBacktest []string
		for _, st := range r.Stories {
			fromBacktest = append(fromBacktest, st.Alert.ArticleID)
			for _, c := range st.Suppressed {
				fromBacktest = append(fromBacktest, c.ArticleID)
			}
		}
		slices.Sort(fromMatch)
		slices.Sort(fromBacktest)
		if len(fromMatch) == 0 || !slices.Equal(fromMatch, fromBacktest) {
			t.Errorf("%s: match found %v, backtest %v", q, fromMatch, fromBacktest)
		}
	}

	// Human output and an empty window.
	code, out, _ = runCLI(t, "backtest", "--nats-url", ns.URL, "--query", `"MQ-9B"`)
	if code != 0 || !strings.Contains(out, "+ 1 copy suppressed: Mint") || !strings.Contains(out, "2 stories would have alerted") {
		t.Errorf("text output (%d):\n%s", code, out)
	}
	if code, _, errOut := runCLI(t, "backtest", "--nats-url", ns.URL, "--query", `"MQ-9B" AND (`); code != 2 || !strings.Contains(errOut, "^") {
		t.Errorf("bad query: %d %s", code, errOut)
	}

	// watch add --dry-run shows the same and saves nothing.
	code, out, errOut = runCLI(t, "watch", "add", "--nats-url", ns.URL, "--id", "mq", "--query", `"MQ-9B"`, "--dry-run")
	if code != 0 || !strings.Contains(out, "+ 1 copy suppressed: Mint") || !strings.Contains(out, "2 stories would have alerted") {
		t.Errorf("watch add --dry-run (%d): %s %s", code, out, errOut)
	}
	if code, _, _ := runCLI(t, "watch", "show", "--nats-url", ns.URL, "mq"); code != 1 {
		t.Errorf("watch add --dry-run saved the watch (show exited %d)", code)
	}
}

// BenchmarkBacktest scans stored analyzed articles of about 5 KB (made-up
// words in sentences and paragraphs, with quotes, dashes and ampersands), as
// `newswatch backtest` does against an embedded server in the same process
// (so the server's work is in the figure too), with a typical query whose
// words most articles lack, with one no article can be rejected for
// before it is normalised and scanned (NOT Title: every title has it), and
// with one every article matches without being normalised (NOT cricket).
func BenchmarkBacktest(b *testing.B) {
	ns := natstest.Start(b)
	const n = 20000
	r := rand.New(rand.NewPCG(1, 2))
	words := benchtest.Words(r)
	arts := make([]events.AnalyzedArticle, n)
	for i := range arts {
		// Sentences in paragraphs with quotes, dashes and ampersands, as
		// extracted text has: JSON escapes some (\n, \", \u0026), and
		// three in four real articles have curly quotes or dashes.
		var sb strings.Builder
		for w := 1; sb.Len() < 5000; w++ {
			sb.WriteString(words())
			switch {
			case w%80 == 0:
				sb.WriteString(".\n\n")
			case w%40 == 0:
				sb.WriteString(` & "`)
			case w%30 == 0:
				sb.WriteString(" — “")
			case w%12 == 0:
				sb.WriteString(`”. `)
			default:
				sb.WriteByte(' ')
			}
		}
		if i%100 == 0 {
			sb.WriteString("MQ-9B drones")
		}
		arts[i] = analyzed(fmt.Sprint("a-", i), 0, fmt.Sprint("s-", i/3), "src", "Title "+fmt.Sprint(i), sb.String(),
			events.Topic{Name: "defence-cooperation", Score: 0.7})
	}
	publishAnalyzed(b, ns.JS, arts)
	for _, c := range []struct {
		name, query string
		stories     int
	}{
		{"query=rare-words", `"MQ-9B" AND (drones OR India) AND NOT source:Mint`, n / 100},
		{"query=not", `NOT Title`, 0},
		{"query=not-absent-word", `NOT cricket`, (n + 2) / 3}, // every article, none says cricket
	} {
		q, err := query.Parse(c.query)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(c.name, func(b *testing.B) {
			cpu0 := benchtest.CPUTime()
			for b.Loop() {
				rep, err := backtest(context.Background(), ns.JS, q, time.Now().Add(-time.Hour), nil)
				if err != nil || rep.Scanned != n || len(rep.Stories) != c.stories {
					b.Fatalf("%v: scanned %d, %d stories", err, rep.Scanned, len(rep.Stories))
				}
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "articles/s")
			if cpu := benchtest.CPUTime() - cpu0; cpu > 0 {
				b.ReportMetric(float64(n*b.N)/cpu.Seconds(), "articles/cpu-s")
			}
		})
	}
}

// Backtest, with its fast decoding and the query's check before
// normalising, finds exactly what encoding/json and matching every
// normalised article find, and what `newswatch match` finds: on non-ASCII
// text, escapes, case and punctuation variants, NOT queries and filters.
func TestBacktestAgreesWithReference(t *testing.T) {
	ns := natstest.Start(t)
	mq := "India and the US agreed on 31 MQ-9B drones."
	arts := []events.AnalyzedArticle{
		analyzed("ascii", 0, "s1", "PTI", "Quad ministers meet", mq),
		analyzed("lower", 0, "s2", "Mint", "quad bikes banned", "The quad-bike ban; mq9b, u.s. & us <b>"),
		analyzed("upper", 0, "s3", "Reuters", "QUAD SUMMIT", "THE MQ 9B AND THE U.S. NAVY"),
		analyzed("dashes", 0, "s4", "Hindu", "MQ–9B and MQ—9B", "The MQ9B; the Quad's plan.\n\n\"Quoted\" \\ <tag> & more\t\u2028end"),
		analyzed("fullwidth", 0, "s5", "PTI", "ＱＵＡＤ", "ＭＱ－９Ｂ drones in Zürich, Qu\u00adad and Sea\u200bGuardian"),
		analyzed("emoji", 0, "s6", "PTI", "Quad 🚁", "MQ-9B 🚁 drones", events.Topic{Name: "defence-cooperation", Score: 0.9}),
		analyzed("topic", 0, "s1", "Mint", "Navy leases two more", "The Navy will lease two more Sea Guardians.",
			events.Topic{Name: "defence-cooperation", Score: 0.6}),
		analyzed("ascii", 1, "s1", "PTI", "Quad ministers meet (updated)", mq+" Quad."),
		analyzed("nostory", 0, "", "PTI", "Quad", mq),
	}
	lines := publishAnalyzed(t, ns.JS, arts)
	// Messages written by hand: ASCII letters as \u escapes, a surrogate
	// pair, invalid UTF-8, and not JSON at all.
	for _, raw := range []string{
		`{"article":{"id":"escaped","title":"\u0051uad","text":"\u004dQ-9B \u0026 India","source":"PTI"},"story_id":"s7"}`,
		`{"article":{"id":"surrogate","title":"Quad \ud83d\ude81","text":"MQ-9B"},"story_id":"s8"}`,
		"{\"article\":{\"id\":\"badutf8\",\"title\":\"Quad \xff\",\"text\":\"MQ-9B\"},\"story_id\":\"s9\"}",
		`not json`,
	} {
		if _, err := ns.JS.Publish(context.Background(), topology.AnalyzedSubject("f"), []byte(raw)); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, raw)
	}
	gaz, err := entities.New(entities.DefaultEntries())
	if err != nil {
		t.Fatal(err)
	}
	for _, src := range []string{
		`"MQ-9B"`, `Quad`, `nocase:quad`, `case:quad`, `QUAD`, `NOT Quad`, `Quad AND NOT source:Mint`, `U.S.`, `US`, `us`,
		`topic:defence-cooperation AND "MQ-9B"`, `NOT topic:defence-cooperation`, `Zürich OR SeaGuardian`,
		`entity:"MQ-9B"`, `title:Quad`, `text:Quad`, `NEAR/2(MQ-9B, drones)`, `"Quad's"`, `Quoted OR tag`, `score>=0.7`,
	} {
		t.Run(src, func(t *testing.T) {
			q, err := query.Parse(src, query.WithAliases(gaz.Aliases))
			if err != nil {
				t.Fatal(err)
			}
			// The reference: encoding/json, and every article normalised
			// (a prepared Doc is matched without the check).
			var want []string
			skipped := 0
			for _, l := range lines {
				in, err := decodeMatchInputSlow([]byte(l))
				if err != nil || in.StoryID == "" {
					skipped++
					continue
				}
				d := in.doc()
				d.Prepare()
				if _, ok := q.Match(&d); ok && !slices.Contains(want, in.ID) {
					want = append(want, in.ID)
				}
			}
			rep, err := backtest(context.Background(), ns.JS, q, time.Now().Add(-time.Hour), nil)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, st := range rep.Stories {
				got = append(got, st.Alert.ArticleID)
				for _, c := range st.Suppressed {
					got = append(got, c.ArticleID)
				}
			}
			var mout, merr bytes.Buffer
			Main([]string{"match", "--json", "--query", src}, strings.NewReader(strings.Join(lines, "\n")), &mout, &merr)
			var fromMatch []string
			for _, l := range strings.Split(strings.TrimSpace(mout.String()), "\n") {
				var m matchOutput
				if l != "" && json.Unmarshal([]byte(l), &m) == nil && m.ID != "nostory" && !slices.Contains(fromMatch, m.ID) {
					fromMatch = append(fromMatch, m.ID)
				}
			}
			slices.Sort(want)
			slices.Sort(got)
			slices.Sort(fromMatch)
			if !slices.Equal(got, want) || !slices.Equal(fromMatch, want) || rep.Scanned != len(lines) || rep.Skipped != skipped {
				t.Errorf("reference %v (%d skipped); backtest %v (%d of %d scanned skipped); match %v",
					want, skipped, got, rep.Skipped, rep.Scanned, fromMatch)
			}
			if len(want) == 0 {
				t.Errorf("the reference matches nothing: the case tests nothing")
			}
		})
	}
}

// Issue 15's test of done: after the demo site's feed was polled, backtest
// lists the seed story for "MQ-9B", and finds the articles `newswatch
// match` finds in the same stored analyses.
func TestBacktestDemoSiteSeedStory(t *testing.T) {
	site := httptest.NewServer(demosite.Handler())
	defer site.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cfg := natstest.AppConfig(t)
	cfg.Fetcher.AllowPrivateNetworks = true // the site is on loopback
	cfg.Feeds = []config.Feed{{ID: "demo", URL: site.URL + "/feed.xml", Interval: time.Hour}}
	a, err := app.Start(ctx, &cfg, []string{app.Fetcher, app.Analyzer}, true, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Stop()
	pages := demosite.Pages()
	var stored [][]byte
	testwait.True(t, 2*time.Minute, "every page of the demo feed analysed", func() bool {
		stored = natstest.Messages(t, a.JetStream(), topology.StreamAnalyzed, topology.AnalyzedSubject("demo"))
		return len(stored) >= len(pages)
	})

	q := `"MQ-9B"`
	code, out, errOut := runCLI(t, "backtest", "--nats-url", a.Conn().ConnectedUrl(), "--query", q, "--json")
	if code != 0 {
		t.Fatalf("backtest exited %d: %s", code, errOut)
	}
	var rep backtestReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	seed := demosite.SeedPage()
	if rep.Scanned != len(stored) || len(rep.Stories) != 1 || rep.Stories[0].Alert.Title != seed.Title ||
		!strings.HasSuffix(rep.Stories[0].Alert.URL, seed.Path) || !strings.Contains(rep.Stories[0].Alert.Snippet, "MQ-9B") {
		t.Fatalf("backtest of %s after the demo feed was polled:\n%s", q, out)
	}

	var lines []string
	for _, m := range stored {
		lines = append(lines, string(m))
	}
	var mout, merr bytes.Buffer
	Main([]string{"match", "--json", "--query", q}, strings.NewReader(strings.Join(lines, "\n")), &mout, &merr)
	var m matchOutput
	if err := json.Unmarshal(bytes.TrimSpace(mout.Bytes()), &m); err != nil || m.ID != rep.Stories[0].Alert.ArticleID {
		t.Errorf("match found %s (%v), backtest %s", mout.String(), err, rep.Stories[0].Alert.ArticleID)
	}
}

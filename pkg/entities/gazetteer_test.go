package entities

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/newswatch/newswatch/pkg/benchtest"
	"github.com/newswatch/newswatch/pkg/events"
	"github.com/newswatch/newswatch/pkg/scan"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

const seedPath = "testdata/livemint-2023-11-11-india-us-2plus2.txt"

func defaultGazetteer(t testing.TB) *Gazetteer {
	t.Helper()
	g, err := New(DefaultEntries())
	if err != nil {
		t.Fatalf("New(DefaultEntries()): %v", err)
	}
	return g
}

// names returns "Name (type)" for each entity with its mention texts.
func summary(es []events.Entity) []string {
	var out []string
	for _, e := range es {
		var ms []string
		for _, m := range e.Mentions {
			ms = append(ms, m.Field+":"+m.Text)
		}
		out = append(out, e.Name+"|"+e.Type+"|"+strings.Join(ms, ","))
	}
	return out
}

func TestFind(t *testing.T) {
	g := defaultGazetteer(t)
	tests := []struct {
		name  string
		title string
		text  string
		want  []string
	}{
		{"acronym needs its case", "", "let us go to the quad bike race", nil},
		{"US not in USA or us", "", "Tell us about the USA trip", []string{"United States|state|text:USA"}},
		{"possessive with curly quote", "Quad\u2019s summit", "India's gain", []string{"Quad|grouping|title:Quad", "India|state|text:India"}},
		{"Quad not inside Quadrilateral", "", "a quadrilateral plan; the Quadrilateral Security Dialogue met", []string{"Quad|grouping|text:Quadrilateral Security Dialogue"}},
		{"unicode hyphens", "", "Lashkar\u2010e\u2010Tayyiba and Jaish\u2013e\u2013Mohammed", []string{"Lashkar-e-Tayyiba|militant-group|text:Lashkar\u2010e\u2010Tayyiba", "Jaish-e-Mohammed|militant-group|text:Jaish\u2013e\u2013Mohammed"}},
		{"spelling variants", "", "Lashkar-e-Taiba (LeT), Jaish-e-Muhammad (JeM), Al-Qa'ida, al Qaida, ISIL, Daesh", []string{
			"Lashkar-e-Tayyiba|militant-group|text:Lashkar-e-Taiba,text:LeT",
			"Jaish-e-Mohammed|militant-group|text:Jaish-e-Muhammad,text:JeM",
			"Al-Qaeda|militant-group|text:Al-Qa'ida,text:al Qaida",
			"Islamic State|militant-group|text:ISIL,text:Daesh",
		}},
		{"drone spellings", "MQ9B deal", "MQ 9B and the MQ-9B SeaGuardian, a SkyGuardian", []string{"MQ-9B|weapon-system|title:MQ9B,text:MQ 9B,text:MQ-9B SeaGuardian,text:SkyGuardian"}},
		{"apostrophe as an HTML entity remnant", "", "Al-Qa&#39;ida and Al-Qa#39;ida", []string{"Al-Qaeda|militant-group|text:Al-Qa&#39;ida,text:Al-Qa#39;ida"}},
		{"fullwidth NFKC", "", "the \uff2d\uff31\uff0d\uff19\uff22 drone", []string{"MQ-9B|weapon-system|text:\uff2d\uff31\uff0d\uff19\uff22"}},
		{"leftmost longest", "", "listed by the UN Security Council and the UN", []string{"UN Security Council|grouping|text:UN Security Council", "United Nations|grouping|text:UN"}},
		{"engine not company", "", "GE F-414 jet engines from General Electric", []string{"F414|weapon-system|text:GE F-414", "GE Aerospace|company|text:General Electric"}},
		// A line is a paragraph to scan: a name does not run over it.
		{"line break ends a name", "", "Rajnath\nSingh and Anthony Blinken", []string{"Rajnath Singh|person|text:Rajnath", "Antony Blinken|person|text:Anthony Blinken"}},
		{"any white space inside a name", "", "Rajnath\u00a0Singh, Antony  \t Blinken", []string{"Rajnath Singh|person|text:Rajnath\u00a0Singh", "Antony Blinken|person|text:Antony  \t Blinken"}},
		{"case folded where allowed", "HINDUSTAN AERONAUTICS", "hamas and nato", []string{"Hindustan Aeronautics Limited|company|title:HINDUSTAN AERONAUTICS", "Hamas|militant-group|text:hamas", "NATO|grouping|text:nato"}},
		{"Indo-Pacific is not India", "", "a free Indo-Pacific; Hamas-Israel conflict", []string{"Hamas|militant-group|text:Hamas", "Israel|state|text:Israel"}},
		{"dotted acronym followed by hyphen", "", "U.S.-made drones", []string{"United States|state|text:U.S."}},
		{"hyphen variant with space", "", "Al Qaeda and Tehreek e Taliban Pakistan", []string{"Al-Qaeda|militant-group|text:Al Qaeda", "Tehreek-e-Taliban Pakistan|militant-group|text:Tehreek e Taliban Pakistan"}},
		{"no entities", "", "Nothing to see here.", nil},
		{"common words stay words", "Neeraj Chopra wins javelin gold", "roast turkey, polish the boots, a patriot, report the Islamic state to the council", nil},
		{"capitalised they are names", "TURKEY, POLAND TALKS", "Turkey and Poland; the Islamic State", []string{"Turkey|state|title:TURKEY,text:Turkey", "Poland|state|title:POLAND,text:Poland", "Islamic State|militant-group|text:Islamic State"}},
		{"similar groups stay apart", "", "Lashkar-e-Jhangvi and Jaish al-Adl, not LeT or JeM", []string{
			"Lashkar-e-Jhangvi|militant-group|text:Lashkar-e-Jhangvi",
			"Jaish al-Adl|militant-group|text:Jaish al-Adl",
			"Lashkar-e-Tayyiba|militant-group|text:LeT",
			"Jaish-e-Mohammed|militant-group|text:JeM",
		}},
		{"US only as a word of its own", "", "thus USA focus LeTter xUS US9 9US Indiana India's naïveUS éUS US\u00e9 (US) -US- US", []string{
			"United States|state|text:USA,text:US,text:US,text:US",
			"India|state|text:India",
		}},
		{"verb and pronoun", "Let us go", "Let us go. let us go; Us and US", []string{"United States|state|text:US"}},
		{"dotted acronyms keep their stops", "", "the U.S. and U. S. and U．S． and the U.S; u.s. is no name", []string{"United States|state|text:U.S.,text:U. S.,text:U．S．,text:U.S"}},
		{"dotted acronym before a possessive or a hyphen", "", "the U.S.'s stance, U.S.A.-made, the US's stance", []string{"United States|state|text:U.S.,text:U.S.A.,text:US"}},
		{"no name starts inside a word", "", "India's Jaishankar and the US Jaishankar", []string{
			"India|state|text:India",
			"S Jaishankar|person|text:Jaishankar,text:Jaishankar",
			"United States|state|text:US",
		}},
		{"punctuation inside a name must be the name's", "", "in the west, bank shares; Rajnath, Singh; Al — Qaeda; Al Qa ida; the West Bank", []string{
			"Rajnath Singh|person|text:Rajnath",
			"Palestine|state|text:West Bank",
		}},
		{"hyphen for space and space for hyphen", "", "Sea-Guardian and Al Qa’ida; Hizb ul Mujahideen", []string{
			"MQ-9B|weapon-system|text:Sea-Guardian",
			"Al-Qaeda|militant-group|text:Al Qa’ida",
			"Hizbul Mujahideen|militant-group|text:Hizb ul Mujahideen",
		}},
		{"names in hyphenated words", "", "US-India ties, anti-US protests, a Lashkar-e-Taiba's cell", []string{
			"United States|state|text:US,text:US",
			"India|state|text:India",
			"Lashkar-e-Tayyiba|militant-group|text:Lashkar-e-Taiba",
		}},
		{"non-ASCII letters", "", "«India» •Quad «Quad» Élysée xÉlysée ÉLYSÉE Türkiye’s Tu\u0308rkiye", []string{
			"India|state|text:India",
			"Quad|grouping|text:Quad,text:Quad",
			"France|state|text:Élysée,text:ÉLYSÉE",
			"Turkey|state|text:Türkiye,text:Tu\u0308rkiye",
		}},
		{"soft hyphen and zero-width space", "", "Jai\u00adshankar met Lloyd\u200b Austin", []string{"S Jaishankar|person|text:Jai\u00adshankar", "Lloyd Austin|person|text:Lloyd\u200b Austin"}},
		{"longer names win", "", "Al-Qaeda in the Indian Subcontinent; Al-Qaeda in the Indian; UN Security; MQ-9B SeaGuardianX", []string{
			"Al-Qaeda in the Indian Subcontinent|militant-group|text:Al-Qaeda in the Indian Subcontinent",
			"Al-Qaeda|militant-group|text:Al-Qaeda",
			"India|state|text:Indian",
			"United Nations|grouping|text:UN",
			"MQ-9B|weapon-system|text:MQ-9B",
		}},
		{"ampersand names", "", "R & AW and L&T", []string{"Research and Analysis Wing|organisation|text:R & AW", "Larsen & Toubro|company|text:L&T"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := summary(g.Find(tt.title, tt.text))
			if !slices.Equal(got, tt.want) {
				t.Fatalf("Find(%q, %q)\n got %q\nwant %q", tt.title, tt.text, got, tt.want)
			}
		})
	}
}

// TestSeed checks the report the product was conceived from: the entities an
// analyst expects are there, every mention's offsets point at its text in
// the original, and the whole result matches the golden file.
func TestSeed(t *testing.T) {
	raw, err := os.ReadFile(seedPath)
	if err != nil {
		t.Fatalf("the seed report is expected beside the repository: %v", err)
	}
	text := string(raw)
	title := "India, US agree to co-produce armoured vehicles, expedite MQ-9B drone delivery at 2+2 dialogue"
	g := defaultGazetteer(t)
	got := g.Find(title, text)

	byName := map[string]events.Entity{}
	for _, e := range got {
		byName[e.Name] = e
		for _, m := range e.Mentions {
			src := text
			if m.Field == "title" {
				src = title
			}
			if m.Start < 0 || m.End > len(src) || src[m.Start:m.End] != m.Text {
				t.Errorf("%s: mention %+v does not point at its text", e.Name, m)
			}
			if g.Lookup(m.Text); !slices.ContainsFunc(g.Aliases(e.Name), func(a string) bool {
				return foldKey(a) == foldKey(m.Text)
			}) {
				t.Errorf("%s: mention %q is none of its aliases", e.Name, m.Text)
			}
		}
	}
	want := map[string]int{ // canonical name -> minimum mentions in the text
		"India": 20, "United States": 15, "China": 4, "Israel": 3, "Russia": 1, "Ukraine": 3,
		"Pakistan": 2, "Japan": 1, "Australia": 1, "Afghanistan": 3, "Palestine": 2,
		"Quad": 2, "United Nations": 1, "UN Security Council": 1,
		"Lashkar-e-Tayyiba": 1, "Jaish-e-Mohammed": 1, "Al-Qaeda": 2, "Islamic State": 2, "Hamas": 2, "Taliban": 2,
		"MQ-9B": 2, "F414": 2, "GE Aerospace": 2, "Hindustan Aeronautics Limited": 2,
		"Rajnath Singh": 1, "S Jaishankar": 5, "Lloyd Austin": 1, "Antony Blinken": 3, "Giridhar Aramane": 4, "Tahawwur Rana": 1,
	}
	for name, n := range want {
		e, ok := byName[name]
		if !ok {
			t.Errorf("%s not found", name)
			continue
		}
		if c := countField(e, "text"); c < n {
			t.Errorf("%s: %d mentions in the text, want at least %d", name, c, n)
		}
	}
	for _, e := range got {
		for _, m := range e.Mentions {
			if m.Text == "us" || m.Text == "Us" || strings.EqualFold(m.Text, "let") && m.Text != "LeT" {
				t.Errorf("%s matched the common word %q", e.Name, m.Text)
			}
		}
	}
	if _, ok := byName["MQ-9B"]; ok && countField(byName["MQ-9B"], "title") != 1 {
		t.Errorf("MQ-9B: want one title mention, got %+v", byName["MQ-9B"].Mentions)
	}

	golden(t, "livemint-2plus2.golden.json", got)
}

func countField(e events.Entity, field string) int {
	n := 0
	for _, m := range e.Mentions {
		if m.Field == field {
			n++
		}
	}
	return n
}

func golden(t *testing.T, name string, v any) {
	t.Helper()
	got, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if string(got) != string(want) {
		t.Errorf("result differs from %s; run go test -update and review the diff", path)
	}
}

func TestParseEntriesErrors(t *testing.T) {
	tests := []struct {
		name  string
		yaml  string
		wants []string // substrings of the error
	}{
		{"unknown key", "- name: India\n  type: state\n  alias: [Bharat]\n", []string{`entry 1 "India"`, `unknown key "alias"`, "line 3"}},
		{"unknown type", "- name: India\n  type: state\n- name: Foo\n  type: country\n", []string{`entry 2 "Foo"`, `key "type"`, `"country"`}},
		{"empty name", "- type: state\n  aliases: [X]\n", []string{"entry 1", `key "name" is empty`}},
		{"empty alias", "- name: Quad\n  type: grouping\n  aliases: [Quad, '']\n", []string{`"Quad"`, `key "aliases"`, "alias 2 is empty"}},
		{"aliases not a list", "- name: Quad\n  type: grouping\n  aliases: Quad\n", []string{`key "aliases"`, "list"}},
		{"case_sensitive not bool", "- name: Quad\n  type: grouping\n  case_sensitive: maybe\n", []string{`key "case_sensitive"`}},
		{"not a list", "name: India\n", []string{"want a list"}},
		{"bad yaml", "- name: [\n", []string{"entities:"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseEntries([]byte(tt.yaml))
			if !errors.Is(err, ErrInvalidEntry) {
				t.Fatalf("err = %v, want ErrInvalidEntry", err)
			}
			for _, w := range tt.wants {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestParseEntries(t *testing.T) {
	got, err := ParseEntries([]byte("- name: Quad\n  type: grouping\n  case_sensitive: true\n  aliases: [Quadrilateral Security Dialogue]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Name != "Quad" || got[0].CaseSensitive == nil || !*got[0].CaseSensitive || len(got[0].Aliases) != 1 {
		t.Fatalf("ParseEntries = %+v", got)
	}
	if e, err := ParseEntries(nil); err != nil || e != nil {
		t.Fatalf("empty input: %v, %v", e, err)
	}
}

func TestNew(t *testing.T) {
	t.Run("duplicate alias", func(t *testing.T) {
		_, err := New([]Entry{{Name: "India", Type: "state", Aliases: []string{"Bharat"}}, {Name: "Bharat Electronics", Type: "company", Aliases: []string{"bharat"}}})
		if !errors.Is(err, ErrDuplicateAlias) || !strings.Contains(err.Error(), `"India"`) || !strings.Contains(err.Error(), `"Bharat Electronics"`) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("config extends a shipped entity", func(t *testing.T) {
		extra, err := ParseEntries([]byte("- name: india\n  type: state\n  aliases: [Bharat]\n"))
		if err != nil {
			t.Fatal(err)
		}
		g, err := New(append(DefaultEntries(), extra...))
		if err != nil {
			t.Fatal(err)
		}
		got := summary(g.Find("", "Bharat and India"))
		if want := []string{"India|state|text:Bharat,text:India"}; !slices.Equal(got, want) {
			t.Fatalf("got %q, want %q", got, want)
		}
	})
	t.Run("invalid entry", func(t *testing.T) {
		if _, err := New([]Entry{{Name: "X", Type: "planet"}}); !errors.Is(err, ErrInvalidEntry) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("case_sensitive false folds acronyms", func(t *testing.T) {
		f := false
		g, err := New([]Entry{{Name: "NATO", Type: "grouping", CaseSensitive: &f}})
		if err != nil {
			t.Fatal(err)
		}
		if got := summary(g.Find("", "nato")); len(got) != 1 {
			t.Fatalf("got %q", got)
		}
	})
}

func TestAliases(t *testing.T) {
	g := defaultGazetteer(t)
	tests := []struct {
		name string
		want []string
	}{
		{"MQ-9B", []string{"MQ-9B", "MQ 9B", "MQ9B"}},
		{"mq9b", []string{"MQ-9B", "SeaGuardian"}},
		{"Sea\u00a0Guardian", []string{"MQ-9B"}},
		{"Anthony Blinken", []string{"Antony Blinken"}},
		{"Lashkar e Taiba", []string{"Lashkar-e-Tayyiba", "LeT"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := g.Aliases(tt.name)
			for _, w := range tt.want {
				if !slices.Contains(got, w) {
					t.Errorf("Aliases(%q) = %q, missing %q", tt.name, got, w)
				}
			}
			if len(got) == 0 || got[0] != tt.want[0] {
				t.Errorf("Aliases(%q) should start with the canonical name %q: %q", tt.name, tt.want[0], got)
			}
		})
	}
	if got := g.Aliases("Atlantis"); got != nil {
		t.Errorf("Aliases(unknown) = %q", got)
	}
}

func TestDefaultEntriesAreValid(t *testing.T) {
	entries := DefaultEntries()
	if len(entries) < 100 {
		t.Fatalf("only %d default entries", len(entries))
	}
	types := map[string]int{}
	for _, e := range entries {
		types[e.Type]++
	}
	for _, typ := range knownTypes {
		if types[typ] == 0 {
			t.Errorf("no default entry of type %s", typ)
		}
	}
}

func FuzzFind(f *testing.F) {
	raw, _ := os.ReadFile(seedPath)
	f.Add("India\u2019s MQ\u20119B", string(raw[:min(len(raw), 2000)]))
	f.Add("", "U.S.-made LeT\n\nRajnath  Singh \u00adQuad")
	f.Add("\uff2d\uff31\uff0d\uff19\uff22", "Sa\u0301o Hamas\u2014Israel")
	g := defaultGazetteer(f)
	f.Fuzz(func(t *testing.T, title, text string) {
		checkAgainstNaive(t, g, title, text)
		for _, e := range g.Find(title, text) {
			if e.Name == "" || e.Type == "" || len(e.Mentions) == 0 {
				t.Fatalf("incomplete entity %+v", e)
			}
			for _, m := range e.Mentions {
				src := text
				if m.Field == "title" {
					src = title
				} else if m.Field != "text" {
					t.Fatalf("field %q", m.Field)
				}
				if m.Start < 0 || m.Start >= m.End || m.End > len(src) || src[m.Start:m.End] != m.Text {
					t.Fatalf("mention %+v out of %q", m, src)
				}
			}
		}
	})
}

// syntheticEntries makes n made-up names of one to three pseudo-words, the
// size of a large customer gazetteer.
func syntheticEntries(n int) []Entry {
	r := rand.New(rand.NewPCG(1, 2))
	pseudo := benchtest.Words(r)
	word := func() string {
		s := pseudo()
		return strings.ToUpper(s[:1]) + s[1:]
	}
	out := make([]Entry, 0, n)
	for i := range n {
		parts := make([]string, 1+r.IntN(3))
		for j := range parts {
			parts[j] = word()
		}
		out = append(out, Entry{Name: fmt.Sprintf("%s %d", strings.Join(parts, " "), i), Type: TypeCompany})
	}
	return out
}

func benchText(b *testing.B) string {
	raw, err := os.ReadFile(seedPath)
	if err != nil {
		b.Fatal(err)
	}
	return strings.Repeat(string(raw), 100) // about 1 MB
}

// BenchmarkMatch matches the gazetteer, alone and with 10,000 more names,
// over about 1 MB of the seed: "scan" is the gazetteer's automaton over text
// already normalised (what the analyzer's shared scan costs per term set),
// "finddoc" adds FindDoc's checks and result, "find-with-normalisation" is
// Find on the raw text.
func BenchmarkMatch(b *testing.B) {
	text := benchText(b)
	for _, n := range []int{0, 10000} {
		g, err := New(append(DefaultEntries(), syntheticEntries(n)...))
		if err != nil {
			b.Fatal(err)
		}
		terms := len(g.terms)
		var d scan.Doc
		d.Normalize("", text)
		hits := make([]scan.Hit, 0, 1<<16)
		b.Run(fmt.Sprintf("terms=%d/scan", terms), func(b *testing.B) {
			meter := benchtest.Start()
			for b.Loop() {
				hits = g.machine.Scan(&d, hits[:0])
			}
			meter.ReportMB(b, len(d.Buf))
			b.ReportMetric(float64(len(hits)), "hits/op")
		})
		b.Run(fmt.Sprintf("terms=%d/finddoc", terms), func(b *testing.B) {
			var es []events.Entity
			meter := benchtest.Start()
			for b.Loop() {
				hits = g.machine.Scan(&d, hits[:0])
				es = g.FindDoc(&d, hits, 0)
			}
			meter.ReportMB(b, len(d.Buf))
			mentions := 0
			for _, e := range es {
				mentions += len(e.Mentions)
			}
			b.ReportMetric(float64(mentions), "mentions/op")
		})
		b.Run(fmt.Sprintf("terms=%d/find-with-normalisation", terms), func(b *testing.B) {
			meter := benchtest.Start()
			for b.Loop() {
				g.Find("", text)
			}
			meter.ReportMB(b, len(text))
		})
	}
}

// BenchmarkFindArticle is the analyzer's view: one article, title and text.
func BenchmarkFindArticle(b *testing.B) {
	raw, err := os.ReadFile(seedPath)
	if err != nil {
		b.Fatal(err)
	}
	g := defaultGazetteer(b)
	title := "India, US agree to co-produce armoured vehicles, expedite MQ-9B drone delivery"
	meter := benchtest.Start()
	for b.Loop() {
		g.Find(title, string(raw))
	}
	meter.ReportArticles(b)
}

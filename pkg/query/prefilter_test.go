package query_test

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/newswatch/newswatch/pkg/query"
)

// checkPrefilter fails t unless matching d without the need check gives
// the same as spans, ok (what Match gave with it).
func checkPrefilter(t *testing.T, src string, d *query.Doc, spans []query.Span, ok bool, opts ...query.Option) {
	t.Helper()
	ref, err := query.Parse(src, opts...)
	if err != nil {
		t.Fatal(err)
	}
	query.NoPrefilter(ref)
	plain := query.Doc{Title: d.Title, Text: d.Text, Source: d.Source, Lang: d.Lang, Topics: d.Topics}
	wantSpans, want := ref.Match(&plain)
	if ok != want || !reflect.DeepEqual(spans, wantSpans) {
		t.Fatalf("%s on %q / %q: with the prefilter %v %+v, without %v %+v", src, d.Title, d.Text, ok, spans, want, wantSpans)
	}
}

// The prefilter rejects only documents that cannot match, and does reject
// some: words absent in any case, filters that fail.
func TestPrefilter(t *testing.T) {
	aliases := query.WithAliases(func(string) []string { return []string{"SeaGuardian", "MQ 9B"} })
	drones := query.Doc{Title: "India clears MQ-9B purchase", Text: "The US Navy's Sea Guardian drones, the MQ9B. Quad leaders met.",
		Source: "www.livemint.com", Lang: "en-IN", Topics: map[string]float64{"defence-cooperation": 0.8}}
	ascii := query.Doc{Title: "NAVY LEASES TWO MORE", Text: "the u.s. and india signed; at&amp;t quad-bikes. MQ9B, mq 9b! US",
		Source: "PTI", Topics: map[string]float64{"terrorism": 0.3}}
	other := query.Doc{Title: "Cricket", Text: "Nothing to see here.", Source: "PTI"}
	nonASCII := query.Doc{Title: "Zürich", Text: "ＭＱ－９Ｂ dro\u200bnes; Sea\u00adGuardian in Київ. ＱＵＡＤ"}
	cases := []struct {
		name     string
		q        string
		doc      query.Doc
		rejected bool // the need check alone proves no match
	}{
		{"word present", `Quad`, drones, false},
		{"word absent", `Taiwan`, drones, true},
		{"case rule, word only in lower case", `Quad`, ascii, true},
		{"case rule, word as written", `Quad AND nocase:quad`, drones, false},
		{"case rule on a concatenation", `"MQ-9B"`, query.Doc{Text: "mq9b"}, true},
		{"concatenation as written", `"MQ-9B"`, query.Doc{Text: "the MQ9B."}, false},
		{"case: variant present", `case:quad`, ascii, false},
		{"nocase", `nocase:QUAD`, other, true},
		{"dash variants", `"MQ-9B"`, ascii, false},
		{"dash variant absent", `"MQ-9B"`, other, true},
		{"US split", `US AND India`, drones, false},
		{"us lower", `us`, ascii, false},
		{"U.S. punctuation", `U.S.`, ascii, false},
		{"entity remnant", `nocase:AT&T`, ascii, false},
		{"entity remnant, case rule", `AT&T`, ascii, true},
		{"phrase one word absent", `"Indian Navy"`, drones, true},
		{"entity aliases", `entity:"MQ-9B"`, ascii, false},
		{"entity absent", `entity:"MQ-9B"`, other, true},
		{"NOT only", `NOT Taiwan`, other, false},
		{"NOT present", `NOT Cricket`, other, false},
		{"AND NOT", `Quad AND NOT Taiwan`, other, true},
		{"OR with a NOT branch", `Taiwan OR NOT Quad`, other, false},
		{"OR all absent", `Taiwan OR Japan`, drones, true},
		{"NEAR one side absent", `NEAR/3(drones, Japan)`, drones, true},
		{"SENTENCE", `SENTENCE(Quad, leaders)`, drones, false},
		{"title scope absent in title", `title:Quad`, drones, true},
		{"text scope", `text:Quad`, drones, false},
		{"topic filter fails", `topic:terrorism AND Quad`, drones, true},
		{"topic filter holds", `topic:defence-cooperation`, drones, false},
		{"NOT topic", `NOT topic:defence-cooperation`, drones, true},
		{"source filter fails", `"MQ-9B" AND NOT source:livemint`, drones, true},
		{"source filter holds", `"MQ-9B" source:pti`, ascii, false},
		{"score", `score>=0.5 AND Quad`, ascii, true},
		{"lang", `lang:en drones`, drones, false},
		{"curly quotes and dashes are plain", `Taiwan`, query.Doc{Title: "India clears MQ–9B purchase", Text: "“Quad’s” plan — ₹ 3… \u2028"}, true},
		{"curly punctuation around the word", `"MQ-9B" AND Quad's`, query.Doc{Title: "India clears MQ–9B purchase", Text: "“Quad’s” plan"}, false},
		{"invalid UTF-8 is plain", `Taiwan`, query.Doc{Text: "Quad \xff\xfe"}, true},
		{"a letter outside ASCII proves nothing", `Taiwan`, query.Doc{Title: "Zürich", Text: "Quad"}, false},
		{"soft hyphen inside the word", `Taiwan`, query.Doc{Text: "Tai\u00adwan"}, false},
		{"zero-width space inside the word", `Taiwan`, query.Doc{Text: "Tai\u200bwan"}, false},
		{"combining mark", `Taiwan`, query.Doc{Text: "Taiwa\u0301n"}, false},
		{"non-ASCII text proves nothing", `"MQ-9B" AND Quad AND drones AND SeaGuardian`, nonASCII, false},
		{"non-ASCII term on ASCII text", `Київ`, ascii, true},
		{"non-ASCII term", `Київ OR Zurich`, nonASCII, false},
		{"filters only", `source:pti lang:en`, other, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			q, err := query.Parse(c.q, aliases)
			if err != nil {
				t.Fatal(err)
			}
			d := c.doc
			if got := query.MayMatch(q, &d); got == c.rejected {
				t.Errorf("need check says may match: %v, want %v", got, !c.rejected)
			}
			spans, ok := q.Match(&d)
			checkPrefilter(t, c.q, &d, spans, ok, aliases)
		})
	}
}

// Every query of testdata/queries.txt on the Livemint article, its
// paragraphs one by one and upper-cased: the prefilter changes nothing.
func TestPrefilterArticle(t *testing.T) {
	art, err := os.ReadFile(filepath.Join("testdata", "livemint-2023-11-11-india-us-2plus2.txt"))
	if err != nil {
		t.Fatal(err)
	}
	qs, err := os.ReadFile(filepath.Join("testdata", "queries.txt"))
	if err != nil {
		t.Fatal(err)
	}
	docs := []query.Doc{{Title: "India, US hold 2+2 dialogue", Text: string(art)}, {Text: strings.ToUpper(string(art))}}
	for _, p := range strings.Split(string(art), "\n\n") {
		docs = append(docs, query.Doc{Title: p[:min(len(p), 60)], Text: p})
	}
	extra := []string{`"MQ-9B" AND (drones OR India) AND NOT source:Mint`, `Austin NEAR/3 Singh`, `SENTENCE(India, "United States")`}
	for _, src := range append(strings.Split(string(qs), "\n"), extra...) {
		if src == "" || strings.HasPrefix(src, "#") {
			continue
		}
		q, err := query.Parse(src)
		if err != nil {
			continue
		}
		for i := range docs {
			d := docs[i]
			spans, ok := q.Match(&d)
			checkPrefilter(t, src, &d, spans, ok)
		}
	}
}

// FuzzPrefilter: on any title and text, Match with the need check equals
// Match without it.
func FuzzPrefilter(f *testing.F) {
	for _, s := range []string{
		"Leaders of the Quad met. Quad bikes were banned.",
		"The MQ‐9B, MQ–9B and MQ 9B; SeaGuardian’s Quad's MQ9B",
		"Zu\u0308rich ＭＱ－９Ｂ Sea\u00adGuardian dro\u200bne",
		"U.S. Navy. Gen. Quad\n\nQuad US us AT&amp;T India#39;s",
		"\xff\xfe broken utf-8 Quad \xc3",
		"",
	} {
		f.Add(s, "India and the Quad")
	}
	var srcs []string
	var qs []*query.Query
	aliases := query.WithAliases(func(string) []string { return []string{"SeaGuardian", "MQ 9B"} })
	for _, s := range []string{
		`Quad`, `"MQ-9B"`, `nocase:quad OR case:Quad`, `NEAR/2(Quad, MQ-9B)`, `US AND NOT us`,
		`SENTENCE(Quad, bikes)`, `"Quad's"`, `entity:"MQ-9B"`, `title:Quad OR text:drone`, `U.S. OR AT&T`,
		`Zürich OR India's`, `"anti-ship" -Quad`,
	} {
		q, err := query.Parse(s, aliases)
		if err != nil {
			f.Fatal(err)
		}
		srcs, qs = append(srcs, s), append(qs, q)
	}
	f.Fuzz(func(t *testing.T, text, title string) {
		for i, q := range qs {
			d := query.Doc{Title: title, Text: text}
			spans, ok := q.Match(&d)
			checkPrefilter(t, srcs[i], &d, spans, ok, aliases)
		}
	})
}

// A Doc no term of the query can occur in is matched without normalising
// it, with the same result: NOT queries, filters only.
func TestPrefilterNoTerm(t *testing.T) {
	ascii := query.Doc{Title: "Navy leases two more drones", Text: "The quad-bike ban. Talks with India and the U.S. ended.", Source: "PTI",
		Topics: map[string]float64{"defence-cooperation": 0.8}}
	cases := []struct {
		q      string
		doc    query.Doc
		noTerm bool
		match  bool
	}{
		{`NOT cricket`, ascii, true, true},
		{`topic:defence-cooperation AND NOT cricket`, ascii, true, true},
		{`topic:terrorism AND NOT cricket`, ascii, false, false}, // rejected by the filter first
		{`topic:defence-cooperation`, ascii, true, true},
		{`source:pti lang:en`, ascii, false, false},
		{`score>=0.5`, ascii, true, true},
		{`Quad OR NOT Japan`, ascii, true, true}, // Quad only in lower case
		{`NOT Quad`, ascii, true, true},
		{`NOT quad`, ascii, false, false}, // quad occurs: normalised and matched
		{`NOT India`, ascii, false, false},
		{`NOT cricket`, query.Doc{Title: "Zürich", Text: "no cricket here"}, false, false}, // not ASCII: normalised
		{`NOT cricket`, query.Doc{Title: "Zürich", Text: "no bats here"}, false, true},
		{`NEAR/2(cricket, bat) OR NOT Japan`, ascii, true, true},
	}
	for _, c := range cases {
		t.Run(c.q, func(t *testing.T) {
			q, err := query.Parse(c.q)
			if err != nil {
				t.Fatal(err)
			}
			d := c.doc
			if got := query.NoTerm(q, &d); got != c.noTerm {
				t.Errorf("no term can occur: %v, want %v", got, c.noTerm)
			}
			spans, ok := q.Match(&d)
			if ok != c.match {
				t.Errorf("Match = %v, want %v", ok, c.match)
			}
			checkPrefilter(t, c.q, &d, spans, ok)
		})
	}
}

package query_test

import (
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/newswatch/newswatch/pkg/query"
)

// FuzzMatch feeds publisher text, the outside input of the tokeniser, to a
// fixed set of queries: spans must lie inside their field on word edges
// and snippets must be valid text containing the match.
func FuzzMatch(f *testing.F) {
	for _, s := range []string{
		"Leaders of the Quad met. Quad bikes were banned.",
		"The MQ‐9B, MQ–9B and MQ 9B; SeaGuardian’s Quad's",
		"Zu\u0308rich ＭＱ－９Ｂ Sea\u00adGuardian dro\u200bne",
		"U.S. Navy. Gen. Quad\n\nQuad",
		"\xff\xfe broken utf-8 Quad \xc3",
		"",
	} {
		f.Add(s, "India and the Quad")
	}
	var qs []*query.Query
	for _, s := range []string{
		`Quad`, `"MQ-9B"`, `nocase:quad OR case:Quad`, `NEAR/2(Quad, MQ-9B)`,
		`SENTENCE(Quad, bikes)`, `"Quad's"`, `entity:"MQ-9B"`, `title:Quad OR text:drone`,
	} {
		q, err := query.Parse(s, query.WithAliases(func(string) []string { return []string{"SeaGuardian", "MQ 9B"} }))
		if err != nil {
			f.Fatal(err)
		}
		qs = append(qs, q)
	}
	f.Fuzz(func(t *testing.T, text, title string) {
		d := &query.Doc{Title: title, Text: text}
		d.Prepare()
		for _, q := range qs {
			spans, ok := q.Match(d)
			if !ok && len(spans) > 0 {
				t.Fatalf("%s: spans without a match", q)
			}
			for _, s := range spans {
				src := text
				if s.Field == "title" {
					src = title
				}
				if s.Start < 0 || s.End > len(src) || s.Start >= s.End {
					t.Fatalf("%s: span %+v outside its field of %d bytes", q, s, len(src))
				}
				if utf8.ValidString(src) && (!utf8.RuneStart(src[s.Start]) || s.End < len(src) && !utf8.RuneStart(src[s.End])) {
					t.Fatalf("%s: span %+v splits a character", q, s)
				}
				if utf8.ValidString(src) && !utf8.ValidString(s.Snippet) {
					t.Fatalf("%s: snippet %q is not valid UTF-8", q, s.Snippet)
				}
				// Snippets collapse ASCII white space only ("MQ\u20079B" stays).
				if !strings.Contains(s.Snippet, strings.Join(strings.FieldsFunc(src[s.Start:s.End], isASCIISpace), " ")) {
					t.Fatalf("%s: snippet %q lacks the match %q", q, s.Snippet, src[s.Start:s.End])
				}
			}
		}
	})
}

func isASCIISpace(r rune) bool {
	return r == ' ' || r == '\n' || r == '\t' || r == '\r' || r == '\v' || r == '\f'
}

// TestMatchConcurrent shares one query and one prepared document between
// goroutines; run with -race.
func TestMatchConcurrent(t *testing.T) {
	q, err := query.Parse(`"MQ-9B" AND (Quad OR India) NEAR/3(Quad, leaders)`)
	if err != nil {
		t.Fatal(err)
	}
	d := &query.Doc{Title: "Why India buys the MQ-9B", Text: "The Quad leaders met. " + strings.Repeat("More text here. ", 50)}
	d.Prepare()
	want, ok := q.Match(d)
	if !ok {
		t.Fatal("no match")
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 50 {
				got, ok := q.Match(d)
				if !ok || len(got) != len(want) {
					t.Errorf("concurrent Match = %v with %d spans, want %d", ok, len(got), len(want))
					return
				}
			}
		})
	}
	wg.Wait()
}

package query_test

import (
	"fmt"

	"github.com/newswatch/newswatch/pkg/query"
)

func Example() {
	q, err := query.Parse(`"MQ-9B" AND (Quad OR India) NOT topic:sports`)
	if err != nil {
		fmt.Println(err)
		return
	}
	doc := &query.Doc{
		Title: "India clears MQ–9B purchase",
		Text:  "Leaders of the Quad welcomed the deal for 31 drones.",
	}
	spans, ok := q.Match(doc)
	fmt.Println(q, ok)
	for _, s := range spans {
		fmt.Printf("%s %s %q\n", s.Field, s.Term, field(doc, s)[s.Start:s.End])
	}
	// Output:
	// MQ-9B AND (Quad OR India) AND NOT topic:sports true
	// title India "India"
	// title MQ-9B "MQ–9B"
	// text Quad "Quad"
}

func field(d *query.Doc, s query.Span) string {
	if s.Field == "title" {
		return d.Title
	}
	return d.Text
}

func ExampleParse_error() {
	_, err := query.Parse(`Quad AND (India OR`)
	fmt.Println(err)
	// Output:
	// query: column 19: OR at column 17 needs a word, phrase or '(' after it, found end of query
}

func ExampleWithAliases() {
	aliases := map[string][]string{"MQ-9B": {"SeaGuardian", "SkyGuardian", "MQ 9B", "MQ9B"}}
	q, _ := query.Parse(`entity:"MQ-9B"`, query.WithAliases(func(name string) []string { return aliases[name] }))
	spans, ok := q.Match(&query.Doc{Text: "The Navy leases two SeaGuardian drones."})
	fmt.Println(ok, spans[0].Term, spans[0].Snippet)
	// Output:
	// true MQ-9B The Navy leases two SeaGuardian drones.
}

package notifier

import (
	"testing"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/newswatch/newswatch/pkg/events"
)

// FuzzCheckTerms: whatever offsets an analyzed article carries, the terms
// that go into an alert slice their field without panicking, on UTF-8
// boundaries.
func FuzzCheckTerms(f *testing.F) {
	f.Add("MQ-9B drones", "India gets MQ-9B drones — soon.", "text", 11, 16)
	f.Add("", "x", "title", -50, 99999999)
	f.Add("é", "—", "body", 1, 2)
	n := &Notifier{metrics: NewMetrics(prometheus.NewRegistry())}
	f.Fuzz(func(t *testing.T, title, text, field string, start, end int) {
		a := events.Article{Title: title, Text: text}
		got := n.checkTerms([]events.MatchedTerm{{Term: "t", Field: field, Start: start, End: end}}, a)
		if len(got) != 1 {
			t.Fatalf("%d terms", len(got))
		}
		g := got[0]
		s := text
		switch g.Field {
		case "title":
			s = title
		case "text":
		default:
			t.Fatalf("field %q", g.Field)
		}
		if g.Start < 0 || g.Start > g.End || g.End > len(s) {
			t.Fatalf("offsets %d..%d out of a %d-byte field", g.Start, g.End, len(s))
		}
		sub := s[g.Start:g.End]
		if utf8.ValidString(s) && !utf8.ValidString(sub) {
			t.Fatalf("%q cut inside a rune at %d..%d", s, g.Start, g.End)
		}
	})
}

// Package watchset compiles analysts' watches into one dictionary whose
// terms are matched in the same pass as the topic taxonomy and the
// gazetteer, and turns the queries that match an article into
// events.WatchMatch values. The analyzer evaluates every watch this way; the
// notifier uses the analyzer's results when both hold the same revision of
// the watches and evaluates a Set itself otherwise.
package watchset

import (
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"sync"

	"github.com/newswatch/newswatch/pkg/config"
	"github.com/newswatch/newswatch/pkg/events"
	"github.com/newswatch/newswatch/pkg/query"
	"github.com/newswatch/newswatch/pkg/scan"
)

// ErrQuery is wrapped when a watch's query does not parse.
var ErrQuery = errors.New("watchset: invalid watch query")

// Set is a compiled set of watches at one revision of the watches bucket.
// It is immutable and safe for concurrent use.
type Set struct {
	revision uint64
	key      string
	watches  []config.Watch
	byID     map[string]int
	active   []int // watches evaluated (not paused), in order
	queries  *query.Set
	// machine holds the set's own terms, for MatchArticle; it is built on
	// first use, since the analyzer only ever matches the set in its
	// combined automaton.
	machine     *scan.Machine
	machineErr  error
	machineOnce sync.Once
	pool        sync.Pool // *scratch
}

type scratch struct {
	doc  scan.Doc
	hits []scan.Hit
}

// Compile parses every watch's query; aliases resolves entity:"X" terms. Any
// query that does not parse is an error naming watches[i].query.
func Compile(ws []config.Watch, revision uint64, aliases func(string) []string) (*Set, error) {
	qs := make([]*query.Query, len(ws))
	for i, w := range ws {
		q, err := query.Parse(w.Query, query.WithAliases(aliases))
		if err != nil {
			return nil, fmt.Errorf("%w: watches[%d].query of watch %q: %w (see docs/queries.md)", ErrQuery, i, w.ID, err)
		}
		qs[i] = q
	}
	return build(ws, qs, revision), nil
}

// CompileValid compiles the watches whose queries parse and logs the
// others, so that one bad watch in the bucket does not stop the rest. It
// returns how many it left out.
func CompileValid(ws []config.Watch, revision uint64, aliases func(string) []string, logger *slog.Logger) (*Set, int) {
	var ok []config.Watch
	var qs []*query.Query
	for _, w := range ws {
		q, err := query.Parse(w.Query, query.WithAliases(aliases))
		if err != nil {
			logger.Error("ignoring a watch whose query does not parse; fix it with newswatch watch add", "watch_id", w.ID, "err", err)
			continue
		}
		ok = append(ok, w)
		qs = append(qs, q)
	}
	return build(ok, qs, revision), len(ws) - len(ok)
}

func build(ws []config.Watch, qs []*query.Query, revision uint64) *Set {
	s := &Set{revision: revision, watches: ws, byID: make(map[string]int, len(ws))}
	var active []*query.Query
	for i, w := range ws {
		s.byID[w.ID] = i
		if !w.Paused {
			s.active = append(s.active, i)
			active = append(active, qs[i])
		}
	}
	s.queries = query.NewSet(active)
	h := fnv.New64a()
	for _, t := range s.queries.Terms() {
		fmt.Fprintf(h, "%q %t\n", t.Text, t.Prefix)
	}
	s.key = fmt.Sprintf("%d-%016x", revision, h.Sum64())
	s.pool.New = func() any { return &scratch{hits: make([]scan.Hit, 0, 256)} }
	return s
}

// Revision is the watches bucket revision the set was built from; 0 when
// it comes from the config file alone.
func (s *Set) Revision() uint64 { return s.revision }

// Key identifies what the set evaluates: its revision and a hash of every
// term its active queries were compiled to, aliases included. Two sets with
// the same key give the same results; the notifier trusts the analyzer's
// results only under its own key.
func (s *Set) Key() string { return s.key }

// Watches returns every watch of the set, paused ones included.
func (s *Set) Watches() []config.Watch { return s.watches }

// Watch returns the watch with the given id.
func (s *Set) Watch(id string) (config.Watch, bool) {
	i, ok := s.byID[id]
	if !ok {
		return config.Watch{}, false
	}
	return s.watches[i], true
}

// Terms is the set's dictionary, to compile with the analyzer's others.
func (s *Set) Terms() []scan.Term { return s.queries.Terms() }

// Meta returns what queries know of an article beyond its text: its
// source, language and topic scores.
func Meta(a events.Article, topics []events.Topic) *query.Doc {
	d := &query.Doc{Title: a.Title, Text: a.Text, Source: a.Source, Lang: a.Language, Topics: make(map[string]float64, len(topics))}
	for _, t := range topics {
		d.Topics[t.Name] = t.Score
	}
	return d
}

// Match evaluates the active watches on d, given the hits of a machine in
// which the set's Terms were dictionary list. It returns the watches that
// match, in the set's order.
func (s *Set) Match(d *scan.Doc, hits []scan.Hit, list int32, meta *query.Doc) []events.WatchMatch {
	res := s.queries.Match(d, hits, list, meta)
	if len(res) == 0 {
		return nil
	}
	out := make([]events.WatchMatch, len(res))
	for i, r := range res {
		out[i] = events.WatchMatch{WatchID: s.watches[s.active[r.Query]].ID, Terms: MatchedTerms(r.Spans, d.Title, d.Text)}
	}
	return out
}

// MatchArticle normalises and scans an analyzed article with the set's
// own machine and evaluates the active watches on it.
func (s *Set) MatchArticle(a *events.AnalyzedArticle) []events.WatchMatch {
	s.machineOnce.Do(func() { s.machine, s.machineErr = scan.Compile(s.queries.Terms()) })
	if s.machineErr != nil {
		// Out of reach: normalised terms use at most about 155 distinct
		// bytes (lower-case ASCII letters, digits, space, UTF-8 sequences)
		// against the automaton's 254; the analyzer logs the same error.
		return nil
	}
	sc := s.pool.Get().(*scratch)
	defer func() {
		sc.doc.Title, sc.doc.Text = "", "" // keep no article alive in the pool
		s.pool.Put(sc)
	}()
	sc.doc.Normalize(a.Article.Title, a.Article.Text)
	sc.hits = s.machine.Scan(&sc.doc, sc.hits[:0])
	return s.Match(&sc.doc, sc.hits, 0, Meta(a.Article, a.Topics))
}

// MatchedTerms turns query spans into the matched terms an alert carries, with
// what the article says at each one.
func MatchedTerms(spans []query.Span, title, text string) []events.MatchedTerm {
	out := make([]events.MatchedTerm, 0, len(spans))
	for _, sp := range spans {
		field := text
		if sp.Field == "title" {
			field = title
		}
		var said string
		if sp.Start >= 0 && sp.End <= len(field) && sp.Start < sp.End {
			said = field[sp.Start:sp.End]
		}
		out = append(out, events.MatchedTerm{Term: sp.Term, Text: said, Field: sp.Field, Start: sp.Start, End: sp.End, Snippet: sp.Snippet})
	}
	return out
}

package analyzer

import (
	"encoding/json"
	"fmt"
	"unicode/utf8"

	"github.com/newswatch/newswatch/pkg/events"
)

// fitSteps are the caps fit applies, one step at a time, until the analyzed
// article fits: how many evidence sentences per topic, mentions per entity
// and matched terms per watch it keeps, and how long a sentence or snippet
// may be.
var fitSteps = []struct{ evidence, mentions, terms, textLen int }{
	{10, 20, 20, 400},
	{3, 3, 5, 200},
	{1, 1, 1, 120},
}

// fit encodes out within limit bytes, trimming what only explains the
// result when it must: topic evidence, entity mentions and matched terms
// first (capped step by step), then the feed summary, then the end of the
// article's text (mentions and terms past the cut go with it). The topics,
// entities, story and matched watches themselves are kept. It reports
// whether anything was trimmed.
func fit(out *events.AnalyzedArticle, limit int) ([]byte, bool, error) {
	data, err := json.Marshal(out)
	if err != nil || limit <= 0 || len(data) <= limit {
		return data, false, err
	}
	for _, s := range fitSteps {
		capExplanations(out, s.evidence, s.mentions, s.terms, s.textLen)
		if data, err = json.Marshal(out); err != nil || len(data) <= limit {
			return data, true, err
		}
	}
	out.Article.Summary = ""
	// The text is what is left; cut it by what is over (plus what its JSON
	// escaping costs) until the whole fits.
	for range 8 {
		if data, err = json.Marshal(out); err != nil || len(data) <= limit {
			return data, true, err
		}
		over := len(data) - limit + 256
		keep := max(0, len(out.Article.Text)-over-over/8)
		for keep > 0 && !utf8.RuneStart(out.Article.Text[keep]) {
			keep--
		}
		out.Article.Text = out.Article.Text[:keep]
		dropPast(out, keep)
	}
	data, err = json.Marshal(out)
	if err == nil && len(data) > limit {
		err = fmt.Errorf("analyzer: analyzed article %s is %d bytes after trimming, over the %d-byte max payload", out.Article.ID, len(data), limit)
	}
	return data, true, err
}

func capExplanations(out *events.AnalyzedArticle, evidence, mentions, terms, textLen int) {
	for i := range out.Topics {
		t := &out.Topics[i]
		t.Evidence = t.Evidence[:min(len(t.Evidence), evidence)]
		for j := range t.Evidence {
			t.Evidence[j].Sentence = cut(t.Evidence[j].Sentence, textLen)
		}
	}
	for i := range out.Entities {
		e := &out.Entities[i]
		e.Mentions = e.Mentions[:min(len(e.Mentions), mentions)]
	}
	if out.Watches != nil {
		for i := range out.Watches.Matches {
			m := &out.Watches.Matches[i]
			m.Terms = m.Terms[:min(len(m.Terms), terms)]
			for j := range m.Terms {
				m.Terms[j].Snippet = cut(m.Terms[j].Snippet, textLen)
			}
		}
	}
}

// dropPast removes the text mentions and matched terms that end past n,
// the new length of the article's text.
func dropPast(out *events.AnalyzedArticle, n int) {
	for i := range out.Entities {
		e := &out.Entities[i]
		kept := e.Mentions[:0]
		for _, m := range e.Mentions {
			if m.Field != "text" || m.End <= n {
				kept = append(kept, m)
			}
		}
		e.Mentions = kept
	}
	if out.Watches != nil {
		for i := range out.Watches.Matches {
			m := &out.Watches.Matches[i]
			kept := m.Terms[:0]
			for _, t := range m.Terms {
				if t.Field != "text" || t.End <= n {
					kept = append(kept, t)
				}
			}
			m.Terms = kept
		}
	}
}

// cut shortens s to at most n bytes at a rune boundary, marking the cut.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

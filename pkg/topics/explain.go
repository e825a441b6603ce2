package topics

import (
	"fmt"
	"io"
	"strings"

	"github.com/newswatch/newswatch/pkg/scan"
)

// Explanation is the full account of one classification: every topic's
// score and every feature that occurred, whether it fired or was blocked by
// an unmet requirement.
type Explanation struct {
	Topics []TopicExplanation `json:"topics"`
}

// TopicExplanation is one topic's score against its threshold.
type TopicExplanation struct {
	Name      string               `json:"name"`
	Score     float64              `json:"score"`
	Threshold float64              `json:"threshold"`
	Flagged   bool                 `json:"flagged"`
	Density   float64              `json:"density"` // part of Score from evidence density
	Features  []FeatureExplanation `json:"features"`
}

// Statuses of a feature occurrence.
const (
	StatusFired   = "fired"
	StatusBlocked = "blocked"
)

// FeatureExplanation is one feature in one sentence.
type FeatureExplanation struct {
	Feature      string  `json:"feature"`
	Weight       float64 `json:"weight"`       // the feature's weight in the taxonomy
	Contribution float64 `json:"contribution"` // after placement, sentence cap and saturation
	Status       string  `json:"status"`
	Reason       string  `json:"reason,omitempty"` // the requirement not met
	Term         string  `json:"term"`
	Field        string  `json:"field"`
	Sentence     string  `json:"sentence"`
}

// Explain classifies like Classify and returns the whole account.
func (c *Classifier) Explain(title, text string) Explanation {
	sc := c.pool.Get().(*scratch)
	defer c.pool.Put(sc)
	defer sc.release()
	d := c.own(title, text, sc)
	return c.explain(d, sc.hits, 0, sc)
}

// ExplainDoc is Explain over a normalised and scanned article, with the
// hits of dictionary list, like ClassifyDoc.
func (c *Classifier) ExplainDoc(d *scan.Doc, hits []scan.Hit, list int32) Explanation {
	sc := c.pool.Get().(*scratch)
	defer c.pool.Put(sc)
	return c.explain(d, hits, list, sc)
}

func (c *Classifier) explain(d *scan.Doc, hits []scan.Hit, list int32, sc *scratch) Explanation {
	c.evaluate(d, hits, list, sc)
	var ex Explanation
	for t := range c.topics {
		tp := &c.topics[t]
		te := TopicExplanation{
			Name:      tp.def.Name,
			Score:     round3(sc.scores[t]),
			Threshold: tp.def.Threshold,
			Flagged:   sc.scores[t] >= tp.def.Threshold,
			Density:   round3(sc.density[t]),
		}
		for i := range sc.firings {
			f := &sc.firings[i]
			if int(f.topic) != t {
				continue
			}
			ft := &tp.features[f.feature]
			sn := &d.Sentences[f.span]
			fe := FeatureExplanation{
				Feature:      ft.name,
				Weight:       ft.weight,
				Contribution: round3(f.contrib),
				Status:       StatusFired,
				Term:         c.termOf(d, sc, f),
				Field:        fieldName(sn.Field),
				Sentence:     sentenceOf(d, sn),
			}
			if f.failed >= 0 {
				fe.Status = StatusBlocked
				fe.Reason = describe(ft.requires[f.failed], tp)
			}
			te.Features = append(te.Features, fe)
		}
		ex.Topics = append(ex.Topics, te)
	}
	return ex
}

func describe(r requirement, tp *topic) string {
	var parts []string
	if r.actors > 0 {
		parts = append(parts, fmt.Sprintf("%d distinct actors", r.actors))
	}
	if r.feature >= 0 {
		parts = append(parts, fmt.Sprintf("a %q term", tp.features[r.feature].name))
	}
	return "needs " + strings.Join(parts, " and ") + " in the same " + r.scope
}

// WriteText writes the explanation for a reader: per topic the verdict,
// then each feature with its contribution and the sentence it fired in.
func (e Explanation) WriteText(w io.Writer) error {
	var b strings.Builder
	for _, t := range e.Topics {
		verdict := "not flagged"
		if t.Flagged {
			verdict = "FLAGGED"
		}
		fmt.Fprintf(&b, "  %s: score %.3f / threshold %.3f  %s\n", t.Name, t.Score, t.Threshold, verdict)
		if t.Density != 0 {
			fmt.Fprintf(&b, "      %+.3f  density of evidence across the text\n", t.Density)
		}
		for _, f := range t.Features {
			switch {
			case f.Status == StatusFired && f.Weight == 0:
				fmt.Fprintf(&b, "      present %-24s %q (concept or mask, %s)\n", f.Feature, f.Term, f.Field)
			case f.Status == StatusFired:
				fmt.Fprintf(&b, "      %+.3f  %-24s %q (weight %g, %s)\n", f.Contribution, f.Feature, f.Term, f.Weight, f.Field)
			default:
				fmt.Fprintf(&b, "      blocked %-24s %q (weight %g, %s): %s\n", f.Feature, f.Term, f.Weight, f.Field, f.Reason)
			}
			fmt.Fprintf(&b, "               in: %s\n", f.Sentence)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

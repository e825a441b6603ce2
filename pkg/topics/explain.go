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
	Name      string  `json:"name"`
	Score     float64 `json:"score"`
	Threshold float64 `json:"threshold"`
	Flagged   bool    `json:"flagged"`
	// Scorer is "learned" for a topic of the learned model (Score is a
	// probability: sigmoid of Bias plus the contributions) and "taxonomy"
	// for one scored by its taxonomy weights.
	Scorer string  `json:"scorer"`
	Bias   float64 `json:"bias,omitempty"`
	// Part is what a learned topic's probability was computed on: the
	// title and lead, or a passage of the body; LeadScore is the title and
	// lead's probability and BodyScore the second-best passage's.
	Part      string               `json:"part,omitempty"`
	LeadScore float64              `json:"lead_score,omitempty"`
	BodyScore float64              `json:"body_score,omitempty"`
	Density   float64              `json:"density,omitempty"` // taxonomy: part of Score from evidence density
	Features  []FeatureExplanation `json:"features"`
}

// Scorers of a topic.
const (
	ScorerLearned  = "learned"
	ScorerTaxonomy = "taxonomy"
)

// Statuses of a feature occurrence.
const (
	StatusFired   = "fired"
	StatusBlocked = "blocked"
)

// FeatureExplanation is one feature in one sentence.
type FeatureExplanation struct {
	Feature string `json:"feature"`
	// Value is a learned feature's value in this article.
	Value float64 `json:"value,omitempty"`
	// Weight is the learned weight, or the feature's weight in the taxonomy.
	Weight float64 `json:"weight"`
	// Contribution is Value*Weight to the log-odds for a learned topic; for
	// a taxonomy topic the weight after placement, sentence cap and
	// saturation.
	Contribution float64 `json:"contribution"`
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
	c.predict(d, sc)
	var ex Explanation
	for t := range c.topics {
		if li := c.learnedFor(t); li >= 0 {
			ex.Topics = append(ex.Topics, c.explainLearned(d, sc, li))
			continue
		}
		tp := &c.topics[t]
		te := TopicExplanation{
			Name:      tp.def.Name,
			Score:     round3(sc.scores[t]),
			Threshold: tp.def.Threshold,
			Flagged:   sc.scores[t] >= tp.def.Threshold,
			Scorer:    ScorerTaxonomy,
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
	if c.model != nil {
		for li, lt := range c.model.topics {
			if lt.tax < 0 {
				ex.Topics = append(ex.Topics, c.explainLearned(d, sc, li))
			}
		}
	}
	return ex
}

// explainLearned lists every contribution to learned topic li, largest
// first.
func (c *Classifier) explainLearned(d *scan.Doc, sc *scratch, li int) TopicExplanation {
	lt := &c.model.topics[li]
	te := TopicExplanation{
		Name:      lt.name,
		Score:     round3(sc.prob[li]),
		Threshold: lt.threshold,
		Flagged:   sc.prob[li] >= lt.threshold,
		Scorer:    ScorerLearned,
		Bias:      round3(lt.bias),
	}
	te.Part = describePart(d, sc.decided[li])
	te.LeadScore = round3(sc.leadProb[li])
	te.BodyScore = round3(sc.best[2*li+1])
	cs := c.contributions(d, sc, li, sc.decided[li], false, nil)
	sortContributions(cs)
	for _, ct := range cs {
		f := &ct.fv
		sn := &d.Sentences[f.span]
		te.Features = append(te.Features, FeatureExplanation{
			Feature:      c.model.names[ct.row],
			Value:        round3(f.val),
			Weight:       round3(ct.weight),
			Contribution: round3(ct.contri),
			Status:       StatusFired,
			Term:         c.fvTerm(d, sc, f, ct.row),
			Field:        fieldName(sn.Field),
			Sentence:     sentenceOf(d, sn),
		})
	}
	return te
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
		if t.Scorer == ScorerLearned {
			fmt.Fprintf(&b, "  %s: probability %.3f / threshold %.3f  %s (learned model)\n", t.Name, t.Score, t.Threshold, verdict)
			fmt.Fprintf(&b, "      decided on the %s (title and lead %.3f, second-best body passage %.3f)\n", t.Part, t.LeadScore, t.BodyScore)
			fmt.Fprintf(&b, "      %+.3f  bias (log-odds before any feature)\n", t.Bias)
			for _, f := range t.Features {
				fmt.Fprintf(&b, "      %+.3f  %s (value %g x weight %g, %s)\n", f.Contribution, f.Term, f.Value, f.Weight, f.Field)
				fmt.Fprintf(&b, "               in: %s\n", f.Sentence)
			}
			continue
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

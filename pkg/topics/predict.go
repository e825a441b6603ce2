package topics

import (
	"fmt"
	"slices"
	"strconv"

	"github.com/newswatch/newswatch/pkg/events"
	"github.com/newswatch/newswatch/pkg/logreg"
	"github.com/newswatch/newswatch/pkg/scan"
)

// learnedFor returns the index of the learned topic that scores taxonomy
// topic t, or -1 when its taxonomy weights do.
func (c *Classifier) learnedFor(t int) int {
	if c.model == nil {
		return -1
	}
	for li := range c.model.topics {
		if c.model.topics[li].tax == t {
			return li
		}
	}
	return -1
}

// part is a range of sentences a learned topic was scored on.
type part struct{ lo, hi int32 }

// predict scores each learned topic on the title and lead and on passages
// of the body. The model learned from headlines with their teasers, so it
// reads a full article the same way: the title and lead as one item, and
// the rest of the text in passages: each paragraph, cut after the lead's
// length. A topic's
// probability is the lead's, or the second-highest passage's when that is
// higher: the labelling guide counts a topic as a real part of an article
// when several paragraphs are devoted to it, so one passage is not enough.
// It leaves the lead's features in sc.fv. The work is linear in the text.
func (c *Classifier) predict(d *scan.Doc, sc *scratch) {
	if c.model == nil {
		return
	}
	m := c.model
	nt := len(m.topics)
	ns := len(d.Sentences)
	end := leadEnd(d, sc, m.opts.LeadSentences)
	if c.knownIndex(&m.opts, nil) != nil {
		c.resolveTokens(d, sc)
	}
	sc.prob = grow(sc.prob, nt)
	sc.leadProb = grow(sc.leadProb, nt)
	sc.winProb = grow(sc.winProb, nt)
	sc.best = grow(sc.best, 2*nt)
	sc.bestPart = grow(sc.bestPart, 2*nt)
	sc.decided = grow(sc.decided, nt)
	if end < ns {
		win := max(m.opts.LeadSentences, 1)
		for s := end; s < ns; {
			// A passage is a paragraph, or up to win sentences of a
			// longer one.
			lo, n := s, 0
			for s < ns && n < win && (s == lo || d.Sentences[s].Para == d.Sentences[lo].Para) {
				if counted(d, sc, s) {
					n++
				}
				s++
			}
			if n == 0 {
				continue // boilerplate only
			}
			c.passageProbabilities(d, sc, lo, s, sc.winProb)
			for ti, p := range sc.winProb {
				pt := part{int32(lo), int32(s)}
				switch {
				case p > sc.best[2*ti]:
					sc.best[2*ti+1], sc.bestPart[2*ti+1] = sc.best[2*ti], sc.bestPart[2*ti]
					sc.best[2*ti], sc.bestPart[2*ti] = p, pt
				case p > sc.best[2*ti+1]:
					sc.best[2*ti+1], sc.bestPart[2*ti+1] = p, pt
				}
			}
		}
	}
	c.extract(d, sc, &m.opts, 0, end, nil)
	c.probabilities(sc, sc.leadProb)
	for ti := range nt {
		sc.prob[ti], sc.decided[ti] = sc.leadProb[ti], part{0, int32(end)}
		if p := sc.best[2*ti+1]; p > sc.prob[ti] {
			sc.prob[ti], sc.decided[ti] = p, sc.bestPart[2*ti+1]
		}
	}
}

// probabilities computes each learned topic's probability from sc.fv.
func (c *Classifier) probabilities(sc *scratch, out []float64) {
	m := c.model
	nt := len(m.topics)
	for ti := range nt {
		out[ti] = m.topics[ti].bias
	}
	for i := range sc.fv {
		row := sc.fv[i].row // extract kept only features of the model
		w := m.w[int(row)*nt : int(row)*nt+nt]
		for ti := range nt {
			out[ti] += w[ti] * sc.fv[i].val
		}
	}
	for ti := range nt {
		out[ti] = logreg.Sigmoid(out[ti])
	}
}

// passageProbabilities is extract then probabilities for sentences
// lo..hi-1, fused at inference: each feature's weights are added when its
// row is first seen, in the order probabilities adds them, and the
// deduplicated list is not built. Every value is 1 there (words are not
// length-normalised), so the sums are the same. Word features are summed
// straight from the article's resolved tokens (sumWordRows); collect
// gives the others. It leaves sc.fv marked as holding no part.
func (c *Classifier) passageProbabilities(d *scan.Doc, sc *scratch, lo, hi int, out []float64) {
	m := c.model
	known := c.knownIndex(&m.opts, nil)
	if known == nil {
		c.extract(d, sc, &m.opts, lo, hi, nil)
		c.probabilities(sc, out)
		return
	}
	nt := len(m.topics)
	for ti := range nt {
		out[ti] = m.topics[ti].bias
	}
	sc.newStampGen(m)
	words := c.wordRowsReady(sc, known)
	if words {
		c.sumWordRows(d, sc, &m.opts, lo, hi, out)
		sc.wordsSummed = true
	}
	fv := c.collect(d, sc, &m.opts, lo, hi, nil, known)
	sc.wordsSummed = false
	sc.fvPart = part{-1, -1}
	sc.addRows(m, fv, out)
	for ti := range nt {
		out[ti] = logreg.Sigmoid(out[ti])
	}
}

// contribution is one feature's share of a learned topic's log-odds.
type contribution struct {
	fv     fval
	row    int32
	weight float64
	contri float64
}

// contributions lists every feature of sentences p with a weight for
// learned topic li, appended to out, unordered; positiveOnly keeps only
// positive ones (evidence). It re-extracts the part unless sc.fv holds
// it, so it may overwrite sc.fv.
func (c *Classifier) contributions(d *scan.Doc, sc *scratch, li int, p part, positiveOnly bool, out []contribution) []contribution {
	m := c.model
	nt := len(m.topics)
	if sc.fvPart != p {
		c.extract(d, sc, &m.opts, int(p.lo), int(p.hi), nil)
	}
	for i := range sc.fv {
		row := sc.fv[i].row
		w := m.w[int(row)*nt+li]
		if w == 0 || positiveOnly && w*sc.fv[i].val <= 0 {
			continue
		}
		out = append(out, contribution{fv: sc.fv[i], row: row, weight: w, contri: w * sc.fv[i].val})
	}
	return out
}

// describePart names the sentences a topic was decided on.
func describePart(d *scan.Doc, p part) string {
	if p.lo == 0 {
		return "title and lead"
	}
	return fmt.Sprintf("body passage, sentences %d-%d", p.lo+1, p.hi)
}

// appendLearned appends learned topic li to out when its probability
// reaches its threshold, with its strongest positive contributions as
// evidence: from the title and lead, or from the two passages of the body
// that decided it.
func (c *Classifier) appendLearned(out []events.Topic, d *scan.Doc, sc *scratch, li int) []events.Topic {
	lt := &c.model.topics[li]
	if sc.prob[li] < lt.threshold {
		return out
	}
	cs := c.contributions(d, sc, li, sc.decided[li], true, sc.contribs[:0])
	if sc.decided[li].lo != 0 {
		cs = c.contributions(d, sc, li, sc.bestPart[2*li], true, cs)
	}
	sc.contribs = cs
	cs = topContributions(cs, maxEvidence)
	ev := make([]events.Evidence, 0, len(cs))
	for _, ct := range cs {
		sn := &d.Sentences[ct.fv.span]
		ev = append(ev, events.Evidence{
			Term:     c.fvTerm(d, sc, &ct.fv, ct.row),
			Weight:   round3(ct.contri),
			Field:    fieldName(sn.Field),
			Sentence: sentenceOf(d, sn),
		})
	}
	return append(out, events.Topic{Name: lt.name, Score: round3(sc.prob[li]), Threshold: lt.threshold, Evidence: ev})
}

// fvTerm names the feature of row for a reader: the words of a word
// feature; the feature name and the words it matched for a taxonomy
// feature; the name otherwise. Word labels were built with the model, and
// the others in sc's buffer, so a term costs at most one allocation.
func (c *Classifier) fvTerm(d *scan.Doc, sc *scratch, f *fval, row int32) string {
	if f.kind == fvWord || f.kind == fvCluster {
		return c.model.label(row)
	}
	name := c.model.names[row]
	if f.hit < 0 {
		return name
	}
	h := &sc.ehits[f.hit]
	end := int(h.end)
	for end < len(d.Buf) && d.Buf[end] != ' ' && d.Buf[end] != scan.Sep {
		end++ // the whole word a prefix term matched
	}
	b := append(append(sc.termBuf[:0], name...), ' ')
	b = strconv.AppendQuote(b, string(d.Buf[h.start:end]))
	sc.termBuf = b
	return string(b)
}

// topContributions moves the k largest contributions, in order, to the
// front of cs and returns them; the rest of cs is left in no particular
// state. It keeps the best ones found so far sorted at the front and
// inserts a contribution only when it beats the last of them: one
// comparison for most of a long passage's features, cheaper than sorting
// them all or selecting the best k times. contributionLess is a strict
// order (no two contributions share a row and a sentence), so the result
// is the same whatever the algorithm.
func topContributions(cs []contribution, k int) []contribution {
	k = min(k, len(cs))
	if k == 0 {
		return cs[:0]
	}
	n := 0 // cs[:n] holds the best so far, best first
	for i := range cs {
		c := cs[i]
		if n == k && !contributionLess(&c, &cs[k-1]) {
			continue
		}
		j := min(n, k-1) // c goes at j or before; cs[k-1] falls off when full
		for j > 0 && contributionLess(&c, &cs[j-1]) {
			cs[j] = cs[j-1]
			j--
		}
		cs[j] = c
		if n < k {
			n++
		}
	}
	return cs[:k]
}

// contributionLess orders contributions largest first, ties by feature row
// and sentence, so the order is deterministic.
func contributionLess(a, b *contribution) bool {
	switch {
	case a.contri != b.contri:
		return a.contri > b.contri
	case a.row != b.row:
		return a.row < b.row
	}
	return a.fv.span < b.fv.span
}

// sortContributions orders contributions largest first, ties by feature
// row and sentence so the order is deterministic.
func sortContributions(cs []contribution) {
	slices.SortFunc(cs, func(a, b contribution) int {
		switch {
		case contributionLess(&a, &b):
			return -1
		case contributionLess(&b, &a):
			return 1
		}
		return 0
	})
}

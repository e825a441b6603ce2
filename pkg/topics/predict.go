package topics

import (
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

// predict extracts the learned model's features of an evaluated article
// and computes each learned topic's probability into sc.prob. Each fval's
// hit field keeps its occurrence; sc.pick lists the features the model has
// weights for, by row.
func (c *Classifier) predict(d *scan.Doc, sc *scratch) {
	if c.model == nil {
		return
	}
	m := c.model
	nt := len(m.topics)
	c.extract(d, sc, &m.opts, nil)
	sc.prob = grow(sc.prob, nt)
	for ti := range m.topics {
		sc.prob[ti] = m.topics[ti].bias
	}
	sc.pick = sc.pick[:0]
	sc.contrib = sc.contrib[:0]
	for i := range sc.fv {
		row, ok := m.index[sc.fv[i].key]
		if !ok {
			continue
		}
		sc.pick = append(sc.pick, int32(i), row)
		for ti := range nt {
			sc.prob[ti] += m.w[int(row)*nt+ti] * sc.fv[i].val
		}
	}
	for ti := range nt {
		sc.prob[ti] = logreg.Sigmoid(sc.prob[ti])
	}
}

// contribution is one feature's share of a learned topic's log-odds.
type contribution struct {
	fv     int32 // index in sc.fv
	row    int32
	weight float64
	value  float64
	contri float64
}

// contributions lists every feature with a weight for learned topic li,
// largest contribution first.
func (c *Classifier) contributions(sc *scratch, li int) []contribution {
	m := c.model
	nt := len(m.topics)
	out := make([]contribution, 0, len(sc.pick)/2)
	for k := 0; k < len(sc.pick); k += 2 {
		i, row := sc.pick[k], sc.pick[k+1]
		w := m.w[int(row)*nt+li]
		if w == 0 {
			continue
		}
		v := sc.fv[i].val
		out = append(out, contribution{fv: i, row: row, weight: w, value: v, contri: w * v})
	}
	slices.SortStableFunc(out, func(a, b contribution) int {
		switch {
		case a.contri > b.contri:
			return -1
		case a.contri < b.contri:
			return 1
		}
		return 0
	})
	return out
}

// appendLearned appends learned topic li to out when its probability
// reaches its threshold, with its strongest positive contributions as
// evidence.
func (c *Classifier) appendLearned(out []events.Topic, d *scan.Doc, sc *scratch, li int) []events.Topic {
	lt := &c.model.topics[li]
	if sc.prob[li] < lt.threshold {
		return out
	}
	var ev []events.Evidence
	for _, ct := range c.contributions(sc, li) {
		if ct.contri <= 0 || len(ev) == maxEvidence {
			break
		}
		f := &sc.fv[ct.fv]
		sn := &d.Sentences[f.span]
		ev = append(ev, events.Evidence{
			Term:     c.fvTerm(d, sc, f, c.model.names[ct.row]),
			Weight:   round3(ct.contri),
			Field:    fieldName(sn.Field),
			Sentence: sentenceOf(d, sn),
		})
	}
	return append(out, events.Topic{Name: lt.name, Score: round3(sc.prob[li]), Threshold: lt.threshold, Evidence: ev})
}

// fvTerm names a feature for a reader: the words of a word feature; the
// feature name and the words it matched for a taxonomy feature; the name
// otherwise.
func (c *Classifier) fvTerm(d *scan.Doc, sc *scratch, f *fval, name string) string {
	if f.kind == fvWord {
		return featureLabel(name)
	}
	if f.hit < 0 {
		return name
	}
	h := &sc.ehits[f.hit]
	end := int(h.end)
	for end < len(d.Buf) && d.Buf[end] != ' ' && d.Buf[end] != scan.Sep {
		end++ // the whole word a prefix term matched
	}
	return name + " " + strconv.Quote(string(d.Buf[h.start:end]))
}

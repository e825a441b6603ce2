package topics

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/newswatch/newswatch/pkg/logreg"
	"github.com/newswatch/newswatch/pkg/scan"
)

// ErrTrain is wrapped by errors about training data.
var ErrTrain = errors.New("topics: training")

// Item is one labelled article: the topics it belongs to.
type Item struct {
	ID     string   `json:"id"`
	Title  string   `json:"title"`
	Text   string   `json:"text"`
	Topics []string `json:"topics"`
}

// ReadItems reads JSON lines of labelled items; name says where they came
// from in errors.
func ReadItems(r io.Reader, name string) ([]Item, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	var out []Item
	for line := 1; sc.Scan(); line++ {
		raw := strings.TrimSpace(sc.Text())
		if raw == "" {
			continue
		}
		var it Item
		if err := json.Unmarshal([]byte(raw), &it); err != nil {
			return nil, fmt.Errorf("%w: %s line %d: %v (want {\"id\",\"title\",\"text\",\"topics\":[...]})", ErrTrain, name, line, err)
		}
		if it.Title == "" && it.Text == "" {
			return nil, fmt.Errorf("%w: %s line %d: no title or text", ErrTrain, name, line)
		}
		out = append(out, it)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%w: reading %s: %v", ErrTrain, name, err)
	}
	return out, nil
}

// TrainOptions controls Train. Zero values take the defaults.
type TrainOptions struct {
	// Topics to learn; default every topic some item is labelled with.
	Topics []string
	// FeatureGrid lists the feature options to compare; the one with the
	// best macro-averaged cross-validated F1, averaged over Repeats fold
	// assignments, is kept (default DefaultFeatureGrid).
	FeatureGrid []FeatureOptions
	// Repeats is how many assignments of story groups to folds (seeds
	// Seed, Seed+1, ...) the choice of feature set averages its
	// cross-validated F1 over (default 3): F1 of one assignment moves by
	// 0.01-0.03 with the seed, as much as a feature family gains. The
	// penalty, threshold, recalibration and the figures reported come
	// from the first; the others reuse its penalty.
	Repeats int
	// MinGain is how much more macro-averaged cross-validated F1 a feature
	// set of the grid must reach than the best earlier one to be kept
	// (default 0.005; the grid lists richer sets later), and how much more
	// F1 an optional family of the chosen set (optionalFamilies) must give
	// a topic for the topic to keep it. Negative keeps any gain.
	MinGain float64
	// Lambdas are the L2 penalties to compare per topic (default
	// 3e-5, 1e-4, 3e-4, 1e-3, 3e-3).
	Lambdas []float64
	// MinDF drops features seen in fewer training items (default 2).
	MinDF int
	// MinWeight drops learned weights smaller in magnitude (default 0.01),
	// in the cross-validation folds as in the final model, so the figures
	// measure the model that ships: a smaller model is faster to look up
	// and its dropped weights move no decision measurably.
	MinWeight float64
	// Folds is the number of cross-validation folds (default 5).
	Folds int
	// Seed fixes the assignment of story groups to folds (default 1).
	Seed uint64
	// RatioSmoothing is the smoothing count of the log-count ratio scaling
	// of features (default 0.5; negative turns the scaling off). Before
	// fitting, each feature's values are multiplied by sqrt(|r|), where r
	// is its log-count ratio over the training items, log of (positives
	// with it + a)/(positives + a) over (negatives with it + a)/(negatives
	// + a): as in NBSVM (Wang and Manning 2012), features that tell the
	// classes apart are penalised less than those common to both. The
	// weights are multiplied back, so the model reads unscaled values.
	RatioSmoothing float64
	// Log, when set, receives progress lines.
	Log io.Writer
}

// DefaultFeatures are the feature options `newswatch topics train
// --grid=false` uses.
var DefaultFeatures = FeatureOptions{LeadSentences: 3, Bigrams: true, TitleWords: true, Taxonomy: true, Actors: true}

// DefaultFeatureGrid is the set of feature options Train compares by
// default: words alone, then families of explainable features added.
func DefaultFeatureGrid() []FeatureOptions {
	words := FeatureOptions{LeadSentences: 3, Bigrams: true}
	tax := words
	tax.Taxonomy = true
	actors := tax
	actors.Actors = true
	norm := DefaultFeatures
	norm.WordNorm = true
	stemmed := DefaultFeatures
	stemmed.Stem = true
	titleTax := stemmed
	titleTax.TitleTaxonomy = true
	// Word clusters and the spelling fold both let a word the labelled
	// items never used count by one they did; the fold is not measurable
	// here (docs/topics.md), so it comes with the clusters.
	clusters := titleTax
	clusters.Clusters, clusters.Spelling = true, true
	return []FeatureOptions{words, tax, actors, DefaultFeatures, norm, stemmed, titleTax, clusters}
}

func (o TrainOptions) withDefaults(items []Item) TrainOptions {
	if len(o.Topics) == 0 {
		seen := map[string]bool{}
		for _, it := range items {
			for _, t := range it.Topics {
				if !seen[t] {
					seen[t] = true
					o.Topics = append(o.Topics, t)
				}
			}
		}
		sort.Strings(o.Topics)
	}
	if len(o.FeatureGrid) == 0 {
		o.FeatureGrid = DefaultFeatureGrid()
	}
	if len(o.Lambdas) == 0 {
		o.Lambdas = []float64{3e-5, 1e-4, 3e-4, 1e-3, 3e-3}
	}
	if o.MinDF == 0 {
		o.MinDF = 2
	}
	if o.MinWeight == 0 {
		o.MinWeight = 0.01
	}
	if o.Folds == 0 {
		o.Folds = 5
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	if o.Repeats == 0 {
		o.Repeats = 3
	}
	if o.MinGain == 0 {
		o.MinGain = 0.005
	}
	if o.RatioSmoothing == 0 {
		o.RatioSmoothing = 0.5
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	return o
}

// Report is what Train measured.
type Report struct {
	Items, Groups int
	Folds         int
	Repeats       int // fold assignments the choice of feature set averaged
	Grid          []GridResult
	Chosen        FeatureOptions
	Topics        []TopicReport
}

// GridResult is the cross-validated quality of one feature option set.
type GridResult struct {
	Features FeatureOptions
	// MacroF1 is the macro-averaged cross-validated F1, averaged over the
	// Repeats fold assignments; FirstMacroF1 is that of the first alone,
	// the assignment of Topics.
	MacroF1, FirstMacroF1 float64
	Topics                []TopicReport
}

// TopicReport is one topic's cross-validated figures at its chosen
// penalty and threshold.
type TopicReport struct {
	Name      string
	Positives int
	Lambda    float64
	Threshold float64
	// Scale and Shift recalibrate the log-odds: the shipped model's
	// log-odds are Scale × the fitted ones + Shift (Platt scaling fitted on
	// the out-of-fold predictions).
	Scale, Shift float64
	CV           Quality
	Calibration  []CalibrationBin
	// MeanF1 is the cross-validated F1 averaged over the fold
	// assignments (TrainOptions.Repeats); CV is the first one's.
	MeanF1 float64
	// Without lists the optional feature families the topic goes without
	// (optionalFamilies).
	Without []string
}

// CalibrationBin compares predicted probabilities with observed rates on
// out-of-fold predictions.
type CalibrationBin struct {
	Lo, Hi    float64
	N         int
	Predicted float64 // mean predicted probability
	Observed  float64 // fraction of positives
}

// trainSet is the items as sparse rows over one vocabulary.
type trainSet struct {
	rows  [][]fval // per item, sorted by key
	names map[uint64]string
}

// featurize extracts every item's features with options o.
func (c *Classifier) featurize(items []Item, o FeatureOptions) *trainSet {
	ts := &trainSet{names: map[uint64]string{}}
	for k, v := range c.keys.names {
		ts.names[k] = v
	}
	sc := new(scratch)
	for _, it := range items {
		d := c.own(it.Title, it.Text, sc)
		c.evaluate(d, sc.hits, 0, sc)
		c.extract(d, sc, &o, 0, leadEnd(d, sc, o.LeadSentences), ts.names)
		ts.rows = append(ts.rows, slices.Clone(sc.fv))
	}
	return ts
}

// matrix maps the features of the rows in use (df >= minDF over them) to
// column indices and returns the rows as logreg rows over all items.
func (ts *trainSet) matrix(use []int, minDF int) (rows []logreg.Row, keys []uint64) {
	df := map[uint64]int{}
	for _, i := range use {
		for _, f := range ts.rows[i] {
			df[f.key]++
		}
	}
	for k, n := range df {
		if n >= minDF {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	col := make(map[uint64]int32, len(keys))
	for i, k := range keys {
		col[k] = int32(i)
	}
	rows = make([]logreg.Row, len(ts.rows))
	for i, fs := range ts.rows {
		var r logreg.Row
		for _, f := range fs {
			if j, ok := col[f.key]; ok {
				r.Idx = append(r.Idx, j)
				r.Val = append(r.Val, f.val)
			}
		}
		rows[i] = r
	}
	return rows, keys
}

// Train learns a model for the labelled items over classifier c's
// taxonomy: for each feature option set of the grid and each topic and
// penalty it measures cross-validated F1 with folds grouped by story (copies
// and near-copies of one story never sit on both sides), keeps the best,
// picks each topic's threshold by cross-validated F1, and fits the final
// weights on every item. It is deterministic.
func Train(c *Classifier, items []Item, opts TrainOptions) (*Model, *Report, error) {
	if len(items) == 0 {
		return nil, nil, fmt.Errorf("%w: no items", ErrTrain)
	}
	opts = opts.withDefaults(items)
	labels := make(map[string][]bool, len(opts.Topics))
	for _, t := range opts.Topics {
		y := make([]bool, len(items))
		pos := 0
		for i, it := range items {
			y[i] = slices.Contains(it.Topics, t)
			if y[i] {
				pos++
			}
		}
		if pos < opts.Folds {
			return nil, nil, fmt.Errorf("%w: topic %q has %d positive items; label at least %d", ErrTrain, t, pos, opts.Folds)
		}
		labels[t] = y
	}
	groups := storyGroups(items)
	folds := make([][]int, max(opts.Repeats, 1))
	for r := range folds {
		folds[r] = assignFolds(groups, opts.Folds, opts.Seed+uint64(r))
	}
	rep := &Report{Items: len(items), Folds: opts.Folds, Repeats: len(folds)}
	rep.Groups = countDistinct(groups)
	fmt.Fprintf(opts.Log, "%d items in %d story groups, %d folds, %d fold assignments\n", len(items), rep.Groups, opts.Folds, len(folds))

	best := -1.0
	var bestSet *trainSet
	for _, fo := range opts.FeatureGrid {
		ts := c.featurize(items, fo)
		gr := GridResult{Features: fo}
		var means []string // per topic, over the fold assignments
		for _, t := range opts.Topics {
			tr := crossValidateRepeated(ts, labels[t], folds, opts)
			tr.Name = t
			gr.Topics = append(gr.Topics, tr)
			gr.FirstMacroF1 += tr.CV.F1 / float64(len(opts.Topics))
			gr.MacroF1 += tr.MeanF1 / float64(len(opts.Topics))
			means = append(means, fmt.Sprintf("%s %.3f", t, tr.MeanF1))
		}
		fmt.Fprintf(opts.Log, "features %+v: macro CV F1 %.3f (%s; first fold assignment %.3f)\n", fo, gr.MacroF1, strings.Join(means, ", "), gr.FirstMacroF1)
		rep.Grid = append(rep.Grid, gr)
		// A later (richer) feature set must beat the best so far by more
		// than MinGain: a family that does not measurably help costs
		// inference time and is not worth its risk on unseen news.
		if best < 0 || gr.MacroF1 > best+max(opts.MinGain, 0) {
			best, bestSet, rep.Chosen, rep.Topics = gr.MacroF1, ts, fo, gr.Topics
		}
	}

	// A topic goes without an optional family of the chosen options
	// unless the family gains it more than MinGain by itself: a family
	// can help one topic and not another.
	sets := make([]*trainSet, len(rep.Topics))
	for i, tr := range rep.Topics {
		sets[i] = bestSet
		for _, fam := range optionalFamilies {
			if !fam.on(rep.Chosen) {
				continue
			}
			ts := sets[i].without(fam.member)
			alt := crossValidateRepeated(ts, labels[tr.Name], folds, opts)
			if tr.MeanF1 > alt.MeanF1+max(opts.MinGain, 0) {
				fmt.Fprintf(opts.Log, "%s without %s: CV F1 %.3f, with %.3f: kept\n", tr.Name, fam.name, alt.MeanF1, tr.MeanF1)
				continue
			}
			fmt.Fprintf(opts.Log, "%s without %s: CV F1 %.3f, with %.3f: dropped\n", tr.Name, fam.name, alt.MeanF1, tr.MeanF1)
			alt.Name, alt.Without = tr.Name, append(slices.Clone(tr.Without), fam.name)
			tr, sets[i] = alt, ts
		}
		rep.Topics[i] = tr
	}

	m := &Model{Version: ModelVersion, Features: rep.Chosen}
	all := make([]int, len(items))
	for i := range all {
		all[i] = i
	}
	for i, tr := range rep.Topics {
		rows, keys := sets[i].matrix(all, opts.MinDF)
		fit, err := fitTopic(rows, all, labels[tr.Name], keys, tr.Lambda, opts)
		if err != nil {
			return nil, nil, fmt.Errorf("%w: topic %q: %v", ErrTrain, tr.Name, err)
		}
		for j := range fit.W {
			fit.W[j] *= tr.Scale
		}
		fit.Bias = tr.Scale*fit.Bias + tr.Shift
		cv := tr.CV
		tm := TopicModel{Name: tr.Name, Bias: round6(fit.Bias), Threshold: tr.Threshold, Lambda: tr.Lambda, CV: &cv,
			Positives: tr.Positives, Items: len(items), Without: tr.Without, Weights: map[string]float64{}}
		for j, w := range fit.W {
			if w = round6(w); w != 0 {
				tm.Weights[sets[i].names[keys[j]]] = w
			}
		}
		m.Topics = append(m.Topics, tm)
	}
	return m, rep, nil
}

// crossValidateRepeated cross-validates one topic on the first fold
// assignment, choosing its penalty there (crossValidate), and sets MeanF1
// to the F1 averaged over every assignment, the others at that penalty.
func crossValidateRepeated(ts *trainSet, y []bool, folds [][]int, opts TrainOptions) TopicReport {
	tr := crossValidate(ts, y, folds[0], opts)
	f1 := tr.CV.F1
	again := opts
	again.Lambdas, again.Log = []float64{tr.Lambda}, io.Discard
	for _, fold := range folds[1:] {
		f1 += crossValidate(ts, y, fold, again).CV.F1
	}
	tr.MeanF1 = f1 / float64(len(folds))
	return tr
}

// optionalFamilies are the feature families a topic may go without when
// the chosen options have them: name, whether options o have it, and
// whether a feature name belongs to it.
var optionalFamilies = []struct {
	name   string
	on     func(o FeatureOptions) bool
	member func(name string) bool
}{
	{"clusters", func(o FeatureOptions) bool { return o.Clusters }, isClusterFeature},
}

// without returns the training set with the features whose names member
// accepts removed.
func (ts *trainSet) without(member func(string) bool) *trainSet {
	out := &trainSet{names: ts.names, rows: make([][]fval, len(ts.rows))}
	drop := map[uint64]bool{}
	for i, fs := range ts.rows {
		kept := make([]fval, 0, len(fs))
		for _, f := range fs {
			d, ok := drop[f.key]
			if !ok {
				d = member(ts.names[f.key])
				drop[f.key] = d
			}
			if !d {
				kept = append(kept, f)
			}
		}
		out.rows[i] = kept
	}
	return out
}

// prune zeroes the weights smaller in magnitude than min.
func prune(m *logreg.Model, min float64) {
	for j, w := range m.W {
		if math.Abs(w) < min {
			m.W[j] = 0
		}
	}
}

func round6(x float64) float64 { return math.Round(x*1e6) / 1e6 }

// crossValidate chooses the penalty (by Brier score) and threshold (by F1)
// of one topic by grouped cross-validation and returns the out-of-fold
// figures.
func crossValidate(ts *trainSet, y []bool, fold []int, opts TrainOptions) TopicReport {
	var best TopicReport
	bestF1, bestFitted := -1.0, 0.0
	pos := 0
	for _, v := range y {
		if v {
			pos++
		}
	}
	for _, lambda := range opts.Lambdas {
		oof := outOfFold(ts, y, fold, lambda, opts)
		// The penalty is chosen by the Brier score of the fitted
		// probabilities, before they are recalibrated.
		fitted := quality(oof, y, 0.5).Brier
		scale, shift := platt(oof, y)
		for i, p := range oof {
			oof[i] = logreg.Sigmoid(scale*logit(p) + shift)
		}
		th, q := bestThreshold(oof, y)
		fmt.Fprintf(opts.Log, "  lambda %g: CV F1 %.3f (P %.3f R %.3f) at threshold %.3f, Brier %.4f (fitted %.4f)\n", lambda, q.F1, q.Precision, q.Recall, th, q.Brier, fitted)
		// The penalty is chosen by the Brier score (a proper scoring
		// rule: calibration and sharpness), the threshold by F1; F1 is
		// flat across penalties within its noise, and choosing by it
		// picked overconfident models.
		if bestF1 < 0 || fitted < bestFitted {
			bestF1, bestFitted = q.F1, fitted
			best = TopicReport{Positives: pos, Lambda: lambda, Threshold: th, Scale: scale, Shift: shift, CV: q, Calibration: calibration(oof, y)}
		}
	}
	return best
}

// Bounds of the recalibration's scale, so that a small or separable
// training set cannot make the model's log-odds explode or vanish.
const (
	minPlattScale = 0.25
	maxPlattScale = 4
)

// platt fits p' = sigmoid(scale × logit(p) + shift) to the labels y of
// out-of-fold probabilities p (Platt scaling): a monotone map, so the
// ranking and F1 at the correspondingly moved threshold are unchanged,
// that corrects the over- or under-confidence the feature scaling and
// penalty leave. It returns scale 1 and shift 0 when the fit fails.
func platt(p []float64, y []bool) (scale, shift float64) {
	rows := make([]logreg.Row, len(p))
	for i, v := range p {
		rows[i] = logreg.Row{Idx: []int32{0}, Val: []float64{logit(v)}}
	}
	fit, err := logreg.Fit(rows, y, 1, logreg.Options{Lambda: 1e-4})
	if err != nil || math.IsNaN(fit.W[0]) || math.IsNaN(fit.Bias) {
		return 1, 0
	}
	scale = min(max(fit.W[0], minPlattScale), maxPlattScale)
	if scale != fit.W[0] {
		return 1, 0
	}
	return scale, fit.Bias
}

// logit is the log-odds of p, clamped away from 0 and 1.
func logit(p float64) float64 {
	p = min(max(p, 1e-9), 1-1e-9)
	return math.Log(p / (1 - p))
}

// outOfFold returns each item's probability from the model fitted, with
// penalty lambda, on the folds it is not in.
func outOfFold(ts *trainSet, y []bool, fold []int, lambda float64, opts TrainOptions) []float64 {
	oof := make([]float64, len(y))
	for k := range opts.Folds {
		var train, test []int
		for i := range y {
			if fold[i] == k {
				test = append(test, i)
			} else {
				train = append(train, i)
			}
		}
		rows, keys := ts.matrix(train, opts.MinDF)
		fit, err := fitTopic(rows, train, y, keys, lambda, opts)
		if err != nil {
			continue
		}
		for _, i := range test {
			oof[i] = fit.Prob(rows[i])
		}
	}
	return oof
}

// fitTopic fits one topic's weights on the rows of items use (rows holds
// every item, over the columns keys), with the features scaled by their
// log-count ratio, and prunes the small ones. The returned weights apply
// to the unscaled feature values.
func fitTopic(rows []logreg.Row, use []int, y []bool, keys []uint64, lambda float64, opts TrainOptions) (*logreg.Model, error) {
	trRows := make([]logreg.Row, len(use))
	trY := make([]bool, len(use))
	for j, i := range use {
		trRows[j], trY[j] = rows[i], y[i]
	}
	scale := featureScale(trRows, trY, len(keys), opts)
	if scale != nil {
		for j, r := range trRows {
			v := make([]float64, len(r.Val))
			for k, c := range r.Idx {
				v[k] = r.Val[k] * scale[c]
			}
			trRows[j] = logreg.Row{Idx: r.Idx, Val: v}
		}
	}
	fit, err := logreg.Fit(trRows, trY, len(keys), logreg.Options{Lambda: lambda})
	if err != nil {
		return nil, err
	}
	if scale != nil {
		for j := range fit.W {
			fit.W[j] *= scale[j]
		}
	}
	prune(fit, opts.MinWeight)
	return fit, nil
}

// featureScale returns the factor each column's values are multiplied by
// before fitting (TrainOptions.RatioSmoothing), or nil for none.
func featureScale(rows []logreg.Row, y []bool, ncol int, opts TrainOptions) []float64 {
	a := opts.RatioSmoothing
	if a <= 0 {
		return nil
	}
	pc := make([]float64, ncol)
	nc := make([]float64, ncol)
	np, nn := 0.0, 0.0
	for i, r := range rows {
		c := nc
		if y[i] {
			c, np = pc, np+1
		} else {
			nn++
		}
		for k, j := range r.Idx {
			c[j] += r.Val[k]
		}
	}
	s := make([]float64, ncol)
	for j := range s {
		r := math.Log((pc[j]+a)/(np+a)) - math.Log((nc[j]+a)/(nn+a))
		s[j] = math.Sqrt(math.Abs(r))
	}
	return s
}

// bestThreshold returns the threshold (rounded to 0.001) that maximises F1
// of the probabilities p against y, and the quality there.
func bestThreshold(p []float64, y []bool) (float64, Quality) {
	best, bestTh := Quality{F1: -1}, 0.5
	for th := 0.05; th < 0.951; th += 0.005 {
		th := math.Round(th*1000) / 1000
		q := quality(p, y, th)
		if q.F1 > best.F1 {
			best, bestTh = q, th
		}
	}
	return bestTh, best
}

func quality(p []float64, y []bool, th float64) Quality {
	tp, fp, fn := 0, 0, 0
	brier := 0.0
	for i := range p {
		flag := p[i] >= th
		switch {
		case flag && y[i]:
			tp++
		case flag:
			fp++
		case y[i]:
			fn++
		}
		t := 0.0
		if y[i] {
			t = 1
		}
		brier += (p[i] - t) * (p[i] - t)
	}
	var q Quality
	if tp+fp > 0 {
		q.Precision = float64(tp) / float64(tp+fp)
	}
	if tp+fn > 0 {
		q.Recall = float64(tp) / float64(tp+fn)
	}
	if q.Precision+q.Recall > 0 {
		q.F1 = 2 * q.Precision * q.Recall / (q.Precision + q.Recall)
	}
	q.Brier = brier / float64(len(p))
	round := func(x float64) float64 { return math.Round(x*10000) / 10000 }
	q.Precision, q.Recall, q.F1, q.Brier = round(q.Precision), round(q.Recall), round(q.F1), round(q.Brier)
	return q
}

// calibration bins out-of-fold probabilities by tenths.
func calibration(p []float64, y []bool) []CalibrationBin {
	bins := make([]CalibrationBin, 10)
	for i := range bins {
		bins[i].Lo, bins[i].Hi = float64(i)/10, float64(i+1)/10
	}
	for i, v := range p {
		b := &bins[min(int(v*10), 9)]
		b.N++
		b.Predicted += v
		if y[i] {
			b.Observed++
		}
	}
	for i := range bins {
		if n := float64(bins[i].N); n > 0 {
			bins[i].Predicted /= n
			bins[i].Observed /= n
		}
	}
	return bins
}

// storyGroups gives each item the index of its story group: items with the
// same normalised title, or sharing at least half of their word 5-shingles
// (copies and rewrites of one report), are one group.
func storyGroups(items []Item) []int {
	parent := make([]int, len(items))
	for i := range parent {
		parent[i] = i
	}
	var find func(int) int
	find = func(i int) int {
		for parent[i] != i {
			parent[i] = parent[parent[i]]
			i = parent[i]
		}
		return i
	}
	union := func(a, b int) {
		if ra, rb := find(a), find(b); ra != rb {
			parent[max(ra, rb)] = min(ra, rb)
		}
	}
	byTitle := map[string]int{}
	shingles := make([][]uint64, len(items))
	posting := map[uint64][]int{}
	var d scan.Doc
	for i, it := range items {
		d.Normalize(it.Title, it.Text)
		var title []byte
		var words []uint64
		for _, t := range d.Tokens {
			w := d.Buf[t.NStart:t.NEnd]
			if t.Field == scan.FieldTitle {
				title = append(append(title, w...), ' ')
			}
			words = append(words, fnvBytes(fnvOffset, w))
		}
		if len(title) > 0 {
			if j, ok := byTitle[string(title)]; ok {
				union(i, j)
			} else {
				byTitle[string(title)] = i
			}
		}
		seen := map[uint64]bool{}
		for k := 0; k+5 <= len(words); k++ {
			h := uint64(fnvOffset)
			for _, w := range words[k : k+5] {
				h = (h ^ w) * fnvPrime
			}
			if !seen[h] {
				seen[h] = true
				shingles[i] = append(shingles[i], h)
				posting[h] = append(posting[h], i)
			}
		}
	}
	for i := range items {
		shared := map[int]int{}
		for _, h := range shingles[i] {
			p := posting[h]
			if len(p) > 50 { // a stock phrase, not a copy
				continue
			}
			for _, j := range p {
				if j < i {
					shared[j]++
				}
			}
		}
		for j, n := range shared {
			if 2*n >= min(len(shingles[i]), len(shingles[j])) {
				union(i, j)
			}
		}
	}
	out := make([]int, len(items))
	for i := range out {
		out[i] = find(i)
	}
	return out
}

func countDistinct(xs []int) int {
	seen := map[int]bool{}
	for _, x := range xs {
		seen[x] = true
	}
	return len(seen)
}

// assignFolds puts each story group into one of k folds by a seeded hash
// of the group's first item index.
func assignFolds(groups []int, k int, seed uint64) []int {
	out := make([]int, len(groups))
	for i, g := range groups {
		h := (uint64(g) + seed*0x9E3779B97F4A7C15) * 0xBF58476D1CE4E5B9
		h ^= h >> 31
		h *= 0x94D049BB133111EB
		h ^= h >> 29
		out[i] = int(h % uint64(k))
	}
	return out
}

package topics

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/newswatch/newswatch/pkg/logreg"
)

// spaceItems is a small labelled set written for these tests: launches
// belong to the topic "space", harvests and matches do not.
func spaceItems() []Item {
	var out []Item
	rockets := []string{"rocket", "satellite", "orbiter", "lander", "probe"}
	places := []string{"Kenya", "Peru", "Norway", "Vietnam", "Chile", "Ghana", "Canada", "Nepal"}
	others := []string{"wheat harvest", "football match", "bond auction", "film festival", "rail strike"}
	for i := range 80 {
		p := places[i%len(places)]
		if i%3 == 0 {
			r := rockets[i%len(rockets)]
			out = append(out, Item{ID: fmt.Sprintf("s%d", i), Title: fmt.Sprintf("%s launches %s number %d into orbit", p, r, i),
				Text: fmt.Sprintf("The %s lifted off from a site in %s on day %d.", r, p, i), Topics: []string{"space"}})
			continue
		}
		o := others[i%len(others)]
		out = append(out, Item{ID: fmt.Sprintf("o%d", i), Title: fmt.Sprintf("%s holds %s number %d", p, o, i),
			Text: fmt.Sprintf("Crowds gathered in %s for the %s on day %d.", p, o, i)})
	}
	return out
}

func trainSpace(t *testing.T) (*Model, *Report) {
	t.Helper()
	c, err := New(DefaultTaxonomy(), WithModel(nil))
	if err != nil {
		t.Fatal(err)
	}
	m, rep, err := Train(c, spaceItems(), TrainOptions{Folds: 3, FeatureGrid: []FeatureOptions{DefaultModel().Features}, Lambdas: []float64{1e-3, 1e-2}})
	if err != nil {
		t.Fatal(err)
	}
	return m, rep
}

func TestTrainLearnsANewTopic(t *testing.T) {
	m, rep := trainSpace(t)
	if len(m.Topics) != 1 || m.Topics[0].Name != "space" {
		t.Fatalf("topics %+v, want space", m.Topics)
	}
	if q := rep.Topics[0].CV; q.F1 < 0.9 {
		t.Errorf("cross-validated F1 %.3f on a trivially separable set", q.F1)
	}
	if w := m.Topics[0].Weights["w:orbit"]; w <= 0 {
		t.Errorf("weight of w:orbit %g, want positive", w)
	}
	// The learned topic is flagged by a classifier with that model merged
	// over the built-in one, which keeps the built-in topics.
	merged, err := DefaultModel().Merge(m)
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(DefaultTaxonomy(), WithModel(merged))
	if err != nil {
		t.Fatal(err)
	}
	got := names(c.Classify("Peru launches lander into orbit", "The lander lifted off from a site in Peru."))
	if !slices.Contains(got, "space") {
		t.Errorf("Classify = %v, want space", got)
	}
	if got := names(c.Classify("Peru holds wheat harvest", "Crowds gathered in Peru for the wheat harvest.")); slices.Contains(got, "space") {
		t.Errorf("Classify of a harvest = %v, want no space", got)
	}
	if !slices.Contains(c.Topics(), dc) {
		t.Errorf("topics %v lost the built-in ones", c.Topics())
	}
}

func TestTrainIsDeterministic(t *testing.T) {
	a, _ := trainSpace(t)
	b, _ := trainSpace(t)
	ja, err := a.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	jb, _ := b.Marshal()
	if !bytes.Equal(ja, jb) {
		t.Error("two trainings on the same items wrote different models")
	}
	back, err := ParseModel(ja)
	if err != nil {
		t.Fatalf("ParseModel of a trained model: %v", err)
	}
	if jc, _ := back.Marshal(); !bytes.Equal(ja, jc) {
		t.Error("a model does not survive Marshal and ParseModel unchanged")
	}
}

func TestStoryGroupsKeepCopiesTogether(t *testing.T) {
	items := []Item{
		{ID: "a", Title: "Flood hits the northern valley", Text: "Rivers burst their banks after three days of rain across the valley towns."},
		{ID: "b", Title: "Flood Hits the Northern Valley!", Text: "Another outlet's copy."},
		{ID: "c", Title: "Valley towns count the cost", Text: "Rivers burst their banks after three days of rain across the valley towns, officials said."},
		{ID: "d", Title: "Chess final ends in a draw", Text: "The two grandmasters agreed a draw after forty moves."},
	}
	g := storyGroups(items)
	if g[0] != g[1] || g[0] != g[2] {
		t.Errorf("groups %v: the copies a, b, c should share one", g)
	}
	if g[3] == g[0] {
		t.Errorf("groups %v: d is another story", g)
	}
	folds := assignFolds(g, 5, 1)
	if folds[0] != folds[1] || folds[0] != folds[2] {
		t.Errorf("folds %v: one story on both sides", folds)
	}
}

// TestLearnedScoreIsTheProbability checks that a learned topic's score is
// the sigmoid of the bias plus the contributions the explanation lists,
// and that evidence quotes sentences of the article.
func TestLearnedScoreIsTheProbability(t *testing.T) {
	c := defaultClassifier(t)
	title := "India and US sign pact to co-produce jet engines"
	text := "The defence ministers of India and the United States met in New Delhi on Friday. Terrorists attacked a border post in Kashmir."
	ex := c.Explain(title, text)
	for _, te := range ex.Topics {
		if te.Scorer != ScorerLearned {
			continue
		}
		z := te.Bias
		for _, f := range te.Features {
			z += f.Contribution
			if f.Sentence == "" || !strings.Contains(title+" "+text, f.Sentence) {
				t.Errorf("%s: feature %s quotes %q, not a sentence of the article", te.Name, f.Feature, f.Sentence)
			}
		}
		if p := logreg.Sigmoid(z); math.Abs(p-te.Score) > 0.01 {
			t.Errorf("%s: score %.3f but sigmoid(bias + contributions) = %.3f", te.Name, te.Score, p)
		}
		if te.Score < 0 || te.Score > 1 {
			t.Errorf("%s: score %.3f is not a probability", te.Name, te.Score)
		}
	}
	for _, tp := range c.Classify(title, text) {
		if tp.Score < tp.Threshold {
			t.Errorf("%s flagged with score %.3f under threshold %.3f", tp.Name, tp.Score, tp.Threshold)
		}
		if len(tp.Evidence) == 0 {
			t.Errorf("%s flagged without evidence", tp.Name)
		}
		for _, e := range tp.Evidence {
			if e.Weight <= 0 || e.Sentence == "" {
				t.Errorf("%s: evidence %+v, want a positive contribution with its sentence", tp.Name, e)
			}
		}
	}
}

func TestParseModelErrors(t *testing.T) {
	for _, tc := range []struct {
		name, json, want string
	}{
		{"not json", "topics:", "newswatch topics train"},
		{"old version", `{"version": 0, "topics": [{"name": "a", "threshold": 0.5}]}`, "version 0"},
		{"no topics", `{"version": 1}`, "no topics"},
		{"bad threshold", `{"version": 1, "topics": [{"name": "a", "threshold": 1.5}]}`, `topic "a": threshold`},
		{"twice", `{"version": 1, "topics": [{"name": "a", "threshold": 0.5}, {"name": "a", "threshold": 0.5}]}`, `"a" twice`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseModel([]byte(tc.json))
			if !errors.Is(err, ErrModel) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("ParseModel: %v, want ErrModel mentioning %q", err, tc.want)
			}
		})
	}
}

func TestMergeNeedsTheSameFeatures(t *testing.T) {
	other := &Model{Version: ModelVersion, Features: FeatureOptions{LeadSentences: 1}, Topics: []TopicModel{{Name: "x", Threshold: 0.5}}}
	if _, err := DefaultModel().Merge(other); !errors.Is(err, ErrModel) {
		t.Errorf("Merge with other feature options: %v, want ErrModel", err)
	}
}

func TestTrainErrors(t *testing.T) {
	c, err := New(DefaultTaxonomy(), WithModel(nil))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := Train(c, nil, TrainOptions{}); !errors.Is(err, ErrTrain) {
		t.Errorf("no items: %v", err)
	}
	items := []Item{{ID: "a", Title: "x", Topics: []string{"rare"}}, {ID: "b", Title: "y"}}
	if _, _, err := Train(c, items, TrainOptions{}); !errors.Is(err, ErrTrain) || !strings.Contains(err.Error(), `"rare"`) {
		t.Errorf("too few positives: %v", err)
	}
	if _, err := ReadItems(strings.NewReader("{not json\n"), "f.jsonl"); !errors.Is(err, ErrTrain) || !strings.Contains(err.Error(), "f.jsonl line 1") {
		t.Errorf("ReadItems of a bad line: %v", err)
	}
}

func TestFeatureScaleFavoursDiscriminativeFeatures(t *testing.T) {
	// Column 0 is in every positive and no negative, column 1 in half of
	// each class, column 2 in one negative.
	rows := []logreg.Row{
		{Idx: []int32{0, 1}, Val: []float64{1, 1}},
		{Idx: []int32{0}, Val: []float64{1}},
		{Idx: []int32{1, 2}, Val: []float64{1, 1}},
		{Idx: nil, Val: nil},
	}
	y := []bool{true, true, false, false}
	s := featureScale(rows, y, 3, TrainOptions{RatioSmoothing: 0.5})
	if !(s[0] > s[2] && s[2] > s[1]) {
		t.Errorf("scales %v: want the class-exclusive feature first and the feature common to both last", s)
	}
	if s[1] != 0 {
		t.Errorf("scale of a feature as common in both classes = %g, want 0", s[1])
	}
	if featureScale(rows, y, 3, TrainOptions{RatioSmoothing: -1}) != nil {
		t.Error("negative smoothing should turn the scaling off")
	}
}

func TestPlattRecalibrates(t *testing.T) {
	// Probabilities twice as extreme in log-odds as the labels bear out:
	// items predicted at sigmoid(2z) are positive with probability
	// sigmoid(z), so the fit should halve the log-odds.
	var p []float64
	var y []bool
	for i := range 4000 {
		z := float64(i%81-40) / 10 // -4..4
		p = append(p, logreg.Sigmoid(2*z))
		// A deterministic draw with rate sigmoid(z).
		y = append(y, float64((i*7919)%1000)/1000 < logreg.Sigmoid(z))
	}
	scale, shift := platt(p, y)
	if math.Abs(scale-0.5) > 0.05 || math.Abs(shift) > 0.1 {
		t.Errorf("platt = %.3f, %.3f; want about 0.5, 0", scale, shift)
	}
	if s, b := platt([]float64{0.4, 0.6}, []bool{false, true}); s != 1 || b != 0 {
		t.Errorf("platt of a separable pair = %g, %g; want the identity (scale out of bounds)", s, b)
	}
}

func TestTitleTaxonomyFeatures(t *testing.T) {
	c, err := New(DefaultTaxonomy(), WithModel(nil))
	if err != nil {
		t.Fatal(err)
	}
	sc := new(scratch)
	d := c.own("Suicide bombing kills nine in Kabul", "Police said a suicide bombing at a market killed nine.", sc)
	c.evaluate(d, sc.hits, 0, sc)
	title, text := map[string]bool{}, map[string]bool{}
	c.extract(d, sc, &FeatureOptions{LeadSentences: 3, Taxonomy: true, TitleTaxonomy: true}, 0, len(d.Sentences), map[uint64]string{})
	for _, f := range sc.fv {
		name := c.keys.names[f.key]
		switch {
		case strings.HasPrefix(name, prefixTitleFired):
			title[strings.TrimPrefix(name, prefixTitleFired)] = true
		case strings.HasPrefix(name, prefixFired):
			text[strings.TrimPrefix(name, prefixFired)] = true
		}
	}
	if !title["terrorism/bomb-attack"] && !title["terrorism/attack"] {
		t.Errorf("title taxonomy features %v: want the title's bombing", title)
	}
	for f := range title {
		if !text[f] {
			t.Errorf("title-tx:%s without tx:%s", f, f)
		}
	}
	if len(title) == 0 || len(title) > len(text) {
		t.Errorf("%d title taxonomy features, %d in all", len(title), len(text))
	}
}

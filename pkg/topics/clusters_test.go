package topics

import (
	"slices"
	"strings"
	"testing"
)

// featureNames extracts the features of one item, title and text as the
// lead, with options o, and returns their names.
func featureNames(t *testing.T, c *Classifier, o FeatureOptions, title, text string) []string {
	t.Helper()
	sc := new(scratch)
	d := c.own(title, text, sc)
	c.evaluate(d, sc.hits, 0, sc)
	names := map[uint64]string{}
	c.extract(d, sc, &o, 0, len(d.Sentences), names)
	var out []string
	for _, f := range sc.fv {
		n, ok := names[f.key]
		if !ok {
			n = c.keys.names[f.key]
		}
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

func TestClusterFeatures(t *testing.T) {
	c, err := New(DefaultTaxonomy(), WithModel(nil))
	if err != nil {
		t.Fatal(err)
	}
	levels := c.clusters.Levels()
	if len(levels) == 0 || c.clusters.Len() < 10000 {
		t.Fatalf("built-in clusters: levels %v, %d words", levels, c.clusters.Len())
	}
	o := FeatureOptions{LeadSentences: 3, Clusters: true}
	names := featureNames(t, c, o, "Allies pledge drones", "The allies pledged more drones to Kyiv.")
	count := func(prefix string) int {
		n := 0
		for _, name := range names {
			if strings.HasPrefix(name, prefix) {
				n++
			}
		}
		return n
	}
	// Every level names a cluster of each known word; the title's words
	// have title features too.
	for _, k := range levels {
		p := clusterName(prefixCluster, k, 0)
		p = p[:strings.IndexByte(p, ':')+1]
		if count(p) == 0 {
			t.Errorf("no %s features in %v", p, names)
		}
		if count("title-"+p) == 0 {
			t.Errorf("no title-%s features in %v", p, names)
		}
	}
	// Words of one cluster share its feature: "pledge" and "pledged".
	a, _ := c.clusters.Lookup([]byte("pledge"))
	b, _ := c.clusters.Lookup([]byte("pledged"))
	if a == nil || b == nil || a[0] != b[0] {
		t.Errorf("pledge %v and pledged %v: want one cluster at the coarsest level", a, b)
	}
	// Without the option, no cluster features.
	o.Clusters = false
	for _, name := range featureNames(t, c, o, "Allies pledge drones", "The allies pledged more drones to Kyiv.") {
		if strings.HasPrefix(name, prefixCluster) || strings.HasPrefix(name, prefixTitleCluster) {
			t.Errorf("cluster feature %q with Clusters off", name)
		}
	}
	// An explanation shows the cluster's most frequent words.
	id, _ := c.clusters.Lookup([]byte("drones"))
	l, ok := c.clusterLabel(clusterName(prefixCluster, levels[len(levels)-1], int(id[len(id)-1])))
	if !ok || !strings.Contains(l, "{") {
		t.Errorf("cluster label %q, %v", l, ok)
	}
	if _, ok := c.clusterLabel("w:drones"); ok {
		t.Error("a word feature labelled as a cluster")
	}
}

func TestSpellingFoldsBritishToAmerican(t *testing.T) {
	m := americanSpellings()
	if len(m) != 1738 || string(m["defence"]) != "defense" || string(m["mobilised"]) != "mobilized" {
		t.Fatalf("%d spellings; defence=%q mobilised=%q", len(m), m["defence"], m["mobilised"])
	}
	c, err := New(DefaultTaxonomy(), WithModel(nil))
	if err != nil {
		t.Fatal(err)
	}
	o := FeatureOptions{LeadSentences: 3, Bigrams: true, Stem: true, Spelling: true}
	uk := featureNames(t, c, o, "Defence pact", "Allies mobilised their armoured units under the defence programme.")
	us := featureNames(t, c, o, "Defense pact", "Allies mobilized their armored units under the defense program.")
	if !slices.Equal(uk, us) {
		t.Errorf("British and American spellings read differently:\n%v\n%v", uk, us)
	}
	o.Spelling = false
	if uk := featureNames(t, c, o, "Defence pact", "Allies mobilised."); slices.Equal(uk, featureNames(t, c, o, "Defense pact", "Allies mobilized.")) {
		t.Error("spellings folded with Spelling off")
	}
}

func TestIsClusterFeature(t *testing.T) {
	for name, want := range map[string]bool{
		"cl1000:412": true, "title-cl200:7": true, "w:clash": false, "co:terrorism/attack": false,
		"title:clan": false, "cl": false, "title-cl": false, "tx:defence-cooperation/cl": false,
	} {
		if got := isClusterFeature(name); got != want {
			t.Errorf("isClusterFeature(%q) = %v, want %v", name, got, want)
		}
	}
}

// TestTopicWithoutClusters checks that a topic trained without the
// cluster family has no cluster weights and one trained with it has some:
// in the built-in model, and in training where a MinGain no family reaches
// makes the topic go without.
func TestTopicWithoutClusters(t *testing.T) {
	check := func(what string, tm TopicModel) {
		t.Helper()
		n := 0
		for name := range tm.Weights {
			if isClusterFeature(name) {
				n++
			}
		}
		if without := slices.Contains(tm.Without, "clusters"); without != (n == 0) {
			t.Errorf("%s %s: without %v, %d cluster weights", what, tm.Name, tm.Without, n)
		}
	}
	if !DefaultModel().Features.Clusters {
		t.Fatal("the built-in model reads no clusters")
	}
	for _, tm := range DefaultModel().Topics {
		check("built-in", tm)
	}
	c, err := New(DefaultTaxonomy(), WithModel(nil))
	if err != nil {
		t.Fatal(err)
	}
	fo := DefaultModel().Features
	m, rep, err := Train(c, spaceItems(), TrainOptions{Folds: 3, Repeats: 2, MinGain: 1, FeatureGrid: []FeatureOptions{fo}, Lambdas: []float64{1e-3}})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Repeats != 2 || rep.Topics[0].MeanF1 <= 0 {
		t.Errorf("repeats %d, mean F1 %v", rep.Repeats, rep.Topics[0].MeanF1)
	}
	if !slices.Equal(m.Topics[0].Without, []string{"clusters"}) {
		t.Errorf("trained with MinGain 1: without %v, want [clusters]", m.Topics[0].Without)
	}
	check("trained", m.Topics[0])
}

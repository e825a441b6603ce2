package topics

import (
	"bytes"
	_ "embed"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/newswatch/newswatch/pkg/wordclust"
)

// The built-in word clusters (docs/topics.md, "Word clusters"): the 50,000
// most frequent words of GloVe's vectors (6B tokens of Wikipedia and
// Gigaword news, 100 dimensions), grouped by spherical k-means at three
// levels, made by `newswatch topics clusters`. A model trained with
// FeatureOptions.Clusters reads them; they are part of the model as much
// as its weights, so a new cluster file needs a newly trained model.
//
//go:embed clusters.txt.gz
var clustersFile []byte

var builtinClusters = sync.OnceValues(func() (*wordclust.Clusters, error) {
	return wordclust.Parse(bytes.NewReader(clustersFile))
})

// clusterName names the feature of cluster id of the level with k
// clusters: cl1000:412, or title-cl1000:412 with the title prefix.
func clusterName(prefix string, k, id int) string {
	return prefix + strconv.Itoa(k) + ":" + strconv.Itoa(id)
}

// parseClusterName reads a name clusterName made: the level's k, the
// cluster id and whether it is a title feature; false for another feature.
func parseClusterName(name string) (k, id int, title, ok bool) {
	rest, title := strings.CutPrefix(name, prefixTitleCluster)
	if !title {
		if rest, ok = strings.CutPrefix(name, prefixCluster); !ok {
			return 0, 0, false, false
		}
	}
	ks, ids, ok := strings.Cut(rest, ":")
	k, err1 := strconv.Atoi(ks)
	id, err2 := strconv.Atoi(ids)
	return k, id, title, ok && err1 == nil && err2 == nil
}

// isClusterFeature reports whether name is a word-cluster feature's.
func isClusterFeature(name string) bool {
	_, _, _, ok := parseClusterName(name)
	return ok
}

// clusterLabel is what an explanation shows for a cluster feature: its
// name and the cluster's three most frequent words, or false for another
// feature.
func (c *Classifier) clusterLabel(name string) (string, bool) {
	k, id, title, ok := parseClusterName(name)
	if !ok {
		return "", false
	}
	for j, n := range c.clusters.Levels() {
		if n == k && id >= 0 && id < n {
			l := fmt.Sprintf("%s {%s}", name, strings.Join(c.clusters.Label(j, id, 3), " "))
			if title {
				l += " in the title"
			}
			return l, true
		}
	}
	return "", false
}

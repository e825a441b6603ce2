package k8s_test

import (
	"errors"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// metav1LabelSelector converts a selector and refuses an empty one, which
// would select every pod in the namespace.
func metav1LabelSelector(s *metav1.LabelSelector) (labels.Selector, error) {
	if s == nil || (len(s.MatchLabels) == 0 && len(s.MatchExpressions) == 0) {
		return labels.Nothing(), errEmptySelector
	}
	return metav1.LabelSelectorAsSelector(s)
}

var errEmptySelector = errors.New("empty label selector")

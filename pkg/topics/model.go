package topics

import (
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
)

// ErrModel is wrapped by every error about an invalid topic model.
var ErrModel = errors.New("topics: invalid model")

// ModelVersion is the version of the model file format.
const ModelVersion = 1

//go:embed model.json
var defaultModelJSON []byte

// Model is a learned topic model: per topic, the weights of a logistic
// regression over named features, the decision threshold chosen by
// cross-validation, and the feature options every topic of the file shares.
// `newswatch topics train` writes it; docs/topics.md describes it.
type Model struct {
	Version  int            `json:"version"`
	Features FeatureOptions `json:"features"`
	Topics   []TopicModel   `json:"topics"`
}

// TopicModel is one topic's learned scorer: the probability of the topic
// is sigmoid(Bias + sum of Weights[name] * value of feature name), and the
// topic is flagged when it reaches Threshold.
type TopicModel struct {
	Name      string  `json:"name"`
	Bias      float64 `json:"bias"`
	Threshold float64 `json:"threshold"`
	// Lambda is the L2 penalty the weights were fitted with.
	Lambda float64 `json:"lambda"`
	// CV is the cross-validated quality measured when training.
	CV *Quality `json:"cv,omitempty"`
	// Positives and Items count the training data.
	Positives int                `json:"positives"`
	Items     int                `json:"items"`
	Weights   map[string]float64 `json:"weights"`
}

// Quality is precision, recall and F1 at the threshold, and the Brier
// score of the probabilities.
type Quality struct {
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
	F1        float64 `json:"f1"`
	Brier     float64 `json:"brier"`
}

// DefaultModel returns the embedded model learned from the labelled news
// items (docs/topics.md says how to reproduce it).
func DefaultModel() *Model {
	m, err := ParseModel(defaultModelJSON)
	if err != nil {
		panic(fmt.Sprintf("topics: embedded model.json is invalid: %v", err))
	}
	return m
}

// ParseModel decodes and validates a model file.
func ParseModel(b []byte) (*Model, error) {
	var m Model
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%w: %v (write it with `newswatch topics train`)", ErrModel, err)
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return &m, nil
}

// Validate checks the model's version, topics and numbers.
func (m *Model) Validate() error {
	if m.Version != ModelVersion {
		return fmt.Errorf("%w: version %d, want %d (retrain it with `newswatch topics train`)", ErrModel, m.Version, ModelVersion)
	}
	if len(m.Topics) == 0 {
		return fmt.Errorf("%w: no topics", ErrModel)
	}
	seen := map[string]bool{}
	for i, t := range m.Topics {
		switch {
		case t.Name == "":
			return fmt.Errorf("%w: topics[%d]: no name", ErrModel, i)
		case seen[t.Name]:
			return fmt.Errorf("%w: topic %q twice", ErrModel, t.Name)
		case !(t.Threshold > 0 && t.Threshold < 1):
			return fmt.Errorf("%w: topic %q: threshold %g outside (0,1)", ErrModel, t.Name, t.Threshold)
		case math.IsNaN(t.Bias) || math.IsInf(t.Bias, 0):
			return fmt.Errorf("%w: topic %q: bias is not a number", ErrModel, t.Name)
		}
		for name, w := range t.Weights {
			if math.IsNaN(w) || math.IsInf(w, 0) {
				return fmt.Errorf("%w: topic %q: weight of %q is not a number", ErrModel, t.Name, name)
			}
		}
		seen[t.Name] = true
	}
	if m.Features.LeadSentences < 0 {
		return fmt.Errorf("%w: features.lead_sentences %d is negative", ErrModel, m.Features.LeadSentences)
	}
	return nil
}

// Merge returns m with the topics of over added, replacing topics of the
// same name. Both must read the same features.
func (m *Model) Merge(over *Model) (*Model, error) {
	if m.Features != over.Features {
		return nil, fmt.Errorf("%w: its features %+v differ from the built-in model's %+v; train it with the default feature options", ErrModel, over.Features, m.Features)
	}
	out := &Model{Version: m.Version, Features: m.Features}
	names := map[string]bool{}
	for _, t := range over.Topics {
		names[t.Name] = true
	}
	for _, t := range m.Topics {
		if !names[t.Name] {
			out.Topics = append(out.Topics, t)
		}
	}
	out.Topics = append(out.Topics, over.Topics...)
	return out, nil
}

// Marshal encodes the model as indented JSON with sorted weight names, so
// the same training gives the same bytes.
func (m *Model) Marshal() ([]byte, error) {
	b, err := json.MarshalIndent(m, "", " ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// learned is a model compiled against a classifier's taxonomy.
type learned struct {
	opts   FeatureOptions
	topics []learnedTopic
	index  map[uint64]int32 // feature key -> row of weights
	names  []string         // row -> feature name
	w      []float64        // row*len(topics) + topic
}

type learnedTopic struct {
	name      string
	bias      float64
	threshold float64
	tax       int // index of the taxonomy topic of that name, -1 for none
}

func compileModel(m *Model, c *Classifier) *learned {
	l := &learned{opts: m.Features, index: map[uint64]int32{}}
	nt := len(m.Topics)
	var all []string
	seen := map[string]bool{}
	for _, t := range m.Topics {
		for name := range t.Weights {
			if !seen[name] {
				seen[name] = true
				all = append(all, name)
			}
		}
	}
	sort.Strings(all)
	l.names = all
	l.w = make([]float64, len(all)*nt)
	for i, name := range all {
		l.index[featureKey(name)] = int32(i)
	}
	for ti, t := range m.Topics {
		tax := -1
		for k := range c.topics {
			if c.topics[k].def.Name == t.Name {
				tax = k
			}
		}
		l.topics = append(l.topics, learnedTopic{name: t.Name, bias: t.Bias, threshold: t.Threshold, tax: tax})
		for name, w := range t.Weights {
			l.w[int(l.index[featureKey(name)])*nt+ti] = w
		}
	}
	return l
}

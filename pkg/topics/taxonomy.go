package topics

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"math"

	"go.yaml.in/yaml/v3"
)

// ErrTaxonomy is wrapped by every error about an invalid taxonomy.
var ErrTaxonomy = errors.New("topics: invalid taxonomy")

//go:embed default.yaml
var defaultYAML []byte

// Scopes of a requirement.
const (
	ScopeSentence = "sentence" // the sentence the feature fired in
	ScopeWindow   = "window"   // that sentence and its neighbours
	ScopeDocument = "document" // anywhere in title or text
)

// Taxonomy is the model: topics with their weighted features, plus the
// lexicon of actors (states, alliances, defence firms) that co-occurrence
// requirements count.
type Taxonomy struct {
	Topics []TopicDef `yaml:"topics"`
	// Actors is the actor lexicon. A taxonomy that lists none uses the
	// default taxonomy's lexicon.
	Actors []ActorDef `yaml:"actors,omitempty"`
	// SkipLines lists sentence openings ("also read") that mark boilerplate:
	// such a sentence and the rest of its line (paragraph) count as no
	// evidence. Nil means the default taxonomy's list.
	SkipLines []string `yaml:"skip_lines,omitempty"`
}

// TopicDef is one topic: features, the threshold its score must reach and
// how placement of evidence is weighed. Zero placement values take defaults.
type TopicDef struct {
	Name        string  `yaml:"name"`
	Description string  `yaml:"description,omitempty"`
	Threshold   float64 `yaml:"threshold"`
	// TitleWeight multiplies evidence found in the title (default 1.5).
	TitleWeight float64 `yaml:"title_weight,omitempty"`
	// LeadSentences is how many opening sentences of the text count as the
	// lead (default 2); LeadWeight multiplies their evidence (default 1).
	LeadSentences int     `yaml:"lead_sentences,omitempty"`
	LeadWeight    float64 `yaml:"lead_weight,omitempty"`
	// BodyWeight multiplies evidence in the rest of the text (default 0.5),
	// so a passing mention deep in a long article counts little.
	BodyWeight float64 `yaml:"body_weight,omitempty"`
	// BodyCap bounds what evidence after the lead can add (default 1):
	// the body's sum s counts as cap*(1-exp(-s/cap)).
	BodyCap float64 `yaml:"body_cap,omitempty"`
	// SentenceCap bounds the positive evidence one sentence can add, before
	// placement weighting (default 1.5).
	SentenceCap float64 `yaml:"sentence_cap,omitempty"`
	// RepeatDecay scales each further sentence in which the same term of a
	// feature fires (default 0.3): its k-th firing adds weight*decay^(k-1),
	// so a term saturates at weight/(1-decay) however often it repeats.
	RepeatDecay float64 `yaml:"repeat_decay,omitempty"`
	// TermDecay scales each further distinct term of the same feature
	// (default 0.6), so varied evidence counts more than repetition but a
	// feature still saturates.
	TermDecay float64 `yaml:"term_decay,omitempty"`
	// Density adds to the score according to the fraction of text sentences
	// that carry positive evidence, for texts long enough to measure it.
	Density  DensityDef   `yaml:"density,omitempty"`
	Features []FeatureDef `yaml:"features"`
}

// DensityDef rewards articles in which many sentences carry substantial
// evidence: the bonus is Weight * min(1, fraction/Full), where fraction is
// the share of text sentences whose positive evidence (before placement)
// reaches MinEvidence, for texts of at least MinSentences sentences
// (defaults: Full 0.3, MinEvidence 0.8, MinSentences 8; Weight 0 disables it).
type DensityDef struct {
	Weight       float64 `yaml:"weight,omitempty"`
	Full         float64 `yaml:"full,omitempty"`
	MinEvidence  float64 `yaml:"min_evidence,omitempty"`
	MinSentences int     `yaml:"min_sentences,omitempty"`
}

// FeatureDef is one kind of evidence: terms (a trailing '*' matches any word
// ending, "@kind" matches any actor of that kind), a weight (negative for
// counter-evidence, zero for a concept used only by requirements) and
// requirements that must all hold where it fires.
type FeatureDef struct {
	Name     string        `yaml:"name"`
	Weight   float64       `yaml:"weight"`
	Terms    []string      `yaml:"terms"`
	Requires []Requirement `yaml:"requires,omitempty"`
	// ModelOnly marks a feature that only the learned model reads: a
	// family of phrases for a concept whose weight is learned. It adds
	// nothing to the taxonomy score, masks nothing and is masked like a
	// concept; its weight must be 0.
	ModelOnly bool `yaml:"model_only,omitempty"`
}

// Requirement is a co-occurrence condition: at least Actors distinct actors,
// and/or a term of Feature, present in Scope around the firing sentence.
type Requirement struct {
	Feature string `yaml:"feature,omitempty"`
	Actors  int    `yaml:"actors,omitempty"`
	Scope   string `yaml:"scope,omitempty"`
}

// ActorDef is a state, alliance or defence firm. Home names the state an
// alliance member firm belongs to: actors with the same home count as one
// when requirements count distinct actors. Exclude lists phrases that
// contain a name without meaning the actor ("quad bike").
type ActorDef struct {
	ID      string   `yaml:"id"`
	Kind    string   `yaml:"kind"`
	Home    string   `yaml:"home,omitempty"`
	Names   []string `yaml:"names"`
	Exclude []string `yaml:"exclude,omitempty"`
}

// DefaultTaxonomy returns the embedded default model.
func DefaultTaxonomy() Taxonomy {
	t, err := ParseTaxonomy(defaultYAML)
	if err != nil {
		panic(fmt.Sprintf("topics: embedded default.yaml is invalid: %v", err))
	}
	return t
}

// ParseTaxonomy decodes and validates a YAML taxonomy. Unknown keys are
// errors, so a misspelt key is reported instead of silently ignored.
func ParseTaxonomy(yamlBytes []byte) (Taxonomy, error) {
	var t Taxonomy
	dec := yaml.NewDecoder(bytes.NewReader(yamlBytes))
	dec.KnownFields(true)
	if err := dec.Decode(&t); err != nil {
		if errors.Is(err, io.EOF) {
			return t, fmt.Errorf("%w: empty document: want a \"topics:\" list", ErrTaxonomy)
		}
		return t, fmt.Errorf("%w: %v", ErrTaxonomy, err)
	}
	if err := t.Validate(); err != nil {
		return t, err
	}
	return t, nil
}

// Validate checks the taxonomy; errors name the topic, feature and key at
// fault.
func (t Taxonomy) Validate() error {
	if len(t.Topics) == 0 {
		return fmt.Errorf("%w: key \"topics\": no topics defined", ErrTaxonomy)
	}
	actorIDs := map[string]bool{}
	for i, a := range t.Actors {
		where := fmt.Sprintf("actors[%d] %q", i, a.ID)
		switch {
		case a.ID == "":
			return fmt.Errorf("%w: %s: key \"id\" is empty", ErrTaxonomy, where)
		case actorIDs[a.ID]:
			return fmt.Errorf("%w: %s: key \"id\" is defined twice", ErrTaxonomy, where)
		case a.Kind == "":
			return fmt.Errorf("%w: %s: key \"kind\" is empty (state, alliance, industry...)", ErrTaxonomy, where)
		case len(a.Names) == 0:
			return fmt.Errorf("%w: %s: key \"names\" is empty", ErrTaxonomy, where)
		}
		for _, n := range a.Names {
			if err := checkTerm(n); err != nil {
				return fmt.Errorf("%w: %s: key \"names\": %w", ErrTaxonomy, where, err)
			}
		}
		for _, n := range a.Exclude {
			if err := checkTerm(n); err != nil {
				return fmt.Errorf("%w: %s: key \"exclude\": %w", ErrTaxonomy, where, err)
			}
		}
		actorIDs[a.ID] = true
	}
	for i, a := range t.Actors {
		if a.Home != "" && !actorIDs[a.Home] {
			return fmt.Errorf("%w: actors[%d] %q: key \"home\": unknown actor %q", ErrTaxonomy, i, a.ID, a.Home)
		}
	}
	names := map[string]bool{}
	for i, tp := range t.Topics {
		where := fmt.Sprintf("topic %q", tp.Name)
		if tp.Name == "" {
			where = fmt.Sprintf("topics[%d]", i)
			return fmt.Errorf("%w: %s: key \"name\" is empty", ErrTaxonomy, where)
		}
		if names[tp.Name] {
			return fmt.Errorf("%w: %s: key \"name\" is defined twice", ErrTaxonomy, where)
		}
		names[tp.Name] = true
		if !(tp.Threshold > 0) || math.IsInf(tp.Threshold, 0) {
			return fmt.Errorf("%w: %s: key \"threshold\" must be a positive number, got %v", ErrTaxonomy, where, tp.Threshold)
		}
		for key, v := range map[string]float64{
			"title_weight": tp.TitleWeight, "lead_weight": tp.LeadWeight, "body_weight": tp.BodyWeight,
			"body_cap":     tp.BodyCap,
			"sentence_cap": tp.SentenceCap, "density.weight": tp.Density.Weight, "density.full": tp.Density.Full,
			"density.min_evidence": tp.Density.MinEvidence,
		} {
			if v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
				return fmt.Errorf("%w: %s: key %q must be a finite number >= 0, got %v", ErrTaxonomy, where, key, v)
			}
		}
		for key, v := range map[string]float64{"repeat_decay": tp.RepeatDecay, "term_decay": tp.TermDecay} {
			if v < 0 || v >= 1 || math.IsNaN(v) {
				return fmt.Errorf("%w: %s: key %q must be in [0, 1), got %v", ErrTaxonomy, where, key, v)
			}
		}
		if tp.LeadSentences < 0 || tp.Density.MinSentences < 0 {
			return fmt.Errorf("%w: %s: keys \"lead_sentences\" and \"density.min_sentences\" must not be negative", ErrTaxonomy, where)
		}
		if len(tp.Features) == 0 {
			return fmt.Errorf("%w: %s: key \"features\" is empty", ErrTaxonomy, where)
		}
		if len(tp.Features) > maxFeatures {
			return fmt.Errorf("%w: %s: key \"features\": %d features, at most %d", ErrTaxonomy, where, len(tp.Features), maxFeatures)
		}
		feats := map[string]bool{}
		for _, f := range tp.Features {
			if f.Name == "" {
				return fmt.Errorf("%w: %s: a feature has an empty \"name\"", ErrTaxonomy, where)
			}
			if feats[f.Name] {
				return fmt.Errorf("%w: %s: feature %q: key \"name\" is defined twice", ErrTaxonomy, where, f.Name)
			}
			feats[f.Name] = true
		}
		for _, f := range tp.Features {
			fw := fmt.Sprintf("%s: feature %q", where, f.Name)
			if math.IsNaN(f.Weight) || math.IsInf(f.Weight, 0) {
				return fmt.Errorf("%w: %s: key \"weight\" must be a finite number, got %v", ErrTaxonomy, fw, f.Weight)
			}
			if len(f.Terms) == 0 {
				return fmt.Errorf("%w: %s: key \"terms\" is empty", ErrTaxonomy, fw)
			}
			if f.ModelOnly && f.Weight != 0 {
				return fmt.Errorf("%w: %s: key \"weight\" is %g but the feature is model_only (its weight is learned); set weight 0 or drop model_only", ErrTaxonomy, fw, f.Weight)
			}
			for _, term := range f.Terms {
				if len(term) > 1 && term[0] == '@' {
					continue
				}
				if err := checkTerm(term); err != nil {
					return fmt.Errorf("%w: %s: key \"terms\": %w", ErrTaxonomy, fw, err)
				}
			}
			for j, r := range f.Requires {
				rw := fmt.Sprintf("%s: requires[%d]", fw, j)
				switch r.Scope {
				case "", ScopeSentence, ScopeWindow, ScopeDocument:
				default:
					return fmt.Errorf("%w: %s: key \"scope\": %q is not sentence, window or document", ErrTaxonomy, rw, r.Scope)
				}
				if r.Feature == "" && r.Actors == 0 {
					return fmt.Errorf("%w: %s: needs key \"feature\" or \"actors\"", ErrTaxonomy, rw)
				}
				if r.Actors < 0 {
					return fmt.Errorf("%w: %s: key \"actors\" must not be negative", ErrTaxonomy, rw)
				}
				if r.Feature != "" && !feats[r.Feature] {
					return fmt.Errorf("%w: %s: key \"feature\": no feature %q in this topic", ErrTaxonomy, rw, r.Feature)
				}
			}
		}
	}
	return nil
}

// checkTerm reports a term that can never match: one with no letters or
// digits, or one over two lines.
func checkTerm(term string) error {
	norm, _, err := normalizeTerm(term)
	if err != nil {
		return err
	}
	if norm == "" {
		return fmt.Errorf("%q has no letters or digits", term)
	}
	return nil
}

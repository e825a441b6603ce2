package watches

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"time"
)

// ErrInvalid is wrapped by every problem Validate finds.
var ErrInvalid = errors.New("watches: invalid watch")

// Watch is one analyst's standing query, as the config's watches: section
// and the newswatch_watches bucket hold it.
type Watch struct {
	ID      string   `yaml:"id" json:"id"`
	Query   string   `yaml:"query" json:"query"`
	Sinks   []string `yaml:"sinks" json:"sinks,omitempty"`
	Updates bool     `yaml:"updates" json:"updates,omitempty"`
	Paused  bool     `yaml:"paused" json:"paused,omitempty"`
	// RateLimit caps the alerts delivered to the watch's sinks per hour
	// (0: no cap); the NATS subject still carries every alert.
	RateLimit int `yaml:"rate_limit" json:"rate_limit,omitempty"`
	// Digest, when set, sends the sinks one message per period listing the
	// stories of the period instead of one message per alert.
	Digest time.Duration `yaml:"digest" json:"digest,omitempty"`
	// Origin is OriginConfig for a watch seeded from the config file and
	// OriginOperator for one added with `newswatch watch add`.
	Origin string `yaml:"-" json:"origin,omitempty"`
	// Seed is the SeedHash of the config entry that last wrote the watch:
	// while the config entry hashes the same, an operator's change to the
	// watch (pause, another query) is kept across restarts.
	Seed string `yaml:"-" json:"seed,omitempty"`
}

// Origins of a watch in the bucket.
const (
	OriginConfig   = "config"
	OriginOperator = "operator"
)

// SeedHash identifies a config entry's content: what the operator sees in
// the config file, without the bucket's bookkeeping.
func (w Watch) SeedHash() string {
	w.Origin, w.Seed = "", ""
	b, _ := json.Marshal(w)
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:8])
}

var idPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// ValidID reports whether id can name a watch: it becomes the subject token
// of alerts.<id> and a KV key.
func ValidID(id string) bool { return idPattern.MatchString(id) }

// Problem is one thing wrong with a watch: the field and what to do.
type Problem struct {
	Field   string // id, query, sinks, rate_limit, digest
	Message string
}

func (p Problem) Error() string { return p.Field + ": " + p.Message }

// Unwrap makes a Problem an ErrInvalid.
func (p Problem) Unwrap() error { return ErrInvalid }

// Problems lists everything wrong with w. knownSink, when not nil, says
// whether a sink name is configured. The query is only checked for being
// there: parsing it needs the gazetteer's aliases (see pkg/watchset).
func (w Watch) Problems(knownSink func(string) bool) []Problem {
	var out []Problem
	if !ValidID(w.ID) {
		out = append(out, Problem{"id", fmt.Sprintf("%q must be set and hold only letters, digits, '-' and '_' (alerts go to alerts.<id>)", w.ID)})
	}
	if w.Query == "" {
		out = append(out, Problem{"query", "is empty"})
	}
	if w.RateLimit < 0 {
		out = append(out, Problem{"rate_limit", fmt.Sprintf("is %d; must be 0 (no limit) or more", w.RateLimit)})
	}
	if w.Digest != 0 && (w.Digest < time.Minute || w.Digest > 7*24*time.Hour) {
		out = append(out, Problem{"digest", fmt.Sprintf("is %s; use a period between 1m and 168h, such as 1h", w.Digest)})
	}
	if knownSink != nil {
		for _, s := range w.Sinks {
			if !knownSink(s) {
				out = append(out, Problem{"sinks", fmt.Sprintf("names %q, which is not among the sinks: entries; add a sink named %q under sinks: in the file given with --config, or fix the name", s, s)})
			}
		}
	}
	return out
}

// Validate returns every problem of w joined in one error naming the watch,
// or nil.
func (w Watch) Validate(knownSink func(string) bool) error {
	ps := w.Problems(knownSink)
	if len(ps) == 0 {
		return nil
	}
	errs := make([]error, len(ps))
	for i, p := range ps {
		errs[i] = fmt.Errorf("watch %q: %w", w.ID, p)
	}
	return errors.Join(errs...)
}

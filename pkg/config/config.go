// Package config loads newswatch's YAML configuration file, applies defaults
// and NEWSWATCH_<SECTION>_<KEY> environment overrides, and validates it with
// errors that name the offending key. docs/config.md documents every key.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/newswatch/newswatch/pkg/watches"
)

// ErrInvalid is wrapped by every validation error.
var ErrInvalid = errors.New("config: invalid")

// Config is the whole configuration file.
type Config struct {
	NATS     NATS     `yaml:"nats"`
	HTTP     HTTP     `yaml:"http"`
	Log      Log      `yaml:"log"`
	Fetcher  Fetcher  `yaml:"fetcher"`
	Analyzer Analyzer `yaml:"analyzer"`
	Notifier Notifier `yaml:"notifier"`
	// Consumers bounds the redelivery of the analyzer's and the notifier's
	// messages.
	Consumers Consumers `yaml:"consumers"`
	Streams   Streams   `yaml:"streams"`
	Feeds     []Feed    `yaml:"feeds"`
	Watches   []Watch   `yaml:"watches"`
	Sinks     []Sink    `yaml:"sinks"`
}

// NATS says where the NATS server is, or how to run the embedded one.
type NATS struct {
	URL             string `yaml:"url"`
	Listen          string `yaml:"listen"`
	StoreDir        string `yaml:"store_dir"`
	Replicas        int    `yaml:"replicas"`
	CredentialsFile string `yaml:"credentials_file"`
	NKeySeedFile    string `yaml:"nkey_seed_file"`
	User            string `yaml:"user"`
	Password        string `yaml:"password"`
	PasswordFile    string `yaml:"password_file"`
	Token           string `yaml:"token"`
	TokenFile       string `yaml:"token_file"`
	TLS             TLS    `yaml:"tls"`
	// EmbeddedTLS is the certificate the embedded server presents; with
	// a token or user/password it lets nats.listen go beyond loopback.
	EmbeddedTLS ServerTLS `yaml:"embedded_tls"`
}

// ServerTLS names the certificate and key of a TLS server.
type ServerTLS struct {
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
}

// TLS names the files for a TLS connection to NATS.
type TLS struct {
	CAFile   string `yaml:"ca_file"`
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
}

// HTTP is the address of /metrics, /healthz and /readyz.
type HTTP struct {
	Listen string `yaml:"listen"`
	// Pprof serves net/http/pprof under /debug/pprof/ on the same address.
	Pprof bool `yaml:"pprof"`
}

// Log chooses the log format and level.
type Log struct {
	Format string `yaml:"format"` // text or json
	Level  string `yaml:"level"`  // debug, info, warn, error
}

// Fetcher configures feed polling and page fetching.
type Fetcher struct {
	AllowPrivateNetworks bool          `yaml:"allow_private_networks"`
	UserAgent            string        `yaml:"user_agent"`
	DefaultInterval      time.Duration `yaml:"default_interval"`
	MaxItemAge           time.Duration `yaml:"max_item_age"`
	Timeout              time.Duration `yaml:"timeout"`
	MaxBodyBytes         int64         `yaml:"max_body_bytes"`
	Concurrency          int           `yaml:"concurrency"`
	SeenTTL              time.Duration `yaml:"seen_ttl"`
	RespectRobots        bool          `yaml:"respect_robots"`
	PerHostConcurrency   int           `yaml:"per_host_concurrency"`
	PerHostGap           time.Duration `yaml:"per_host_gap"`
	LeaseGrace           time.Duration `yaml:"lease_grace"`
	// MaxItemsPerPoll bounds the new items one poll publishes, newest
	// first; the rest wait for the next poll, which comes at once.
	MaxItemsPerPoll int `yaml:"max_items_per_poll"`
	// PollBudget bounds the time one poll spends on its items.
	PollBudget time.Duration `yaml:"poll_budget"`
	// MaxTextBytes bounds an article's text (and summary); longer text is
	// cut at a paragraph boundary and the article marked text_truncated.
	MaxTextBytes int `yaml:"max_text_bytes"`
	// ShutdownGrace is how long polls in flight may take to finish their
	// current item when the fetcher stops; then they are cancelled.
	ShutdownGrace time.Duration `yaml:"shutdown_grace"`
	// SiteRules are CSS selectors per host for the pages the general
	// extraction gets wrong: keep names the article's container, remove
	// the furniture to drop first.
	SiteRules map[string]SiteRule `yaml:"site_rules"`
}

// SiteRule holds the extraction selectors of one host.
type SiteRule struct {
	Keep   []string `yaml:"keep"`
	Remove []string `yaml:"remove"`
}

// Analyzer configures the topic classifier, the gazetteer and story clustering.
type Analyzer struct {
	TaxonomyFile   string  `yaml:"taxonomy_file"`
	TopicModelFile string  `yaml:"topic_model_file"`
	GazetteerFile  string  `yaml:"gazetteer_file"`
	StoryThreshold float64 `yaml:"story_threshold"`
	// StoryWindow is how far apart in publication time two copies of one
	// story may be; 0 keeps the built-in 72h. The story index keeps
	// records for twice this long.
	StoryWindow time.Duration `yaml:"story_window"`
}

// Notifier configures alerting.
type Notifier struct {
	MaxDeliveries int `yaml:"max_deliveries"`
}

// Consumers bounds how often the analyzer and notifier consumers retry a
// message whose handling fails for a passing reason before they move it to
// deadletter.stage.<consumer>.
type Consumers struct {
	MaxDeliveries int             `yaml:"max_deliveries"`
	Backoff       []time.Duration `yaml:"backoff"`
}

// Streams holds the limits of each JetStream stream.
type Streams struct {
	Articles StreamLimits `yaml:"articles"`
	Analyzed StreamLimits `yaml:"analyzed"`
	Alerts   StreamLimits `yaml:"alerts"`
	// KVMaxBytes bounds each KV bucket; a full bucket refuses new keys.
	KVMaxBytes int64 `yaml:"kv_max_bytes"`
}

// StreamLimits bounds one stream.
type StreamLimits struct {
	MaxAge          time.Duration `yaml:"max_age"`
	MaxBytes        int64         `yaml:"max_bytes"`
	MaxMsgs         int64         `yaml:"max_msgs"` // 0: no limit
	DuplicateWindow time.Duration `yaml:"duplicate_window"`
}

// Feed is one polled feed.
type Feed struct {
	ID       string        `yaml:"id"`
	URL      string        `yaml:"url"`
	Interval time.Duration `yaml:"interval"`
}

// SeedHash identifies the feed's config entry: the feeds bucket keeps it
// on the feed the entry seeded, so that an operator's change to that feed
// stays until the entry itself changes.
func (f Feed) SeedHash() string {
	return hash(fmt.Sprintf("%s\x00%s\x00%d", f.ID, f.URL, f.Interval))[:16]
}

// Watch is one analyst's standing query; pkg/watches owns the type, its
// validation and the bucket it is kept in at run time.
type Watch = watches.Watch

// Sink is one alert destination; its type-specific keys stay in Spec and are
// decoded by the sink's own package.
type Sink struct {
	Name string    `yaml:"name"`
	Type string    `yaml:"type"`
	Spec yaml.Node `yaml:"-"`
}

// UnmarshalYAML keeps the whole mapping for the sink's package to decode.
func (s *Sink) UnmarshalYAML(n *yaml.Node) error {
	var head struct {
		Name string `yaml:"name"`
		Type string `yaml:"type"`
	}
	if err := n.Decode(&head); err != nil {
		return err
	}
	s.Name, s.Type, s.Spec = head.Name, head.Type, *n
	return nil
}

// Default returns the configuration used for every key the file leaves out.
func Default() Config {
	return Config{
		NATS: NATS{Listen: "127.0.0.1:4222", StoreDir: "./data", Replicas: 1},
		HTTP: HTTP{Listen: "127.0.0.1:9090"},
		Log:  Log{Format: "text", Level: "info"},
		Fetcher: Fetcher{
			UserAgent:          "newswatch/0.1 (+https://github.com/newswatch/newswatch)",
			DefaultInterval:    5 * time.Minute,
			MaxItemAge:         48 * time.Hour,
			Timeout:            30 * time.Second,
			MaxBodyBytes:       10 << 20,
			Concurrency:        16,
			SeenTTL:            90 * 24 * time.Hour,
			RespectRobots:      true,
			PerHostConcurrency: 2,
			PerHostGap:         500 * time.Millisecond,
			LeaseGrace:         time.Minute,
			MaxItemsPerPoll:    200,
			PollBudget:         2 * time.Minute,
			MaxTextBytes:       256 << 10,
			ShutdownGrace:      5 * time.Second,
		},
		Analyzer: Analyzer{StoryThreshold: 0},
		Notifier: Notifier{MaxDeliveries: 8},
		Consumers: Consumers{
			MaxDeliveries: 10,
			Backoff:       []time.Duration{time.Second, 5 * time.Second, 30 * time.Second, 2 * time.Minute, 5 * time.Minute},
		},
		Streams: Streams{
			Articles:   StreamLimits{MaxAge: 7 * 24 * time.Hour, MaxBytes: 1 << 30, DuplicateWindow: 2 * time.Hour},
			Analyzed:   StreamLimits{MaxAge: 7 * 24 * time.Hour, MaxBytes: 1 << 30, DuplicateWindow: 2 * time.Hour},
			Alerts:     StreamLimits{MaxAge: 90 * 24 * time.Hour, MaxBytes: 512 << 20, DuplicateWindow: 2 * time.Hour},
			KVMaxBytes: 256 << 20,
		},
	}
}

// Load reads the file at path (an empty path means defaults only), applies
// environment overrides and validates the result, as Parse does.
func Load(path string) (*Config, error) {
	var data []byte
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("config: reading %s: %w (pass an existing file with -config)", path, err)
		}
		data = b
	}
	return Parse(data, path, os.LookupEnv)
}

// Parse decodes data (named name in errors) over the defaults, applies
// overrides looked up with env, and validates. When only the validation
// fails it returns the decoded config with the error (wrapping ErrInvalid),
// so that a config check can go on and report the rest; callers that get an
// error must not run on that config.
func Parse(data []byte, name string, env func(string) (string, bool)) (*Config, error) {
	cfg := Default()
	if len(bytes.TrimSpace(data)) > 0 {
		dec := yaml.NewDecoder(bytes.NewReader(data))
		dec.KnownFields(true)
		if err := dec.Decode(&cfg); err != nil {
			hint := "see docs/config.md for the keys"
			if strings.Contains(err.Error(), "time.Duration") {
				hint = "write durations as 90s, 5m or 48h; " + hint
			}
			return nil, fmt.Errorf("config: %s: %w (%s)", name, err, hint)
		}
	}
	if err := applyEnv(&cfg, env); err != nil {
		return nil, err
	}
	if err := cfg.Validate(); err != nil {
		return &cfg, fmt.Errorf("config: %s: %w", name, err)
	}
	return &cfg, nil
}

var idPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// Validate checks every key and fills derived values such as missing feed ids.
func (c *Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: %s: %s", ErrInvalid, key, fmt.Sprintf(format, args...)))
	}
	if c.NATS.URL == "" && c.NATS.StoreDir == "" {
		bad("nats.store_dir", "must be set when nats.url is empty (the embedded server stores JetStream data there)")
	}
	if c.NATS.Replicas != 1 && c.NATS.Replicas != 3 && c.NATS.Replicas != 5 {
		bad("nats.replicas", "is %d; use 1 on one machine or 3 (or 5) in a NATS cluster", c.NATS.Replicas)
	}
	if c.Log.Format != "text" && c.Log.Format != "json" {
		bad("log.format", "is %q; use text or json", c.Log.Format)
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		bad("log.level", "is %q; use debug, info, warn or error", c.Log.Level)
	}
	if c.Fetcher.Concurrency < 1 {
		bad("fetcher.concurrency", "is %d; must be at least 1", c.Fetcher.Concurrency)
	}
	if c.Fetcher.MaxBodyBytes < 1024 {
		bad("fetcher.max_body_bytes", "is %d; must be at least 1024", c.Fetcher.MaxBodyBytes)
	}
	if c.Fetcher.Timeout <= 0 {
		bad("fetcher.timeout", "must be a positive duration such as 30s")
	}
	if c.Fetcher.PerHostConcurrency < 1 {
		bad("fetcher.per_host_concurrency", "is %d; must be at least 1", c.Fetcher.PerHostConcurrency)
	}
	if c.Fetcher.PerHostGap < 0 {
		bad("fetcher.per_host_gap", "is %s; must be 0 or more", c.Fetcher.PerHostGap)
	}
	if c.Fetcher.LeaseGrace <= c.Fetcher.Timeout {
		bad("fetcher.lease_grace", "is %s; must be longer than fetcher.timeout (%s) so a lease outlives a slow poll", c.Fetcher.LeaseGrace, c.Fetcher.Timeout)
	}
	if c.Fetcher.MaxItemsPerPoll < 1 {
		bad("fetcher.max_items_per_poll", "is %d; must be at least 1", c.Fetcher.MaxItemsPerPoll)
	}
	if c.Fetcher.PollBudget < time.Second {
		bad("fetcher.poll_budget", "is %s; must be at least 1s", c.Fetcher.PollBudget)
	}
	if c.Fetcher.MaxTextBytes < 1024 {
		bad("fetcher.max_text_bytes", "is %d; must be at least 1024", c.Fetcher.MaxTextBytes)
	}
	if c.Fetcher.ShutdownGrace < 0 {
		bad("fetcher.shutdown_grace", "is %s; must be 0 or more", c.Fetcher.ShutdownGrace)
	}
	if c.Fetcher.DefaultInterval < time.Second {
		bad("fetcher.default_interval", "is %s; must be at least 1s", c.Fetcher.DefaultInterval)
	}
	if c.Analyzer.StoryThreshold < 0 || c.Analyzer.StoryThreshold > 1 {
		bad("analyzer.story_threshold", "is %g; must be between 0 and 1 (0 keeps the built-in default)", c.Analyzer.StoryThreshold)
	}
	if c.Analyzer.StoryWindow < 0 || c.Analyzer.StoryWindow > 0 && c.Analyzer.StoryWindow < time.Minute {
		bad("analyzer.story_window", "is %s; must be at least 1m (or 0 for the built-in 72h)", c.Analyzer.StoryWindow)
	}
	if c.Notifier.MaxDeliveries < 1 {
		bad("notifier.max_deliveries", "is %d; must be at least 1", c.Notifier.MaxDeliveries)
	}
	if c.Consumers.MaxDeliveries < 1 {
		bad("consumers.max_deliveries", "is %d; must be at least 1", c.Consumers.MaxDeliveries)
	}
	for i, d := range c.Consumers.Backoff {
		if d <= 0 {
			bad(fmt.Sprintf("consumers.backoff[%d]", i), "is %s; must be a positive duration such as 5s", d)
		}
	}
	for _, st := range []struct {
		name string
		s    StreamLimits
	}{{"articles", c.Streams.Articles}, {"analyzed", c.Streams.Analyzed}, {"alerts", c.Streams.Alerts}} {
		name, s := st.name, st.s
		if s.MaxAge <= 0 || s.MaxBytes <= 0 || s.DuplicateWindow <= 0 {
			bad("streams."+name, "max_age, max_bytes and duplicate_window must all be positive")
		}
		if s.MaxMsgs < 0 {
			bad("streams."+name+".max_msgs", "is %d; use 0 for no limit or a positive count", s.MaxMsgs)
		}
		if s.DuplicateWindow > s.MaxAge {
			bad("streams."+name+".duplicate_window", "is longer than max_age")
		}
	}
	if c.Streams.KVMaxBytes < 1<<20 {
		bad("streams.kv_max_bytes", "is %d; must be at least 1048576 (1 MiB)", c.Streams.KVMaxBytes)
	}
	seen := map[string]bool{}
	for i := range c.Feeds {
		f := &c.Feeds[i]
		key := fmt.Sprintf("feeds[%d]", i)
		u, err := url.Parse(f.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad(key+".url", "%q is not an http(s) URL; give a full URL such as https://example.com/feed.xml", f.URL)
		}
		if f.ID == "" {
			f.ID = FeedID(f.URL)
		}
		if !idPattern.MatchString(f.ID) {
			bad(key+".id", "%q may hold only letters, digits, '-' and '_' (it becomes a NATS subject token)", f.ID)
		}
		if seen[f.ID] {
			bad(key+".id", "%q is used by another feed", f.ID)
		}
		seen[f.ID] = true
		if f.Interval == 0 {
			f.Interval = c.Fetcher.DefaultInterval
		}
		if f.Interval < time.Second {
			bad(key+".interval", "is %s; must be at least 1s", f.Interval)
		}
	}
	sinks := map[string]bool{}
	for i, s := range c.Sinks {
		key := fmt.Sprintf("sinks[%d]", i)
		if !idPattern.MatchString(s.Name) {
			bad(key+".name", "%q must be set and hold only letters, digits, '-' and '_'", s.Name)
		}
		if sinks[s.Name] {
			bad(key+".name", "%q is used by another sink", s.Name)
		}
		sinks[s.Name] = true
		switch s.Type {
		case "webhook", "slack", "email":
		default:
			bad(key+".type", "is %q; use webhook, slack or email", s.Type)
		}
	}
	seen = map[string]bool{}
	for i, w := range c.Watches {
		key := fmt.Sprintf("watches[%d]", i)
		for _, p := range w.Problems(func(s string) bool { return sinks[s] }) {
			bad(key+"."+p.Field, "%s", p.Message)
		}
		if w.ID != "" && seen[w.ID] {
			bad(key+".id", "%q is used by another watch", w.ID)
		}
		seen[w.ID] = true
	}
	return errors.Join(errs...)
}

// HasSink reports whether the config has a sink of that name.
func (c *Config) HasSink(name string) bool {
	return slices.ContainsFunc(c.Sinks, func(s Sink) bool { return s.Name == name })
}

// Embedded reports whether this configuration runs its own NATS server.
func (c *Config) Embedded() bool { return c.NATS.URL == "" }

// FeedID derives a stable subject-safe id for a feed URL.
func FeedID(feedURL string) string {
	return "f" + hash(feedURL)[:12]
}

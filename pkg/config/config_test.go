package config

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func noEnv(string) (string, bool) { return "", false }

func TestParseDefaultsAndKeys(t *testing.T) {
	cfg, err := Parse([]byte(`
nats:
  store_dir: /tmp/x
fetcher:
  allow_private_networks: true
feeds:
  - url: https://www.livemint.com/rss/news
    interval: 5m
watches:
  - id: mq-9b
    query: '"MQ-9B"'
  - id: quad
    query: 'Quad'
`), "test.yaml", noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.Embedded() || cfg.NATS.Listen != "127.0.0.1:4222" || cfg.HTTP.Listen != "127.0.0.1:9090" {
		t.Errorf("defaults not applied: %+v", cfg.NATS)
	}
	if !cfg.Fetcher.AllowPrivateNetworks || cfg.Fetcher.MaxItemAge != 48*time.Hour {
		t.Errorf("fetcher = %+v", cfg.Fetcher)
	}
	if cfg.Feeds[0].ID == "" || cfg.Feeds[0].Interval != 5*time.Minute {
		t.Errorf("feed = %+v", cfg.Feeds[0])
	}
	if len(cfg.Watches) != 2 || cfg.Watches[1].Query != "Quad" {
		t.Errorf("watches = %+v", cfg.Watches)
	}
}

func TestEnvOverrides(t *testing.T) {
	env := map[string]string{
		"NEWSWATCH_NATS_URL":                       "nats://nats:4222",
		"NEWSWATCH_NATS_TLS_CA_FILE":               "/etc/ca.pem",
		"NEWSWATCH_HTTP_LISTEN":                    "0.0.0.0:9090",
		"NEWSWATCH_FETCHER_ALLOW_PRIVATE_NETWORKS": "true",
		"NEWSWATCH_FETCHER_MAX_ITEM_AGE":           "1h",
	}
	cfg, err := Parse(nil, "env", func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	if cfg.NATS.URL != "nats://nats:4222" || cfg.NATS.TLS.CAFile != "/etc/ca.pem" || cfg.HTTP.Listen != "0.0.0.0:9090" ||
		!cfg.Fetcher.AllowPrivateNetworks || cfg.Fetcher.MaxItemAge != time.Hour {
		t.Errorf("overrides not applied: %+v", cfg)
	}
}

func TestInvalidNamesTheKey(t *testing.T) {
	tests := []struct {
		name, yaml, env, wantKey string
	}{
		{"unknown key", "nats:\n  urll: x\n", "", "urll"},
		{"bad feed url", "feeds:\n  - url: ftp://x/y\n", "", "feeds[0].url"},
		{"bad watch id", "watches:\n  - id: 'a b'\n    query: x\n", "", "watches[0].id"},
		{"empty query", "watches:\n  - id: a\n", "", "watches[0].query"},
		{"duplicate watch", "watches:\n  - {id: a, query: x}\n  - {id: a, query: y}\n", "", "watches[1].id"},
		{"unknown sink", "watches:\n  - {id: a, query: x, sinks: [hook]}\n", "", "watches[0].sinks"},
		{"bad sink type", "sinks:\n  - {name: s, type: pager}\n", "", "sinks[0].type"},
		{"replicas", "nats:\n  replicas: 2\n", "", "nats.replicas"},
		{"env duration", "", "NEWSWATCH_FETCHER_TIMEOUT=soon", "fetcher.timeout"},
		{"max items per poll", "fetcher:\n  max_items_per_poll: 0\n", "", "fetcher.max_items_per_poll"},
		{"poll budget", "fetcher:\n  poll_budget: 10ms\n", "", "fetcher.poll_budget"},
		{"max text bytes", "", "NEWSWATCH_FETCHER_MAX_TEXT_BYTES=100", "fetcher.max_text_bytes"},
		{"shutdown grace", "fetcher:\n  shutdown_grace: -1s\n", "", "fetcher.shutdown_grace"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := noEnv
			if tt.env != "" {
				k, v, _ := strings.Cut(tt.env, "=")
				env = func(n string) (string, bool) { return v, n == k }
			}
			_, err := Parse([]byte(tt.yaml), "bad.yaml", env)
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tt.wantKey) {
				t.Errorf("error %q does not name %q", err, tt.wantKey)
			}
			if tt.name != "unknown key" && !errors.Is(err, ErrInvalid) {
				t.Errorf("error %v is not ErrInvalid", err)
			}
		})
	}
}

// Validate reports every error of a config, not only the first.
func TestValidateReportsEveryError(t *testing.T) {
	_, err := Parse([]byte(`
log: {level: loud}
consumers: {max_deliveries: 0, backoff: [1s, -2s]}
feeds: [{url: "ftp://example.com/feed"}]
watches:
  - {id: "bad id", query: ""}
  - {id: w, query: Quad, sinks: [nowhere], digest: 1s}
`), "test.yaml", func(string) (string, bool) { return "", false })
	if !errors.Is(err, ErrInvalid) {
		t.Fatalf("err = %v", err)
	}
	for _, key := range []string{"log.level", "consumers.max_deliveries", "consumers.backoff[1]", "feeds[0].url",
		"watches[0].id", "watches[0].query", "watches[1].sinks", "watches[1].digest"} {
		if !strings.Contains(err.Error(), key+":") {
			t.Errorf("the error does not name %s:\n%v", key, err)
		}
	}
}

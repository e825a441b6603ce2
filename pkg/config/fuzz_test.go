package config

import "testing"

// FuzzParse feeds arbitrary bytes to the configuration parser: it must
// return a config or an error, never panic, and a config it returns must
// validate again.
func FuzzParse(f *testing.F) {
	f.Add([]byte("feeds:\n  - url: https://example.com/rss\nwatches:\n  - {id: q, query: Quad}\n"))
	f.Add([]byte("nats:\n  replicas: 3\n  url: nats://x\nstreams:\n  articles: {max_age: 1h, max_bytes: 10, duplicate_window: 1m}\n"))
	f.Add([]byte("sinks:\n  - {name: s, type: webhook, url: https://h}\nwatches:\n  - {id: w, query: x, sinks: [s], digest: 1h}\n"))
	f.Add([]byte("- a\n- b\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse(data, "fuzz.yaml", noEnv)
		if err != nil {
			return
		}
		if err := cfg.Validate(); err != nil {
			t.Errorf("a parsed config does not validate again: %v", err)
		}
	})
}

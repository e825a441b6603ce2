package config

import "testing"

func TestConsumersFromEnv(t *testing.T) {
	env := map[string]string{"NEWSWATCH_CONSUMERS_MAX_DELIVERIES": "4"}
	cfg, err := Parse([]byte("consumers: {backoff: [2s, 1m]}\n"), "t.yaml", func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Consumers.MaxDeliveries != 4 || len(cfg.Consumers.Backoff) != 2 || cfg.Consumers.Backoff[1].Minutes() != 1 {
		t.Errorf("consumers = %+v", cfg.Consumers)
	}
}

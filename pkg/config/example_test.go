package config_test

import (
	"fmt"

	"github.com/newswatch/newswatch/pkg/config"
)

func ExampleParse() {
	cfg, err := config.Parse([]byte(`
feeds:
  - url: https://www.livemint.com/rss/news
    interval: 5m
watches:
  - id: mq-9b
    query: '"MQ-9B"'
`), "newswatch.yaml", func(key string) (string, bool) {
		if key == "NEWSWATCH_NATS_URL" {
			return "nats://nats.nats.svc:4222", true
		}
		return "", false
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(cfg.NATS.URL, cfg.Embedded(), cfg.Feeds[0].Interval, cfg.Watches[0].Query)

	_, err = config.Parse([]byte("watches:\n  - id: 'no spaces'\n    query: Quad\n"), "bad.yaml", nil)
	fmt.Println(err)
	// Output:
	// nats://nats.nats.svc:4222 false 5m0s "MQ-9B"
	// config: bad.yaml: config: invalid: watches[0].id: "no spaces" must be set and hold only letters, digits, '-' and '_' (alerts go to alerts.<id>)
}

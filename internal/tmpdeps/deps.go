package tmpdeps

import (
	_ "github.com/PuerkitoBio/goquery"
	_ "github.com/emersion/go-smtp"
	_ "github.com/mmcdole/gofeed"
	_ "github.com/nats-io/nats-server/v2/server"
	_ "github.com/nats-io/nats.go"
	_ "github.com/nats-io/nats.go/jetstream"
	_ "github.com/prometheus/client_golang/prometheus"
	_ "go.yaml.in/yaml/v3"
	_ "golang.org/x/net/html/charset"
	_ "golang.org/x/text/unicode/norm"
	_ "github.com/andybalholm/brotli"
)

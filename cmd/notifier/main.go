// Command notifier runs newswatch's notifier worker against a NATS JetStream server
// (nats.url, NEWSWATCH_NATS_URL or -nats-url).
package main

import (
	"os"

	"github.com/newswatch/newswatch/pkg/app"
)

func main() { os.Exit(app.WorkerMain(app.Notifier, os.Args[1:], os.Stdout, os.Stderr)) }

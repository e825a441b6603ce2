// Command analyzer runs newswatch's analyzer worker against a NATS JetStream server
// (nats.url, NEWSWATCH_NATS_URL or -nats-url).
package main

import (
	"os"

	"github.com/newswatch/newswatch/pkg/app"
)

func main() { os.Exit(app.WorkerMain(app.Analyzer, os.Args[1:], os.Stdout, os.Stderr)) }

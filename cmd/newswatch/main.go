// Command newswatch is the all-in-one binary (an embedded NATS server with
// JetStream and all three workers in one process) and the operator CLI.
package main

import (
	"os"

	"github.com/newswatch/newswatch/pkg/cli"
)

func main() { os.Exit(cli.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) }

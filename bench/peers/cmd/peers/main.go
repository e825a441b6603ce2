// Command peers prints the article text that go-trafilatura or
// go-readability find on a saved page, as JSON like `newswatch extract`:
//
//	peers extract --engine trafilatura --url URL --file FILE
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/newswatch/newswatch/bench/peers"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

// output holds the fields of `newswatch extract` that peers fill.
type output struct {
	URL   string `json:"url"`
	Title string `json:"title"`
	Text  string `json:"text"`
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "extract" {
		fmt.Fprintln(stderr, "usage: peers extract --engine trafilatura|readability --url URL --file FILE")
		return 2
	}
	fs := flag.NewFlagSet("extract", flag.ContinueOnError)
	fs.SetOutput(stderr)
	engine := fs.String("engine", "", "extractor to run: trafilatura or readability")
	pageURL := fs.String("url", "", "page URL (used to resolve links)")
	file := fs.String("file", "", "saved page to read")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	if *engine == "" || *pageURL == "" || *file == "" {
		fmt.Fprintln(stderr, "peers extract: --engine, --url and --file are required")
		fs.Usage()
		return 2
	}
	page, err := os.ReadFile(*file)
	if err != nil {
		fmt.Fprintf(stderr, "peers extract: %v\n", err)
		return 1
	}
	res, err := peers.Extract(*engine, page, *pageURL)
	if err != nil {
		fmt.Fprintf(stderr, "peers extract: %v\n", err)
		return 1
	}
	enc := json.NewEncoder(stdout)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(output{URL: *pageURL, Title: res.Title, Text: res.Text}); err != nil {
		fmt.Fprintf(stderr, "peers extract: writing output: %v\n", err)
		return 1
	}
	return 0
}

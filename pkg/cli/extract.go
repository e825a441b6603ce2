package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/newswatch/newswatch/pkg/app"
	"github.com/newswatch/newswatch/pkg/config"
	"github.com/newswatch/newswatch/pkg/extract"
	"github.com/newswatch/newswatch/pkg/httpguard"
)

// extractOutput is the JSON printed by `newswatch extract`.
type extractOutput struct {
	URL          string     `json:"url"`
	CanonicalURL string     `json:"canonical_url"`
	Title        string     `json:"title"`
	Author       string     `json:"author"`
	PublishedAt  *time.Time `json:"published_at"` // null when the page gives no date
	Lang         string     `json:"lang"`
	Image        string     `json:"image"`
	Text         string     `json:"text"`
}

// runExtract prints the article of one page as JSON, from a saved file or
// fetched from its URL with the fetcher's guarded client and configuration.
func runExtract(ctx context.Context, args []string, io IO) int {
	fs := flag.NewFlagSet("extract", flag.ContinueOnError)
	fs.SetOutput(io.Stderr)
	pageURL := fs.String("url", "", "page `URL`: fetched unless --file is given; with --file, used to resolve links and pick site rules")
	file := fs.String("file", "", "read the page from this `file` instead of fetching it")
	cfgFile := fs.String("config", "", "configuration `file` whose fetcher: section applies (allow_private_networks, user_agent, timeout, max_body_bytes, site_rules)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: newswatch extract --url URL [--config FILE]\n       newswatch extract --file FILE [--url URL] [--config FILE]")
		fmt.Fprint(fs.Output(), "\nPrints the page's article as JSON. --url is fetched the way the fetcher\nfetches pages: private, loopback and metadata addresses are refused unless\nfetcher.allow_private_networks is true.\n\n")
		fs.PrintDefaults()
	}
	if code, ok := parseFlags(fs, args, io); !ok {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(io.Stderr, "newswatch extract: unexpected argument %q; give the page with --url or --file\n", fs.Arg(0))
		return 2
	}
	if *pageURL == "" && *file == "" {
		fmt.Fprintln(io.Stderr, "newswatch extract: give --url URL or --file FILE")
		fs.Usage()
		return 2
	}
	cfg, err := config.Load(*cfgFile)
	if err != nil {
		fmt.Fprintf(io.Stderr, "newswatch extract: %v\n", err)
		return 2
	}
	ex, err := app.Extractor(cfg)
	if err != nil {
		fmt.Fprintf(io.Stderr, "newswatch extract: %v\n", err)
		return 2
	}
	var body []byte
	var contentType, source string
	base := *pageURL
	if *file != "" {
		source = *file
		body, err = os.ReadFile(*file)
	} else {
		source = *pageURL
		var resp *httpguard.Response
		resp, err = app.FetcherClient(cfg).Get(ctx, *pageURL, http.Header{"Accept": {"text/html,application/xhtml+xml;q=0.9,*/*;q=0.5"}})
		if err == nil {
			body, contentType, base = resp.Body, resp.ContentType, resp.FinalURL
		}
	}
	if err != nil {
		fmt.Fprintf(io.Stderr, "newswatch extract: %s: %v\n", source, err)
		return 1
	}
	page, err := extract.DecodeHTML(body, contentType)
	if err != nil {
		fmt.Fprintf(io.Stderr, "newswatch extract: %s: %v\n", source, err)
		return 1
	}
	res, err := ex.Extract(page, base)
	if err != nil {
		fmt.Fprintf(io.Stderr, "newswatch extract: %s: %v\n", source, err)
		return 1
	}
	out := extractOutput{
		URL:          res.URL,
		CanonicalURL: res.CanonicalURL,
		Title:        res.Title,
		Author:       strings.Join(res.Authors, ", "),
		Lang:         res.Lang,
		Image:        res.Image,
		Text:         res.Text,
	}
	if !res.PublishedAt.IsZero() {
		out.PublishedAt = &res.PublishedAt
	}
	enc := json.NewEncoder(io.Stdout)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		fmt.Fprintf(io.Stderr, "newswatch extract: writing output: %v\n", err)
		return 1
	}
	return 0
}

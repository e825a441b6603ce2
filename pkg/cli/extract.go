package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/newswatch/newswatch/pkg/app"
	"github.com/newswatch/newswatch/pkg/config"
	"github.com/newswatch/newswatch/pkg/extract"
)

const (
	extractTimeout   = 20 * time.Second
	extractBodyLimit = 10 << 20
	extractUserAgent = "newswatch/0.1 (+https://github.com/newswatch/newswatch)"
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
// fetched from its URL.
func runExtract(ctx context.Context, args []string, io IO) int {
	fs := flag.NewFlagSet("extract", flag.ContinueOnError)
	fs.SetOutput(io.Stderr)
	pageURL := fs.String("url", "", "page URL (fetched unless --file is given; used to resolve links)")
	file := fs.String("file", "", "read the page from this file instead of fetching it")
	cfgFile := fs.String("config", "", "configuration `file` whose fetcher.site_rules apply")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *pageURL == "" {
		fmt.Fprintln(io.Stderr, "newswatch extract: --url is required")
		fs.Usage()
		return 2
	}
	var body []byte
	var contentType, source string
	var err error
	if *file != "" {
		source = *file
		body, err = os.ReadFile(*file)
	} else {
		source = *pageURL
		body, contentType, err = fetchPage(ctx, *pageURL)
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
	ex := extract.New()
	if *cfgFile != "" {
		cfg, err := config.Load(*cfgFile)
		if err == nil {
			ex, err = app.Extractor(cfg)
		}
		if err != nil {
			fmt.Fprintf(io.Stderr, "newswatch extract: %v\n", err)
			return 2
		}
	}
	res, err := ex.Extract(page, *pageURL)
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

var errPageTooLarge = errors.New("page larger than 10 MiB")

// fetchPage is a plain GET; the fetcher's guarded client replaces it later.
func fetchPage(ctx context.Context, pageURL string) ([]byte, string, error) {
	ctx, cancel := context.WithTimeout(ctx, extractTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, pageURL, nil)
	if err != nil {
		return nil, "", err
	}
	req.Header.Set("User-Agent", extractUserAgent)
	req.Header.Set("Accept", "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5")
	client := &http.Client{Timeout: extractTimeout}
	resp, err := client.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, "", fmt.Errorf("HTTP status %s", resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, extractBodyLimit+1))
	if err != nil {
		return nil, "", fmt.Errorf("reading body: %w", err)
	}
	if len(body) > extractBodyLimit {
		return nil, "", errPageTooLarge
	}
	return body, resp.Header.Get("Content-Type"), nil
}

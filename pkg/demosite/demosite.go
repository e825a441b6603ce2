// Package demosite serves a small, realistic news site from files embedded in
// the binary: an RSS feed, the India-US 2+2 seed article as a Livemint-like
// page full of boilerplate, and unrelated articles that must not raise
// defence alerts. The end-to-end test and `newswatch demo` point the fetcher
// at it.
package demosite

import (
	"embed"
	"encoding/xml"
	"fmt"
	"html"
	"net/http"
	"strings"
	"time"
)

//go:embed site/*.html
var files embed.FS

// basePlaceholder is replaced by the scheme and host of each request, so the
// canonical links and feed items are absolute whatever address the site
// listens on (an httptest port, a demo port).
const basePlaceholder = "{{BASE}}"

// Page describes one article page of the site.
type Page struct {
	Path        string    // URL path, e.g. "/news/india/...html"
	Title       string    // headline as in the feed and the page's h1
	Description string    // feed item description
	Seed        bool      // the India-US 2+2 seed article
	Published   time.Time // original publication time shown on the page
	// Age is how long before the request the feed dates the item when the
	// handler runs on a clock, so a fetcher's max_item_age keeps it.
	Age  time.Duration
	file string
}

var ist = time.FixedZone("IST", 5*3600+1800)

var pages = []Page{
	{
		Path:        "/news/india/india-us-2-2-dialogue-armoured-infantry-vehicles-mq-9b-drones-11699672345678.html",
		Title:       "India, US to co-produce armoured infantry vehicles, fast-track MQ-9B drones at 2+2 dialogue",
		Description: "The fifth India-US 2+2 ministerial dialogue focused on defence production, the Indo-Pacific and counter-terrorism.",
		Seed:        true,
		Published:   time.Date(2023, 11, 11, 6, 56, 21, 0, ist),
		Age:         5 * time.Minute,
		file:        "site/india-us-2plus2.html",
	},
	{
		Path:        "/sports/cricket-news/bengal-beat-saurashtra-eden-gardens-11699700000001.html",
		Title:       "Easwaran’s 94 steers Bengal past Saurashtra in tense chase at Eden Gardens",
		Description: "Bengal chased down 287 to go top of Group C.",
		Published:   time.Date(2023, 11, 10, 22, 15, 0, 0, ist),
		Age:         12 * time.Minute,
		file:        "site/ranji-bengal-saurashtra.html",
	},
	{
		Path:        "/economy/monsoon-reservoir-levels-rabi-markets-11699700000002.html",
		Title:       "Patchy monsoon leaves reservoirs low; markets look past rural worries",
		Description: "Reservoir storage is well below normal after a dry September.",
		Published:   time.Date(2023, 11, 10, 18, 40, 0, 0, ist),
		Age:         20 * time.Minute,
		file:        "site/monsoon-reservoirs-markets.html",
	},
}

// Pages returns the site's article pages, the seed first.
func Pages() []Page {
	return append([]Page(nil), pages...)
}

// SeedPage returns the India-US 2+2 article page.
func SeedPage() Page { return pages[0] }

// PageHTML returns the page's HTML as served under base (scheme://host, no
// trailing slash).
func PageHTML(p Page, base string) ([]byte, error) {
	b, err := files.ReadFile(p.file)
	if err != nil {
		return nil, fmt.Errorf("demosite: page %s: %w", p.Path, err)
	}
	return []byte(strings.ReplaceAll(string(b), basePlaceholder, base)), nil
}

// Handler serves the site with feed items dated a few minutes before each
// request, so a fetcher that skips old items still publishes them.
func Handler() http.Handler { return HandlerAt(time.Now) }

// HandlerAt serves the site with the feed dated relative to now. A nil now
// dates the feed items at their original publication times (November 2023),
// for tests that want byte-stable output.
func HandlerAt(now func() time.Time) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /feed.xml", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml; charset=utf-8")
		var t time.Time
		if now != nil {
			t = now()
		}
		_, _ = w.Write(feed(baseURL(r), t))
	})
	mux.HandleFunc("GET /robots.txt", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintf(w, "User-agent: *\nAllow: /\n\nSitemap: %s/feed.xml\n", baseURL(r))
	})
	for _, p := range pages {
		mux.HandleFunc("GET "+p.Path, func(w http.ResponseWriter, r *http.Request) {
			b, err := PageHTML(p, baseURL(r))
			if err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Header().Set("Last-Modified", p.Published.UTC().Format(http.TimeFormat))
			_, _ = w.Write(b)
		})
	}
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>mint demo</title>")
		fmt.Fprint(w, "<link rel=\"alternate\" type=\"application/rss+xml\" href=\"/feed.xml\"></head><body><h1>Latest news</h1><ul>")
		for _, p := range pages {
			fmt.Fprintf(w, "<li><a href=\"%s\">%s</a></li>", p.Path, html.EscapeString(p.Title))
		}
		fmt.Fprint(w, "</ul></body></html>")
	})
	return mux
}

// baseURL rebuilds the address the client used; the fixture site never sits
// behind a proxy, so Host is trustworthy enough.
func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

type rss struct {
	XMLName xml.Name   `xml:"rss"`
	Version string     `xml:"version,attr"`
	Channel rssChannel `xml:"channel"`
}

type rssChannel struct {
	Title       string    `xml:"title"`
	Link        string    `xml:"link"`
	Description string    `xml:"description"`
	Language    string    `xml:"language"`
	Items       []rssItem `xml:"item"`
}

type rssItem struct {
	Title       string  `xml:"title"`
	Link        string  `xml:"link"`
	GUID        rssGUID `xml:"guid"`
	Description string  `xml:"description"`
	PubDate     string  `xml:"pubDate"`
}

type rssGUID struct {
	IsPermaLink bool   `xml:"isPermaLink,attr"`
	Value       string `xml:",chardata"`
}

// feed renders the RSS 2.0 feed; a zero now keeps the original dates.
func feed(base string, now time.Time) []byte {
	doc := rss{Version: "2.0", Channel: rssChannel{
		Title:       "mint demo - Latest News",
		Link:        base + "/",
		Description: "Fixture news site for newswatch",
		Language:    "en",
	}}
	for _, p := range pages {
		date := p.Published
		if !now.IsZero() {
			date = now.Add(-p.Age)
		}
		doc.Channel.Items = append(doc.Channel.Items, rssItem{
			Title:       p.Title,
			Link:        base + p.Path,
			GUID:        rssGUID{IsPermaLink: true, Value: base + p.Path},
			Description: p.Description,
			PubDate:     date.Format(time.RFC1123Z),
		})
	}
	out, err := xml.MarshalIndent(doc, "", "  ")
	if err != nil {
		// Only fixed, well-formed structs are marshalled here.
		panic("demosite: feed: " + err.Error())
	}
	return append([]byte(xml.Header), append(out, '\n')...)
}

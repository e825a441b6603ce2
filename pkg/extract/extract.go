package extract

import (
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/PuerkitoBio/goquery"
	"github.com/andybalholm/cascadia"
	"golang.org/x/net/html"
)

// Sentinel errors; Extract wraps them with the detail of what was wrong.
var (
	// ErrNoContent means the page parsed but holds no article text.
	ErrNoContent = errors.New("extract: no article text found")
	// ErrNotHTML means the input is not an HTML document.
	ErrNotHTML = errors.New("extract: not an HTML document")
	// ErrTooDeep means the page nests elements deeper than the HTML parser
	// accepts (512 open elements), usually a broken or hostile page.
	ErrTooDeep = errors.New("extract: page nested too deeply to parse")
	// ErrBadSelector means a site rule holds a CSS selector that does not compile.
	ErrBadSelector = errors.New("extract: invalid site rule selector")
)

// Result is the article found on a page.
type Result struct {
	URL, CanonicalURL, Title string
	Authors                  []string
	PublishedAt, ModifiedAt  time.Time
	Lang, Image, SiteName    string
	Text                     string // body text, paragraphs separated by "\n\n"
}

// SiteRule adjusts extraction for one host: Keep selectors name the article
// container (the first that matches with text wins), Remove selectors name
// boilerplate to drop before anything else.
type SiteRule struct{ Keep, Remove []string }

type compiledRule struct {
	keep, remove []goquery.Matcher
}

// Option configures an Extractor.
type Option func(*Extractor)

// WithSiteRules sets per-host rules, keyed by host name ("www." is ignored
// on both sides). Selectors that do not compile make Extract fail for that
// host with ErrBadSelector, so a typo in configuration is visible.
func WithSiteRules(rules map[string]SiteRule) Option {
	return func(e *Extractor) {
		for host, r := range rules {
			e.rawRules[normHost(host)] = r
		}
	}
}

// WithMinTextLength sets how many characters of body text a page needs
// before it counts as an article (default 25).
func WithMinTextLength(n int) Option {
	return func(e *Extractor) { e.minText = n }
}

// Extractor extracts articles from pages. It is safe for concurrent use.
type Extractor struct {
	rawRules map[string]SiteRule
	rules    map[string]compiledRule
	ruleErrs map[string]error
	minText  int
}

// New returns an Extractor.
func New(opts ...Option) *Extractor {
	e := &Extractor{
		rawRules: map[string]SiteRule{},
		rules:    map[string]compiledRule{},
		ruleErrs: map[string]error{},
		minText:  25,
	}
	for _, o := range opts {
		o(e)
	}
	// Compile once here so Extract never writes shared state.
	for host, r := range e.rawRules {
		var cr compiledRule
		var err error
		for _, s := range r.Keep {
			sel, cerr := cascadia.Compile(s)
			if cerr != nil {
				err = fmt.Errorf("%w: host %s keep %q: %v", ErrBadSelector, host, s, cerr)
				break
			}
			cr.keep = append(cr.keep, sel)
		}
		for _, s := range r.Remove {
			sel, cerr := cascadia.Compile(s)
			if cerr != nil {
				err = fmt.Errorf("%w: host %s remove %q: %v", ErrBadSelector, host, s, cerr)
				break
			}
			cr.remove = append(cr.remove, sel)
		}
		if err != nil {
			e.ruleErrs[host] = err
			continue
		}
		e.rules[host] = cr
	}
	return e
}

// CheckRules reports the first site rule whose selector does not compile,
// so a bad configuration fails at start rather than on the host's pages.
func (e *Extractor) CheckRules() error {
	for _, err := range e.ruleErrs {
		return err
	}
	return nil
}

func normHost(h string) string {
	h = strings.ToLower(strings.TrimSpace(h))
	return strings.TrimPrefix(h, "www.")
}

// Extract finds the article in a UTF-8 page (see DecodeHTML) fetched from
// pageURL. It returns ErrNotHTML, ErrTooDeep or ErrNoContent, wrapped, when
// there is no article to be had; with ErrNoContent the Result still carries
// the metadata found, so a caller can fall back to a feed's summary.
func (e *Extractor) Extract(page []byte, pageURL string) (*Result, error) {
	if len(bytes.TrimSpace(page)) == 0 {
		return nil, fmt.Errorf("%w: empty page %s", ErrNoContent, pageURL)
	}
	if err := checkHTML(page, ""); err != nil {
		return nil, fmt.Errorf("%w (page %s)", err, pageURL)
	}
	base, _ := url.Parse(pageURL)
	var rule *compiledRule
	if base != nil {
		h := normHost(base.Hostname())
		if err := e.ruleErrs[h]; err != nil {
			return nil, err
		}
		if r, ok := e.rules[h]; ok {
			rule = &r
		}
	}
	doc, err := parse(page)
	if err != nil {
		if strings.Contains(err.Error(), "exceeds 512") {
			return nil, fmt.Errorf("%w: %s: %v", ErrTooDeep, pageURL, err)
		}
		return nil, fmt.Errorf("%w: %s: %v", ErrNotHTML, pageURL, err)
	}
	if !hasElements(doc) {
		return nil, fmt.Errorf("%w: %s has no HTML elements", ErrNotHTML, pageURL)
	}
	res := &Result{URL: pageURL}
	m := readMeta(doc, base)
	m.apply(res)

	var keep *html.Node
	if rule != nil {
		// Site rules are CSS selectors, applied through goquery over the
		// tree already parsed (wrapping it costs no second parse).
		page := goquery.NewDocumentFromNode(doc)
		for _, sel := range rule.remove {
			page.FindMatcher(sel).Remove()
		}
		for _, sel := range rule.keep {
			if found := page.FindMatcher(sel); found.Length() > 0 {
				keep = found.Get(0)
				break
			}
		}
	}
	text, good := extractBody(doc, keep, res.Title, false)
	if keep == nil {
		if n := utf8.RuneCountInString(text); n < fallbackMin || n < good/fallbackShare {
			// Class-based removal may have taken the article with it; the
			// page is parsed again because the first pass changed the tree.
			if doc2, err := parse(page); err == nil {
				alt, _ := extractBody(doc2, nil, res.Title, true)
				if utf8.RuneCountInString(alt) > n*3/2 {
					text = alt
				}
			}
		}
	}
	if keep == nil {
		// Pages rendered by JavaScript often carry the whole story only in
		// their JSON-LD; the publisher's own articleBody beats a scrap.
		if ld := ldBodyText(m.ld.articleBody); utf8.RuneCountInString(ld) > 2*utf8.RuneCountInString(text)+200 {
			text = ldLead(text, ld, m.description()) + ld
		}
	}
	res.Text = text
	if len([]rune(res.Text)) < e.minText {
		return res, fmt.Errorf("%w: %s (%d characters of body text)", ErrNoContent, pageURL, len([]rune(res.Text)))
	}
	return res, nil
}

func hasElements(doc *html.Node) bool {
	// The parser always synthesises html/head/body, so plain text or JSON
	// "parses"; a page has at least one element of its own.
	for n := range doc.Descendants() {
		if n.Type == html.ElementNode {
			switch n.Data {
			case "html", "head", "body":
				continue
			}
			return true
		}
	}
	return false
}

const (
	// fallbackMin is the body length (runes) under which the lenient pass
	// is tried.
	fallbackMin = 250
	// fallbackShare: the lenient pass is also tried when the result holds
	// less than 1/fallbackShare of the page's prose.
	fallbackShare = 6
)

// parse reads the page as a browser without JavaScript would, so content
// that blogs put in <noscript> is parsed as markup rather than raw text.
func parse(page []byte) (*html.Node, error) {
	return html.ParseWithOptions(bytes.NewReader(page), html.ParseOptionEnableScripting(false))
}

// ldBodyText turns a JSON-LD articleBody, which may hold markup or plain
// lines, into paragraphs.
func ldBodyText(raw string) string {
	if raw == "" {
		return ""
	}
	if strings.Contains(raw, "<") {
		if doc, err := parse([]byte("<body>" + raw + "</body>")); err == nil {
			return (&body{st: map[*html.Node]*stats{}}).render([]*html.Node{findBody(doc)}, false)
		}
	}
	var parts []string
	for _, l := range strings.Split(html.UnescapeString(raw), "\n") {
		if l = collapse(l); l != "" {
			parts = append(parts, l)
		}
	}
	return strings.Join(parts, "\n\n")
}

// ldLead returns the page's description with a separator when the page
// shows it as a standfirst (the markup's text holds it) and the JSON-LD
// articleBody leaves it out, as publishers often do; "" otherwise.
func ldLead(text, ld, desc string) string {
	desc = collapse(html.UnescapeString(desc))
	if n := utf8.RuneCountInString(desc); n < 50 || n > ldLeadMax {
		return ""
	}
	if !strings.Contains(text, desc) || strings.Contains(collapse(ld), desc) {
		return ""
	}
	return desc + "\n\n"
}

// ldLeadMax is the longest standfirst (runes) ldLead takes.
const ldLeadMax = 600

package extract

import (
	"encoding/json"
	"net/url"
	"regexp"
	"strings"
	"time"

	"golang.org/x/net/html"
)

// meta holds the candidates for each field from each source, so apply can
// take them in order of trust.
type meta struct {
	ld                             ldArticle
	metas                          map[string]string // lower-cased name/property/itemprop -> content
	htmlLang, title, h1, canonical string
	timeAttr                       string
	timeInArticle                  bool
	bylines                        []string
	base                           *url.URL
}

type ldArticle struct {
	headline, datePublished, dateModified, lang, image, publisher, url string
	articleBody                                                        string
	authors                                                            []string
}

// readMeta walks the document once, before the body pass mutates it.
func readMeta(doc *html.Node, base *url.URL) *meta {
	m := &meta{metas: map[string]string{}, base: base}
	var walk func(n *html.Node, inArticle bool)
	walk = func(n *html.Node, inArticle bool) {
		if n.Type == html.ElementNode {
			switch n.Data {
			case "html":
				m.htmlLang = attr(n, "lang")
				if m.htmlLang == "" {
					m.htmlLang = attr(n, "xml:lang")
				}
			case "title":
				if m.title == "" {
					m.title = collapse(textOf(n))
				}
			case "meta":
				key := attr(n, "property")
				if key == "" {
					key = attr(n, "name")
				}
				if key == "" {
					key = attr(n, "itemprop")
				}
				if key == "" {
					if he := attr(n, "http-equiv"); strings.EqualFold(he, "content-language") {
						key = "content-language"
					}
				}
				key = strings.ToLower(strings.TrimSpace(key))
				if c := strings.TrimSpace(attr(n, "content")); key != "" && c != "" {
					if _, seen := m.metas[key]; !seen {
						m.metas[key] = c
					}
				}
				if d := attr(n, "datetime"); d != "" && attr(n, "itemprop") == "datePublished" {
					m.metas["datepublished"] = d
				}
			case "link":
				if m.canonical == "" && hasToken(attr(n, "rel"), "canonical") {
					m.canonical = attr(n, "href")
				}
			case "script":
				if strings.Contains(strings.ToLower(attr(n, "type")), "ld+json") {
					m.readLD(textOf(n))
				}
				return
			case "style", "noscript", "template":
				return
			case "h1":
				if m.h1 == "" {
					m.h1 = collapse(textOf(n))
				}
			case "time":
				// The first <time> inside an <article> beats one in a sidebar.
				if d := attr(n, "datetime"); d != "" && (m.timeAttr == "" || inArticle && !m.timeInArticle) {
					m.timeAttr, m.timeInArticle = d, inArticle
				}
			case "article":
				inArticle = true
			}
			if isBylineNode(n) {
				if t := collapse(textOf(n)); t != "" && len(t) < 120 {
					m.bylines = append(m.bylines, t)
				}
			}
			if attr(n, "itemprop") == "datePublished" {
				if d := attr(n, "datetime"); d != "" {
					m.metas["itemprop:datepublished"] = d
				} else if d := attr(n, "content"); d != "" {
					m.metas["itemprop:datepublished"] = d
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c, inArticle)
		}
	}
	walk(doc, false)
	return m
}

// description is the page's summary from its meta tags.
func (m *meta) description() string {
	if d := m.metas["og:description"]; d != "" {
		return d
	}
	return m.metas["description"]
}

func isBylineNode(n *html.Node) bool {
	if hasToken(attr(n, "rel"), "author") || attr(n, "itemprop") == "author" {
		return true
	}
	c := strings.ToLower(attr(n, "class"))
	return strings.Contains(c, "byline") || strings.Contains(c, "author-name") || c == "author"
}

// ldTypes are the schema.org types whose fields describe the page's article.
var ldTypes = map[string]bool{
	"newsarticle": true, "article": true, "blogposting": true, "reportagenewsarticle": true,
	"analysisnewsarticle": true, "opinionnewsarticle": true, "backgroundnewsarticle": true,
	"reviewnewsarticle": true, "scholarlyarticle": true, "techarticle": true, "report": true,
	"liveblogposting": true, "posting": true, "socialmediaposting": true, "webpage": false,
}

func (m *meta) readLD(raw string) {
	raw = strings.TrimSpace(raw)
	raw = strings.TrimSuffix(strings.TrimPrefix(raw, "<!--"), "-->")
	var v any
	if err := json.Unmarshal([]byte(raw), &v); err != nil {
		return // broken JSON-LD is common; the meta tags still count
	}
	m.walkLD(v, 0)
}

func (m *meta) walkLD(v any, depth int) {
	if depth > 8 {
		return
	}
	switch t := v.(type) {
	case []any:
		for _, x := range t {
			m.walkLD(x, depth+1)
		}
	case map[string]any:
		if g, ok := t["@graph"]; ok {
			m.walkLD(g, depth+1)
		}
		if !isArticleType(t["@type"]) {
			if me, ok := t["mainEntity"]; ok {
				m.walkLD(me, depth+1)
			}
			return
		}
		a := &m.ld
		if a.headline == "" {
			a.headline = ldString(t["headline"])
			if a.headline == "" {
				a.headline = ldString(t["name"])
			}
		}
		if a.datePublished == "" {
			a.datePublished = ldString(t["datePublished"])
		}
		if a.dateModified == "" {
			a.dateModified = ldString(t["dateModified"])
		}
		if a.lang == "" {
			a.lang = ldString(t["inLanguage"])
		}
		if a.image == "" {
			a.image = ldURL(t["image"])
			if a.image == "" {
				a.image = ldURL(t["thumbnailUrl"])
			}
		}
		if a.url == "" {
			a.url = ldString(t["url"])
		}
		if a.articleBody == "" {
			a.articleBody = ldString(t["articleBody"])
		}
		if a.publisher == "" {
			a.publisher = ldName(t["publisher"])
		}
		if len(a.authors) == 0 {
			a.authors = ldNames(t["author"])
			if len(a.authors) == 0 {
				a.authors = ldNames(t["creator"])
			}
		}
	}
}

func isArticleType(v any) bool {
	switch t := v.(type) {
	case string:
		return ldTypes[strings.ToLower(strings.TrimPrefix(t, "schema:"))]
	case []any:
		for _, x := range t {
			if isArticleType(x) {
				return true
			}
		}
	}
	return false
}

func ldString(v any) string {
	switch t := v.(type) {
	case string:
		return strings.TrimSpace(t)
	case []any:
		for _, x := range t {
			if s := ldString(x); s != "" {
				return s
			}
		}
	case map[string]any:
		if s, ok := t["@value"].(string); ok {
			return strings.TrimSpace(s)
		}
	}
	return ""
}

func ldURL(v any) string {
	switch t := v.(type) {
	case string:
		return strings.TrimSpace(t)
	case []any:
		for _, x := range t {
			if s := ldURL(x); s != "" {
				return s
			}
		}
	case map[string]any:
		if s := ldString(t["url"]); s != "" {
			return s
		}
		return ldString(t["@id"])
	}
	return ""
}

func ldName(v any) string {
	switch t := v.(type) {
	case string:
		return strings.TrimSpace(t)
	case map[string]any:
		return ldString(t["name"])
	case []any:
		for _, x := range t {
			if s := ldName(x); s != "" {
				return s
			}
		}
	}
	return ""
}

func ldNames(v any) []string {
	var out []string
	switch t := v.(type) {
	case []any:
		for _, x := range t {
			out = append(out, ldNames(x)...)
		}
	case string, map[string]any:
		if s := ldName(t); s != "" {
			// Some sites put several names in one string.
			out = append(out, splitAuthors(s)...)
		}
	}
	return dedupe(out)
}

var authorSep = regexp.MustCompile(`\s*(?:,|;|\band\b|\bund\b|\bet\b|\by\b|&|\|)\s*`)
var bylinePrefix = regexp.MustCompile(`(?i)^\s*(?:written\s+by|posted\s+by|reported\s+by|edited\s+by|by|von|par|por|di|door|av|af|przez|автор:?)\s*[:\-]?\s+`)

func splitAuthors(s string) []string {
	s = bylinePrefix.ReplaceAllString(collapse(s), "")
	var out []string
	for _, p := range authorSep.Split(s, -1) {
		p = strings.TrimSpace(p)
		if p != "" && len(p) < 80 && !strings.Contains(p, "http") {
			out = append(out, p)
		}
	}
	return out
}

func dedupe(in []string) []string {
	seen := map[string]bool{}
	out := in[:0]
	for _, s := range in {
		k := strings.ToLower(s)
		if !seen[k] {
			seen[k] = true
			out = append(out, s)
		}
	}
	return out
}

func (m *meta) get(keys ...string) string {
	for _, k := range keys {
		if v := m.metas[k]; v != "" {
			return v
		}
	}
	return ""
}

// titleSuffix strips " | Site" and " - Site" tails from <title>.
var titleSuffix = regexp.MustCompile(`\s+[|\-–—·•:»]\s+[^|\-–—·•:»]{1,40}$`)

func (m *meta) apply(r *Result) {
	r.Title = firstNonEmpty(m.ld.headline, m.get("og:title", "twitter:title"), m.h1)
	if r.Title == "" {
		r.Title = titleSuffix.ReplaceAllString(m.title, "")
	}
	r.Title = collapse(html.UnescapeString(r.Title))

	r.Authors = m.ld.authors
	if len(r.Authors) == 0 {
		if a := m.get("author", "article:author", "dc.creator", "twitter:creator", "parsely-author", "sailthru.author"); a != "" && !strings.HasPrefix(a, "http") {
			r.Authors = dedupe(splitAuthors(a))
		}
	}
	if len(r.Authors) == 0 {
		for _, b := range m.bylines {
			if as := splitAuthors(b); len(as) > 0 && len(as) <= 5 {
				r.Authors = dedupe(as)
				break
			}
		}
	}

	r.PublishedAt = firstTime(m.ld.datePublished, m.get("article:published_time", "og:article:published_time",
		"datepublished", "itemprop:datepublished", "pubdate", "publishdate", "publish-date", "dc.date.issued", "dc.date",
		"date", "parsely-pub-date", "sailthru.date", "article.published"), m.timeAttr)
	r.ModifiedAt = firstTime(m.ld.dateModified, m.get("article:modified_time", "og:updated_time", "datemodified", "last-modified"))

	r.Lang = normLang(firstNonEmpty(m.ld.lang, m.htmlLang, m.get("og:locale", "content-language", "language", "dc.language")))
	r.Image = m.resolve(firstNonEmpty(m.ld.image, m.get("og:image", "og:image:url", "og:image:secure_url", "twitter:image", "twitter:image:src")))
	r.SiteName = firstNonEmpty(m.get("og:site_name", "application-name"), m.ld.publisher)
	r.CanonicalURL = m.resolve(firstNonEmpty(m.canonical, m.get("og:url"), m.ld.url))
	if r.CanonicalURL == "" {
		r.CanonicalURL = r.URL
	}
}

func (m *meta) resolve(ref string) string {
	ref = strings.TrimSpace(ref)
	if ref == "" || m.base == nil {
		return ref
	}
	u, err := m.base.Parse(ref)
	if err != nil {
		return ref
	}
	return u.String()
}

func normLang(l string) string {
	l = strings.TrimSpace(strings.Split(l, ",")[0])
	l = strings.ReplaceAll(l, "_", "-")
	if i := strings.IndexByte(l, '-'); i > 0 {
		return strings.ToLower(l[:i]) + "-" + strings.ToUpper(l[i+1:])
	}
	return strings.ToLower(l)
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x = strings.TrimSpace(x); x != "" {
			return x
		}
	}
	return ""
}

var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05Z0700",
	"2006-01-02T15:04:05.000Z0700",
	"2006-01-02T15:04Z07:00",
	"2006-01-02T15:04:05",
	"2006-01-02T15:04",
	"2006-01-02 15:04:05Z07:00",
	"2006-01-02 15:04:05 -0700",
	"2006-01-02 15:04:05 Z0700",
	"2006-01-02 15:04:05",
	"2006-01-02 15:04",
	"2006-01-02",
	time.RFC1123Z, time.RFC1123, time.RFC850, time.ANSIC,
	"Mon, 2 Jan 2006 15:04:05 -0700",
	"January 2, 2006",
	"2006/01/02",
	"02.01.2006",
	"20060102",
}

// parseTime reads the date formats seen in article metadata; it returns the
// zero time when none fits.
func parseTime(s string) time.Time {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}
	}
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t
		}
	}
	return time.Time{}
}

func firstTime(s ...string) time.Time {
	for _, x := range s {
		if t := parseTime(x); !t.IsZero() {
			return t
		}
	}
	return time.Time{}
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func hasToken(list, tok string) bool {
	for _, f := range strings.Fields(list) {
		if strings.EqualFold(f, tok) {
			return true
		}
	}
	return false
}

func textOf(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return b.String()
}

func collapse(s string) string { return strings.Join(strings.Fields(s), " ") }

package fetcher

import (
	"net/url"
	"sort"
	"strings"

	"github.com/mmcdole/gofeed"
	"golang.org/x/net/html"
)

// trackingParams are query parameters that identify a campaign or a click,
// not a page; they are dropped from item links before hashing.
var trackingParams = map[string]bool{
	"fbclid": true, "gclid": true, "dclid": true, "msclkid": true, "mc_cid": true, "mc_eid": true,
	"igshid": true, "yclid": true, "_ga": true, "ref_src": true, "cmpid": true, "ocid": true,
}

// CanonicalURL normalises an article URL so that copies of one link hash to
// one article id: lower-case scheme and host, no fragment, no default port,
// no tracking parameters (utm_*, fbclid, gclid, ...), sorted query.
func CanonicalURL(raw string) string {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" {
		return strings.TrimSpace(raw)
	}
	u.Scheme = strings.ToLower(u.Scheme)
	u.Host = strings.ToLower(u.Host)
	if (u.Scheme == "http" && strings.HasSuffix(u.Host, ":80")) || (u.Scheme == "https" && strings.HasSuffix(u.Host, ":443")) {
		u.Host = u.Host[:strings.LastIndexByte(u.Host, ':')]
	}
	u.Fragment, u.RawFragment = "", ""
	q := u.Query()
	for k := range q {
		if strings.HasPrefix(strings.ToLower(k), "utm_") || trackingParams[strings.ToLower(k)] {
			q.Del(k)
		}
	}
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		for _, v := range q[k] {
			if b.Len() > 0 {
				b.WriteByte('&')
			}
			b.WriteString(url.QueryEscape(k) + "=" + url.QueryEscape(v))
		}
	}
	u.RawQuery = b.String()
	if u.Path == "" {
		u.Path = "/"
	}
	return u.String()
}

// plainSummary is the item's description or content as plain text.
func plainSummary(item *gofeed.Item) string {
	s := item.Description
	if s == "" {
		s = item.Content
	}
	return htmlToText(s)
}

func htmlToText(s string) string {
	if !strings.ContainsAny(s, "<&") {
		return strings.Join(strings.Fields(s), " ")
	}
	z := html.NewTokenizer(strings.NewReader(s))
	var b strings.Builder
	for {
		switch z.Next() {
		case html.ErrorToken:
			return strings.Join(strings.Fields(b.String()), " ")
		case html.TextToken:
			b.Write(z.Text())
			b.WriteByte(' ')
		}
	}
}

// sourceName names the outlet: the feed's title, else the link's host.
func sourceName(parsed *gofeed.Feed, link string) string {
	if parsed != nil && strings.TrimSpace(parsed.Title) != "" {
		return strings.TrimSpace(parsed.Title)
	}
	if u, err := url.Parse(link); err == nil {
		return strings.TrimPrefix(u.Hostname(), "www.")
	}
	return ""
}

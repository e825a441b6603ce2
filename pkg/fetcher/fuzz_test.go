package fetcher

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/mmcdole/gofeed"
)

// FuzzFeed feeds arbitrary bytes through what a poll does with a feed body
// before any I/O: the parser, the RSS <ttl> scan, and for each item the
// canonical link, signature, summary and time. None may panic, and a
// canonical URL must be stable.
func FuzzFeed(f *testing.F) {
	f.Add([]byte(`<?xml version="1.0"?><rss version="2.0"><channel><title>T</title><ttl>60</ttl><item><title>A</title><link>https://e.com/a?utm_source=x#f</link><description>&lt;p&gt;Hi&lt;/p&gt;</description><pubDate>Mon, 30 Nov 2026 10:00:00 +0000</pubDate></item></channel></rss>`))
	f.Add([]byte(`<feed xmlns="http://www.w3.org/2005/Atom"><title>T</title><entry><title>A</title><link href="https://e.com/a"/><updated>2026-11-30T10:00:00Z</updated></entry></feed>`))
	f.Add([]byte(`{"version":"https://jsonfeed.org/version/1.1","title":"T","items":[{"id":"1","url":"https://e.com/a","content_text":"x"}]}`))
	f.Add([]byte("<rss><channel><item><title>broken"))
	f.Fuzz(func(t *testing.T, data []byte) {
		_ = rssTTL(data)
		parsed, err := gofeed.NewParser().Parse(bytes.NewReader(lenientUTF8(data)))
		if err != nil {
			return
		}
		for _, it := range parsed.Items {
			if it == nil {
				continue
			}
			c := CanonicalURL(it.Link)
			if c2 := CanonicalURL(c); strings.HasPrefix(c, "http") && c2 != c {
				t.Errorf("CanonicalURL not stable: %q -> %q -> %q", it.Link, c, c2)
			}
			_ = itemSignature(it)
			_ = plainSummary(it)
			_ = itemTime(it)
			_ = sourceName(parsed, it.Link)
		}
	})
}

func FuzzCacheHint(f *testing.F) {
	f.Add("max-age=60", "5", "Mon, 30 Nov 2026 12:00:00 GMT", "Mon, 30 Nov 2026 13:00:00 GMT", []byte("<ttl>5</ttl>"))
	f.Add("no-cache, max-age=\"x\"", "", "", "0", []byte("<ttl>"))
	f.Fuzz(func(t *testing.T, cc, age, date, expires string, body []byte) {
		h := http.Header{}
		h.Set("Cache-Control", cc)
		h.Set("Age", age)
		h.Set("Date", date)
		h.Set("Expires", expires)
		if d := cacheHint(h, body, time.Now()); d < 0 {
			t.Errorf("negative hint %s", d)
		}
	})
}

func FuzzRobots(f *testing.F) {
	f.Add([]byte("User-agent: *\nDisallow: /private/\nAllow: /private/ok$\nDisallow: /*.pdf$"), "newswatch", "/private/ok")
	f.Add([]byte("User-agent: newswatch\nDisallow: /\n"), "newswatch", "/a")
	f.Fuzz(func(t *testing.T, data []byte, agent, path string) {
		r := parseRobots(data, agent)
		_ = r.allowed(path)
		if len(r.allow) == 0 && len(r.disallow) == 0 && !r.allowed(path) {
			t.Errorf("no rules yet %q is disallowed", path)
		}
	})
}

func FuzzParseOPML(f *testing.F) {
	f.Add([]byte(`<opml><body><outline text="a"><outline xmlUrl="https://e.com/f"/></outline></body></opml>`))
	f.Add([]byte(`<?xml version="1.0" encoding="windows-1252"?><opml><body><outline xmlUrl="x"/></body></opml>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		feeds, err := ParseOPML(bytes.NewReader(data))
		if err == nil && len(feeds) == 0 {
			t.Error("no error and no feeds")
		}
		for _, fd := range feeds {
			if fd.URL == "" {
				t.Error("feed without a URL")
			}
		}
	})
}

// FuzzLenientUTF8 checks the repair of feeds that claim UTF-8: the result is
// valid UTF-8 whenever the document claims it, and valid input is untouched.
func FuzzLenientUTF8(f *testing.F) {
	f.Add([]byte("<?xml version=\"1.0\" encoding=\"UTF-8\"?><rss>caf\xe9 \x93x\x94</rss>"))
	f.Add([]byte("<?xml version='1.0' encoding='windows-1252'?><rss>caf\xe9</rss>"))
	f.Add([]byte("<rss>d\xe9j\xe0 vu \xe2\x80\x93 ok</rss>"))
	f.Fuzz(func(t *testing.T, data []byte) {
		out := lenientUTF8(data)
		if utf8.Valid(data) && !bytes.Equal(out, data) {
			t.Fatalf("valid UTF-8 changed: %q -> %q", data, out)
		}
		if declaresUTF8(data) && !utf8.Valid(out) {
			t.Fatalf("not repaired: %q -> %q", data, out)
		}
	})
}

// FuzzTruncateText checks that a cut text fits the limit and stays valid.
func FuzzTruncateText(f *testing.F) {
	f.Add("first paragraph\n\nsecond paragraph", 20)
	f.Add("ééééé", 5)
	f.Fuzz(func(t *testing.T, s string, limit int) {
		if limit < 1 || limit > 1<<20 {
			return
		}
		out, cut := truncateText(s, limit)
		if len(out) > limit || cut != (len(s) > limit) {
			t.Fatalf("truncateText(%q, %d) = %q, %v", s, limit, out, cut)
		}
		if utf8.ValidString(s) && !utf8.ValidString(out) {
			t.Fatalf("cut inside a rune: %q -> %q", s, out)
		}
	})
}

package extract_test

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/newswatch/newswatch/pkg/demosite"
	"github.com/newswatch/newswatch/pkg/extract"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current extraction")

const seedBase = "https://www.livemint.com"

// goldenPages lists the pages with golden files: the demo site's seed page
// and the corpus pages in testdata.
func goldenPages(t testing.TB) map[string]struct {
	html []byte
	url  string
} {
	t.Helper()
	out := map[string]struct {
		html []byte
		url  string
	}{}
	seed := demosite.SeedPage()
	page, err := demosite.PageHTML(seed, seedBase)
	if err != nil {
		t.Fatal(err)
	}
	out["seed"] = struct {
		html []byte
		url  string
	}{page, seedBase + seed.Path}
	files, err := filepath.Glob("testdata/*.html")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		name := strings.TrimSuffix(filepath.Base(f), ".html")
		out[name] = struct {
			html []byte
			url  string
		}{b, "https://example.org/" + name}
	}
	return out
}

func TestGolden(t *testing.T) {
	ex := extract.New()
	for name, p := range goldenPages(t) {
		t.Run(name, func(t *testing.T) {
			res, err := ex.Extract(p.html, p.url)
			if err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", name+".golden")
			if *update {
				if err := os.WriteFile(golden, []byte(res.Text+"\n"), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if got := res.Text + "\n"; got != string(want) {
				t.Errorf("text differs from %s (run with -update and review the diff)\ngot:\n%s", golden, got)
			}
		})
	}
}

// TestSeedPage checks the seed page against the seed report itself: every
// paragraph of the story is kept and none of the page furniture is.
func TestSeedPage(t *testing.T) {
	seed := demosite.SeedPage()
	page, err := demosite.PageHTML(seed, seedBase)
	if err != nil {
		t.Fatal(err)
	}
	res, err := extract.New().Extract(page, seedBase+seed.Path)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile("testdata/livemint-2023-11-11-india-us-2plus2.txt")
	if err != nil {
		t.Fatal("seed report:", err)
	}
	lines := strings.Split(string(raw), "\n")
	lines[0] = regexp.MustCompile(`^\s*date \d{4}-\d{2}-\d{2} `).ReplaceAllString(lines[0], "")
	var paragraphs int
	for _, l := range lines {
		l = strings.TrimSpace(l)
		switch {
		case l == "", strings.HasPrefix(l, "Also Read:"), strings.HasPrefix(l, "HINDUSTAN AERONAUTICS"), strings.HasPrefix(l, "Milestone Alert"):
			continue
		}
		paragraphs++
		if !strings.Contains(res.Text, l) {
			t.Errorf("body paragraph missing: %.70q", l)
		}
	}
	if paragraphs < 40 {
		t.Fatalf("only %d paragraphs in the seed report; wrong file?", paragraphs)
	}
	for _, furniture := range []string{
		"Also Read", "Milestone Alert", "Latest", "Markets", "Premium", "Home / News", "Share Via", "WhatsApp",
		"Subscribe", "newsletter", "Unlock a world of benefits", "Catch all the", "HINDUSTAN AERONAUTICS",
		"More Information", "Related Stories", "Most Popular", "Diwali", "cookies", "Privacy Policy",
		"Copyright", "About Us", "Comments", "Written By", "Advertisement", "Trending",
		"India-China relationship has never been easy",                                   // an "Also Read" link's title
		"Defence Minister Rajnath Singh and External Affairs Minister S Jaishankar with", // the photo caption
		res.Title,
	} {
		if strings.Contains(res.Text, furniture) {
			t.Errorf("page furniture kept: %q", furniture)
		}
	}
	if strings.Count(res.Text, "\n\n") < paragraphs-1 {
		t.Errorf("paragraphs not separated by blank lines")
	}
	if res.Title != seed.Title {
		t.Errorf("title %q, want %q", res.Title, seed.Title)
	}
	if want := time.Date(2023, 11, 11, 1, 26, 21, 0, time.UTC); !res.PublishedAt.Equal(want) {
		t.Errorf("published %v, want %v", res.PublishedAt, want)
	}
	if len(res.Authors) != 1 || res.Authors[0] != "Livemint" {
		t.Errorf("authors %q", res.Authors)
	}
	if res.CanonicalURL != seedBase+seed.Path || res.Lang != "en" || res.SiteName != "mint" || !strings.HasSuffix(res.Image, ".jpg") {
		t.Errorf("metadata: %+v", res)
	}
}

// TestUnrelatedPagesKeepLookalikes makes sure the words a careless matcher
// trips on survive extraction, so the analyzer tests see them.
func TestUnrelatedPagesKeepLookalikes(t *testing.T) {
	var text strings.Builder
	for _, p := range demosite.Pages() {
		if p.Seed {
			continue
		}
		page, _ := demosite.PageHTML(p, "http://demo.test")
		res, err := extract.New().Extract(page, "http://demo.test"+p.Path)
		if err != nil {
			t.Fatal(err)
		}
		text.WriteString(res.Text)
	}
	for _, w := range []string{"squad", "quad bikes"} {
		if !strings.Contains(text.String(), w) {
			t.Errorf("%q lost in extraction", w)
		}
	}
}

func TestMetadata(t *testing.T) {
	const body = `<article><p>` + para + `</p><p>` + para + `</p></article>`
	tests := []struct {
		name  string
		lang  string // the <html lang> attribute
		head  string
		body  string
		check func(t *testing.T, r *extract.Result)
	}{
		{
			name: "json-ld NewsArticle beats OpenGraph",
			head: `<meta property="og:title" content="OG title"><meta property="article:published_time" content="2020-01-01T00:00:00Z">
<script type="application/ld+json">{"@context":"https://schema.org","@type":"NewsArticle","headline":"LD headline","datePublished":"2023-11-11T06:56:21+05:30","dateModified":"2023-11-12T10:00:00Z","author":[{"@type":"Person","name":"Asha Rao"},{"@type":"Person","name":"Tom Hill"}],"image":{"@type":"ImageObject","url":"/img/a.jpg"},"inLanguage":"en-IN","publisher":{"@type":"Organization","name":"Daily Planet"}}</script>`,
			check: func(t *testing.T, r *extract.Result) {
				expect(t, "title", r.Title, "LD headline")
				expect(t, "published", r.PublishedAt.UTC().Format(time.RFC3339), "2023-11-11T01:26:21Z")
				expect(t, "modified", r.ModifiedAt.UTC().Format(time.RFC3339), "2023-11-12T10:00:00Z")
				expect(t, "authors", strings.Join(r.Authors, "|"), "Asha Rao|Tom Hill")
				expect(t, "image", r.Image, "https://news.example/img/a.jpg")
				expect(t, "lang", r.Lang, "en-IN")
				expect(t, "site", r.SiteName, "Daily Planet")
			},
		},
		{
			name: "json-ld @graph with array type",
			head: `<script type="application/ld+json">{"@context":"https://schema.org","@graph":[{"@type":"WebSite","name":"Site"},{"@type":["Article","NewsArticle"],"headline":"Graph headline","author":{"@type":"Person","name":"By Jane Doe"},"datePublished":"2021-05-04"}]}</script>`,
			check: func(t *testing.T, r *extract.Result) {
				expect(t, "title", r.Title, "Graph headline")
				expect(t, "authors", strings.Join(r.Authors, "|"), "Jane Doe")
				expect(t, "published", r.PublishedAt.Format("2006-01-02"), "2021-05-04")
			},
		},
		{
			name: "broken json-ld falls back to OpenGraph and meta",
			head: `<script type="application/ld+json">{"@type": "NewsArticle", "headline": </script>
<meta property="og:title" content="OG title"><meta property="og:site_name" content="OG Site"><meta property="og:image" content="https://cdn.example/x.png">
<meta property="article:published_time" content="2022-02-03T04:05:06+01:00"><meta name="author" content="Kim Lee and Sam Park"><meta property="og:locale" content="de_DE">`,
			check: func(t *testing.T, r *extract.Result) {
				expect(t, "title", r.Title, "OG title")
				expect(t, "site", r.SiteName, "OG Site")
				expect(t, "image", r.Image, "https://cdn.example/x.png")
				expect(t, "published", r.PublishedAt.UTC().Format(time.RFC3339), "2022-02-03T03:05:06Z")
				expect(t, "authors", strings.Join(r.Authors, "|"), "Kim Lee|Sam Park")
				expect(t, "lang", r.Lang, "de-DE")
			},
		},
		{
			name: "twitter card only",
			head: `<meta name="twitter:title" content="Tweet title"><meta name="twitter:image" content="/t.jpg">`,
			check: func(t *testing.T, r *extract.Result) {
				expect(t, "title", r.Title, "Tweet title")
				expect(t, "image", r.Image, "https://news.example/t.jpg")
			},
		},
		{
			name: "visible page only: title tag, h1, time element, byline",
			lang: "es",
			head: `<title>Floods close schools | The Courier</title>`,
			body: `<header><a href="/">Home</a></header><article><h1>Floods close schools</h1><div class="byline">By Maria Gomez</div><time datetime="2024-03-02T08:00:00Z">2 March</time><p>` + para + `</p><p>` + para + `</p></article>`,
			check: func(t *testing.T, r *extract.Result) {
				expect(t, "title", r.Title, "Floods close schools")
				expect(t, "authors", strings.Join(r.Authors, "|"), "Maria Gomez")
				expect(t, "published", r.PublishedAt.Format(time.RFC3339), "2024-03-02T08:00:00Z")
				expect(t, "canonical", r.CanonicalURL, "https://news.example/story")
				expect(t, "lang", r.Lang, "es")
				if strings.Contains(r.Text, "Maria Gomez") || strings.Contains(r.Text, "Floods close schools") {
					t.Errorf("byline or headline kept in text: %q", r.Text)
				}
			},
		},
		{
			name: "title tag with site suffix, relative canonical",
			head: `<title>Quarterly results beat forecasts - Business Daily</title><link rel="canonical" href="/business/q3">`,
			check: func(t *testing.T, r *extract.Result) {
				expect(t, "title", r.Title, "Quarterly results beat forecasts")
				expect(t, "canonical", r.CanonicalURL, "https://news.example/business/q3")
			},
		},
	}
	ex := extract.New()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := tt.body
			if b == "" {
				b = body
			}
			page := `<!DOCTYPE html><html lang="` + tt.lang + `"><head><meta charset="utf-8">` + tt.head + `</head><body>` + b + `</body></html>`
			r, err := ex.Extract([]byte(page), "https://news.example/story")
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, r)
		})
	}
}

const para = "The council said on Tuesday that it would reopen the bridge, which carries about 40,000 vehicles a day, once engineers had finished their inspection of the damaged piers."

func expect(t *testing.T, field, got, want string) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %q, want %q", field, got, want)
	}
}

func TestBadInput(t *testing.T) {
	seed, _ := demosite.PageHTML(demosite.SeedPage(), seedBase)
	tests := []struct {
		name string
		page []byte
		want error // nil: must succeed
	}{
		{"empty", nil, extract.ErrNoContent},
		{"whitespace", []byte(" \n\t "), extract.ErrNoContent},
		{"nested deeper than the parser allows", []byte("<html><body>" + strings.Repeat("<div>", 600) + "deep" + strings.Repeat("</div>", 600) + "</body></html>"), extract.ErrTooDeep},
		{"nested just within the limit", []byte("<html><body>" + strings.Repeat("<div>", 400) + "<p>" + para + "</p>" + strings.Repeat("</div>", 400) + "</body></html>"), nil},
		{"truncated mid-article", seed[:len(seed)*2/3], nil},
		{"truncated in the head", seed[:600], extract.ErrNoContent},
		{"only navigation", []byte(`<html><body><nav><a href="/a">Home</a> <a href="/b">World</a></nav><footer>© 2024</footer></body></html>`), extract.ErrNoContent},
		{"PNG image", []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01"), extract.ErrNotHTML},
		{"PDF", []byte("%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"), extract.ErrNotHTML},
		{"plain text", []byte("just a line of text, not a web page at all, with no markup"), extract.ErrNotHTML},
		{"JSON", []byte(`{"title": "not a page", "items": [1, 2, 3]}`), extract.ErrNotHTML},
	}
	ex := extract.New()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := ex.Extract(tt.page, "https://news.example/x")
			if tt.want == nil {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				if len(res.Text) < 100 {
					t.Errorf("text too short: %q", res.Text)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("error %v, want %v", err, tt.want)
			}
			if !strings.HasPrefix(err.Error(), "extract: ") || !strings.Contains(err.Error(), "https://news.example/x") {
				t.Errorf("error %q should be package-prefixed and name the page", err)
			}
		})
	}
}

func TestSiteRules(t *testing.T) {
	page := []byte(`<html><body>
<div class="story"><p>` + para + `</p><div class="promo-inline"><p>` + strings.Repeat("Buy our fine souvenir mugs today, they are very good mugs. ", 3) + `</p></div></div>
<div class="sidebar-story"><p>` + strings.Repeat("A sidebar story that scoring alone would pick, because it is long, and it has commas, many commas, ", 5) + `</p></div>
</body></html>`)
	tests := []struct {
		name    string
		rules   map[string]extract.SiteRule
		url     string
		want    []string
		notWant []string
		wantErr error
	}{
		{"keep and remove apply to their host", map[string]extract.SiteRule{"www.paper.example": {Keep: []string{"div.story"}, Remove: []string{".promo-inline"}}},
			"https://paper.example/a", []string{"reopen the bridge"}, []string{"souvenir", "sidebar story"}, nil},
		{"other hosts are untouched", map[string]extract.SiteRule{"other.example": {Keep: []string{"div.story"}}},
			"https://paper.example/a", []string{"sidebar story"}, nil, nil},
		{"bad selector is reported", map[string]extract.SiteRule{"paper.example": {Keep: []string{"div[["}}},
			"https://paper.example/a", nil, nil, extract.ErrBadSelector},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := extract.New(extract.WithSiteRules(tt.rules)).Extract(page, tt.url)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("error %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.want {
				if !strings.Contains(res.Text, w) {
					t.Errorf("missing %q in %q", w, res.Text)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(res.Text, w) {
					t.Errorf("kept %q in %q", w, res.Text)
				}
			}
		})
	}
}

// TestConcurrentUse runs one Extractor from many goroutines; -race checks it.
func TestConcurrentUse(t *testing.T) {
	ex := extract.New(extract.WithSiteRules(map[string]extract.SiteRule{"example.org": {Remove: []string{".ad"}}}))
	pages := goldenPages(t)
	var wg sync.WaitGroup
	for range 4 {
		for _, p := range pages {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := ex.Extract(p.html, p.url); err != nil {
					t.Error(err)
				}
			}()
		}
	}
	wg.Wait()
}

func FuzzExtract(f *testing.F) {
	seed, _ := demosite.PageHTML(demosite.SeedPage(), seedBase)
	f.Add(seed[:4000])
	f.Add([]byte(`<html><head><script type="application/ld+json">{"@graph":[{"@type":"NewsArticle","author":[{"name":"x"}]}]}</script></head><body><article><p>` + para + `</p></article></body></html>`))
	f.Add([]byte(`<p>a<p>b<table><tr><td>` + para + `<figure><figcaption>c</figcaption></figure>`))
	f.Add([]byte(strings.Repeat("<div>", 520)))
	f.Add([]byte("<ruby>字<rt>じ</rt></ruby><noscript><p>" + para + "</p></noscript>"))
	ex := extract.New()
	f.Fuzz(func(t *testing.T, page []byte) {
		res, err := ex.Extract(page, "https://fuzz.example/a")
		if err != nil {
			if !errors.Is(err, extract.ErrNoContent) && !errors.Is(err, extract.ErrNotHTML) && !errors.Is(err, extract.ErrTooDeep) {
				t.Fatalf("error outside the documented set: %v", err)
			}
			return
		}
		if utf8.Valid(page) && !utf8.ValidString(res.Text) {
			t.Fatalf("invalid UTF-8 text from valid input")
		}
		if strings.Contains(res.Text, "\n\n\n") {
			t.Fatalf("empty paragraph in output")
		}
	})
}

// A page without a body still yields its metadata, for the feed fallback.
func TestNoContentKeepsMetadata(t *testing.T) {
	page := []byte(`<html lang="en"><head><meta property="og:title" content="Live: markets open"><meta property="article:published_time" content="2024-05-06T09:15:00Z"></head><body><nav><a href="/">Home</a></nav><div id="app"></div></body></html>`)
	res, err := extract.New().Extract(page, "https://news.example/live")
	if !errors.Is(err, extract.ErrNoContent) {
		t.Fatalf("error %v, want ErrNoContent", err)
	}
	if res == nil || res.Title != "Live: markets open" || res.PublishedAt.IsZero() || res.Lang != "en" {
		t.Errorf("metadata lost: %+v", res)
	}
}

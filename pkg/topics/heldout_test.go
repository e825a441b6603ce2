package topics

import (
	"bufio"
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// heldOutFloors are F1 floors 0.05 below what the learned model scores on
// the composed held-out sets (testdata/heldout/README.md), rounded down.
// The model was chosen by cross-validation on the training items only;
// these sets were scored once with it and used for no choice. The floors
// of the taxonomy scorer they replace were higher because it had been
// tuned on four of these sets; composed headlines are cleaner than real
// ones, so real-news quality is measured elsewhere (docs/topics.md).
var heldOutFloors = []struct {
	file  string
	floor map[string]float64
}{
	{"testdata/heldout/items.jsonl", map[string]float64{dc: 0.84, ter: 0.88}},
	{"testdata/heldout/fresh.jsonl", map[string]float64{dc: 0.80, ter: 0.87}},
	{"testdata/heldout/blind.jsonl", map[string]float64{dc: 0.73, ter: 0.76}},
	{"testdata/heldout/fourth.jsonl", map[string]float64{dc: 0.79, ter: 0.78}},
	{"testdata/heldout/fifth.jsonl", map[string]float64{dc: 0.80, ter: 0.76}},
	{"testdata/heldout/sixth.jsonl", map[string]float64{dc: 0.86, ter: 0.84}},
}

type labelled struct {
	ID     string   `json:"id"`
	Title  string   `json:"title"`
	Text   string   `json:"text"`
	Topics []string `json:"topics"`
}

func readLabelled(t *testing.T, path string) []labelled {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []labelled
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var it labelled
		if err := json.Unmarshal(sc.Bytes(), &it); err != nil {
			t.Fatalf("%s:%d: %v", path, n, err)
		}
		out = append(out, it)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestHeldOut(t *testing.T) {
	c := defaultClassifier(t)
	for _, set := range heldOutFloors {
		t.Run(set.file, func(t *testing.T) {
			items := readLabelled(t, set.file)
			if len(items) < 50 {
				t.Fatalf("%s: %d items, want the whole set", set.file, len(items))
			}
			for _, topic := range []string{dc, ter} {
				var tp, fp, fn int
				for _, it := range items {
					got := slices.Contains(names(c.Classify(it.Title, it.Text)), topic)
					want := slices.Contains(it.Topics, topic)
					switch {
					case got && want:
						tp++
					case got:
						fp++
						t.Logf("%s false alarm: %s", topic, it.Title)
					case want:
						fn++
						t.Logf("%s missed: %s", topic, it.Title)
					}
				}
				f1 := 2 * float64(tp) / float64(2*tp+fp+fn)
				t.Logf("%s: tp=%d fp=%d fn=%d F1=%.3f", topic, tp, fp, fn, f1)
				if f1 < set.floor[topic] {
					t.Errorf("%s: F1 %.3f below the floor %.2f", topic, f1, set.floor[topic])
				}
			}
		})
	}
}

// htmlText returns the title and the visible paragraph text of a page.
func htmlText(t *testing.T, path string) (title, text string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := html.Parse(f)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	var walk func(n *html.Node, skip bool)
	walk = func(n *html.Node, skip bool) {
		if n.Type == html.ElementNode {
			switch n.Data {
			case "script", "style", "nav", "footer":
				skip = true
			case "title":
				if n.FirstChild != nil && title == "" {
					title = strings.TrimSpace(n.FirstChild.Data)
				}
				return
			case "p", "h1", "h2", "h3", "li", "div", "br":
				b.WriteString("\n")
			}
		}
		if n.Type == html.TextNode && !skip {
			b.WriteString(n.Data)
		}
		for ch := n.FirstChild; ch != nil; ch = ch.NextSibling {
			walk(ch, skip)
		}
	}
	walk(doc, false)
	return title, b.String()
}

// TestDemoSitePages checks the pages the demo site serves: the 2+2 page
// carries both topics, the cricket and monsoon pages neither.
func TestDemoSitePages(t *testing.T) {
	c := defaultClassifier(t)
	for _, tc := range []struct {
		page string
		want []string
	}{
		{"india-us-2plus2.html", []string{dc, ter}},
		{"ranji-bengal-saurashtra.html", nil},
		{"monsoon-reservoirs-markets.html", nil},
	} {
		t.Run(tc.page, func(t *testing.T) {
			title, text := htmlText(t, "../demosite/site/"+tc.page)
			if got := mainNames(c.Classify(title, text)); !slices.Equal(got, tc.want) {
				t.Errorf("Classify(%q) = %v, want %v", title, got, tc.want)
			}
		})
	}
}

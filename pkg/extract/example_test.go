package extract_test

import (
	"fmt"

	"github.com/newswatch/newswatch/pkg/extract"
)

func ExampleExtractor_Extract() {
	page := []byte(`<!DOCTYPE html><html lang="en"><head>
<title>Bridge to reopen | The Courier</title>
<script type="application/ld+json">{"@type":"NewsArticle","headline":"Bridge to reopen after inspection","datePublished":"2024-03-02T08:00:00Z","author":{"@type":"Person","name":"Maria Gomez"}}</script>
</head><body>
<nav><a href="/">Home</a> <a href="/world">World</a> <a href="/sport">Sport</a></nav>
<article>
  <h1>Bridge to reopen after inspection</h1>
  <div class="share-bar"><a href="#">Share on Facebook</a></div>
  <p>The council said on Tuesday that it would reopen the bridge, which carries about 40,000 vehicles a day, once engineers had finished their inspection.</p>
  <p><strong>Also Read: <a href="/other">Ferry timetable changes from May</a></strong></p>
  <p>Repairs to two damaged piers are expected to take another week, the council added, and buses will keep using the diversion until then.</p>
</article>
<footer>© 2024 The Courier</footer>
</body></html>`)
	res, err := extract.New().Extract(page, "https://courier.example/news/bridge")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(res.Title)
	fmt.Println(res.Authors, res.PublishedAt.Format("2006-01-02"), res.Lang)
	fmt.Println(res.Text)
	// Output:
	// Bridge to reopen after inspection
	// [Maria Gomez] 2024-03-02 en
	// The council said on Tuesday that it would reopen the bridge, which carries about 40,000 vehicles a day, once engineers had finished their inspection.
	//
	// Repairs to two damaged piers are expected to take another week, the council added, and buses will keep using the diversion until then.
}

func ExampleDecodeHTML() {
	latin1 := []byte("<p>Gr\xfc\xdfe aus M\xfcnchen</p>") // ISO-8859-1 bytes
	page, err := extract.DecodeHTML(latin1, "text/html; charset=ISO-8859-1")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(string(page))
	// Output: <p>Grüße aus München</p>
}

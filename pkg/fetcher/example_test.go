package fetcher_test

import (
	"fmt"
	"strings"

	"github.com/newswatch/newswatch/pkg/fetcher"
)

func ExampleCanonicalURL() {
	fmt.Println(fetcher.CanonicalURL("https://WWW.Example.com:443/world/story?utm_source=rss&id=7&fbclid=abc#comments"))
	// Output: https://www.example.com/world/story?id=7
}

func ExampleParseOPML() {
	feeds, err := fetcher.ParseOPML(strings.NewReader(`<opml version="2.0"><body>
  <outline text="Defence">
    <outline text="Wire" xmlUrl="https://wire.example/rss.xml"/>
    <outline text="Ministry" xmlUrl="https://mod.example/atom"/>
  </outline>
</body></opml>`))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, f := range feeds {
		fmt.Println(f.Title, f.URL)
	}
	// Output:
	// Wire https://wire.example/rss.xml
	// Ministry https://mod.example/atom
}

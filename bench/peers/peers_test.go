package peers_test

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/newswatch/newswatch/bench/peers"
)

func TestExtract(t *testing.T) {
	page, err := os.ReadFile("testdata/article.html")
	if err != nil {
		t.Fatal(err)
	}
	for _, engine := range []string{peers.Trafilatura, peers.Readability} {
		t.Run(engine, func(t *testing.T) {
			res, err := peers.Extract(engine, page, "https://news.example/2024/05/drones.html")
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(res.Text, "The two governments agreed") {
				t.Errorf("body text lacks the story's first paragraph:\n%s", res.Text)
			}
			if strings.Contains(res.Text, "Most read today") {
				t.Errorf("body text holds the sidebar:\n%s", res.Text)
			}
		})
	}
}

func TestExtractUnknownEngine(t *testing.T) {
	_, err := peers.Extract("goose", []byte("<p>x</p>"), "https://news.example/")
	if !errors.Is(err, peers.ErrUnknownEngine) {
		t.Fatalf("err = %v, want ErrUnknownEngine", err)
	}
}

package peers

import (
	"bytes"
	"errors"
	"fmt"
	nurl "net/url"
	"strings"

	readability "codeberg.org/readeck/go-readability/v2"
	trafilatura "github.com/markusmobius/go-trafilatura"
)

// Engine names accepted by Extract.
const (
	Trafilatura = "trafilatura"
	Readability = "readability"
)

// Sentinel errors.
var (
	// ErrUnknownEngine means the engine is neither "trafilatura" nor "readability".
	ErrUnknownEngine = errors.New("peers: unknown engine (want trafilatura or readability)")
	// ErrNoContent means the engine found no article text.
	ErrNoContent = errors.New("peers: no article text found")
)

// Result is what a peer found on a page, in the fields `newswatch extract`
// prints.
type Result struct {
	Title string
	Text  string
}

// Extract runs engine on the raw page fetched from pageURL. Both engines
// detect the page's character set themselves. go-trafilatura runs as its
// own command does by default: fallback to its bundled readability and
// dom-distiller enabled, comments left out of the text.
func Extract(engine string, page []byte, pageURL string) (*Result, error) {
	u, err := nurl.Parse(pageURL)
	if err != nil {
		return nil, fmt.Errorf("peers: page URL %q: %w", pageURL, err)
	}
	switch engine {
	case Trafilatura:
		res, err := trafilatura.Extract(bytes.NewReader(page), trafilatura.Options{
			OriginalURL:     u,
			EnableFallback:  true,
			ExcludeComments: true,
		})
		if err != nil {
			return nil, fmt.Errorf("%w: trafilatura: %s: %v", ErrNoContent, pageURL, err)
		}
		return &Result{Title: res.Metadata.Title, Text: strings.TrimSpace(res.ContentText)}, nil
	case Readability:
		art, err := readability.FromReader(bytes.NewReader(page), u)
		if err != nil {
			return nil, fmt.Errorf("%w: readability: %s: %v", ErrNoContent, pageURL, err)
		}
		var b strings.Builder
		if art.Node != nil {
			if err := art.RenderText(&b); err != nil {
				return nil, fmt.Errorf("%w: readability: %s: %v", ErrNoContent, pageURL, err)
			}
		}
		return &Result{Title: art.Title(), Text: strings.TrimSpace(b.String())}, nil
	}
	return nil, fmt.Errorf("%w: %q", ErrUnknownEngine, engine)
}

package extract

import (
	"bytes"
	"fmt"
	"mime"
	"net/http"
	"regexp"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/html/charset"
	"golang.org/x/text/encoding"
	"golang.org/x/text/transform"
)

// metaCharset finds a charset declaration anywhere in the head, because
// DetermineEncoding's prescan only looks at the first 1024 bytes and many
// pages put dozens of scripts before their <meta charset>.
var metaCharset = regexp.MustCompile(`(?i)<meta[^>]+charset\s*=\s*["']?\s*([a-z0-9_.:-]+)`)

// DecodeHTML converts a page body to UTF-8, trusting in order a byte-order
// mark, the Content-Type header's charset and a <meta> declaration. Pages
// that declare a legacy charset but are valid UTF-8 are taken as UTF-8: that
// mislabelling is common and the reverse is very unlikely by chance. It
// returns ErrNotHTML for bodies that are clearly not HTML (images, PDFs, JSON
// by Content-Type, binary data).
func DecodeHTML(body []byte, contentType string) ([]byte, error) {
	if err := checkHTML(body, contentType); err != nil {
		return nil, err
	}
	enc, name, certain := charset.DetermineEncoding(body, contentType)
	if !certain {
		if name == "windows-1252" {
			// DetermineEncoding fell back to its default: look further.
			prefix := body
			if len(prefix) > 64<<10 {
				prefix = prefix[:64<<10]
			}
			if m := metaCharset.FindSubmatch(prefix); m != nil {
				if e, n := charset.Lookup(string(m[1])); e != nil {
					enc, name = e, n
				}
			}
		}
		if name != "utf-8" && utf8.Valid(body) && hasHighBit(body) {
			enc, name = encoding.Nop, "utf-8"
		}
	}
	if bytes.HasPrefix(body, []byte("\xef\xbb\xbf")) {
		body = body[3:]
		enc, name = encoding.Nop, "utf-8"
	}
	if name == "utf-8" || enc == encoding.Nop {
		if utf8.Valid(body) {
			return body, nil
		}
		// Invalid bytes in a UTF-8 page: keep the valid text, replace the rest.
		return bytes.ToValidUTF8(body, []byte("\uFFFD")), nil
	}
	out, _, err := transform.Bytes(enc.NewDecoder(), body)
	if err != nil {
		return nil, fmt.Errorf("extract: decoding %s page: %w", name, err)
	}
	return out, nil
}

func hasHighBit(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 {
			return true
		}
	}
	return false
}

// checkHTML rejects bodies that no amount of decoding will make a page.
func checkHTML(body []byte, contentType string) error {
	if contentType != "" {
		mt, _, err := mime.ParseMediaType(contentType)
		if err == nil {
			switch {
			case mt == "text/html", mt == "application/xhtml+xml", mt == "text/plain",
				strings.HasSuffix(mt, "/xml"), strings.HasSuffix(mt, "+xml"),
				mt == "application/octet-stream":
			default:
				return fmt.Errorf("%w: content type %q", ErrNotHTML, mt)
			}
		}
	}
	sniff := body
	if len(sniff) > 512 {
		sniff = sniff[:512]
	}
	if bytes.IndexByte(sniff, 0) >= 0 && !bytes.HasPrefix(body, []byte("\xff\xfe")) && !bytes.HasPrefix(body, []byte("\xfe\xff")) {
		return fmt.Errorf("%w: binary data (%s)", ErrNotHTML, http.DetectContentType(body))
	}
	switch dt := http.DetectContentType(body); {
	case strings.HasPrefix(dt, "image/"), strings.HasPrefix(dt, "audio/"), strings.HasPrefix(dt, "video/"),
		dt == "application/pdf", dt == "application/zip", dt == "application/x-gzip":
		return fmt.Errorf("%w: body is %s", ErrNotHTML, dt)
	}
	return nil
}

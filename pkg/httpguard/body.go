package httpguard

import (
	"bufio"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"fmt"
	"io"
	"math"
	"net/http"
	"strings"
	"sync"

	"github.com/andybalholm/brotli"
)

// acceptEncoding is what the client asks for; it decodes each of these
// itself.
const acceptEncoding = "gzip, deflate, br"

// maxEncodingLayers bounds "Content-Encoding: gzip, gzip, ..." chains; real
// servers send one.
const maxEncodingLayers = 2

// guardTransport adds the client's request headers, refuses unsupported
// schemes and wraps every response body in the decoding, size-limited body.
// It sits in front of http.Transport, so every redirect hop goes through it.
type guardTransport struct {
	c    *Client
	next http.RoundTripper
}

func (t *guardTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := checkScheme(req.URL); err != nil {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, err
	}
	if req.Header.Get("User-Agent") == "" || req.Header.Get("Accept-Encoding") == "" {
		// A RoundTripper must not modify the caller's request.
		req = req.Clone(req.Context())
		if req.Header.Get("User-Agent") == "" {
			req.Header.Set("User-Agent", t.c.opts.userAgent)
		}
		if req.Header.Get("Accept-Encoding") == "" {
			req.Header.Set("Accept-Encoding", acceptEncoding)
		}
	}
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	if err := wrapBody(resp, t.c.opts.maxBodyBytes); err != nil {
		resp.Body.Close()
		return nil, err
	}
	return resp, nil
}

// wrapBody replaces resp.Body with a body that decodes Content-Encoding and
// stops at max decoded bytes.
func wrapBody(resp *http.Response, max int64) error {
	if resp.Body == nil || resp.Body == http.NoBody {
		return nil
	}
	where := resp.Request.URL.Redacted()
	encs, err := parseEncodings(resp.Header.Values("Content-Encoding"))
	if err != nil {
		return fmt.Errorf("%w from %s: %w", ErrContentEncoding, where, err)
	}
	b := &body{raw: resp.Body, encs: encs, max: max, declared: resp.ContentLength, where: where}
	resp.Body = b
	if len(encs) > 0 {
		resp.Header.Del("Content-Encoding")
		resp.Header.Del("Content-Length")
		resp.ContentLength = -1
		resp.Uncompressed = true
		b.declared = -1
	}
	return nil
}

func parseEncodings(values []string) ([]string, error) {
	var encs []string
	for _, v := range values {
		for e := range strings.SplitSeq(v, ",") {
			e = strings.ToLower(strings.TrimSpace(e))
			switch e {
			case "", "identity":
				continue
			case "x-gzip":
				e = "gzip"
			case "gzip", "deflate", "br":
			default:
				return nil, fmt.Errorf("unsupported Content-Encoding %q (the client asked for %q)", e, acceptEncoding)
			}
			encs = append(encs, e)
		}
	}
	if len(encs) > maxEncodingLayers {
		return nil, fmt.Errorf("Content-Encoding has %d layers, more than %d", len(encs), maxEncodingLayers)
	}
	return encs, nil
}

// body decodes lazily, on the first Read, so that responses which carry a
// Content-Encoding header but no bytes (HEAD-like, 204, 304) cost nothing.
type body struct {
	raw      io.ReadCloser
	encs     []string
	max      int64
	declared int64 // Content-Length of an unencoded body, or -1
	where    string

	wire *wireReader // counts compressed bytes; nil for unencoded bodies
	dec  io.Reader
	// pooled holds the decoders and buffers borrowed for this body. They
	// go back to their pools only at a clean end of stream, after which
	// Read never touches them again; that keeps a Close racing a Read
	// from handing a decoder in use to another response.
	pooled []any
	n      int64 // decoded bytes delivered
	err    error // sticky
	eof    bool
}

func (b *body) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	if len(p) == 0 {
		return 0, nil
	}
	if b.dec == nil {
		if err := b.init(); err != nil {
			b.err = err
			return 0, err
		}
	}
	// Ask for at most one byte past the limit: enough to know it was passed.
	if room := b.max - b.n + 1; int64(len(p)) > room {
		p = p[:room]
	}
	n, err := b.dec.Read(p)
	b.n += int64(n)
	if b.n > b.max {
		n -= int(b.n - b.max)
		b.n = b.max
		b.err = b.tooLarge()
		return n, b.err
	}
	switch {
	case err == nil:
	case err == io.EOF:
		b.eof = true
		b.release()
		b.err = io.EOF
	default:
		b.err = b.readErr(err)
	}
	return n, b.err
}

func (b *body) init() error {
	if len(b.encs) == 0 {
		if b.declared > b.max {
			return b.tooLarge()
		}
		b.dec = b.raw
		return nil
	}
	// The wire is capped too, a little above the decoded limit, so that a
	// stream which decodes to nothing (empty gzip members, empty deflate
	// blocks) cannot be fed in for ever.
	wireMax := int64(math.MaxInt64)
	if b.max < math.MaxInt64/4 {
		wireMax = b.max + b.max/8 + 64<<10
	}
	b.wire = &wireReader{r: b.raw, max: wireMax}
	var r io.Reader = b.wire
	for i := len(b.encs) - 1; i >= 0; i-- {
		br := getBufio(r)
		b.pooled = append(b.pooled, br)
		if _, err := br.Peek(1); err == io.EOF {
			b.release()
			b.dec = strings.NewReader("")
			return nil
		}
		switch b.encs[i] {
		case "gzip":
			zr, err := getGzip(br)
			if err != nil {
				return b.readErr(err)
			}
			b.pooled = append(b.pooled, zr)
			r = zr
		case "deflate":
			zr, err := newDeflateReader(br)
			if err != nil {
				return b.readErr(err)
			}
			r = zr
		case "br":
			zr := getBrotli(br)
			b.pooled = append(b.pooled, zr)
			r = zr
		}
	}
	b.dec = r
	return nil
}

// newDeflateReader accepts both what RFC 9110 calls deflate (a zlib stream)
// and the raw DEFLATE that some servers send under that name.
func newDeflateReader(br *bufio.Reader) (io.Reader, error) {
	h, err := br.Peek(2)
	if err == nil && h[0]&0x0f == 8 && (uint16(h[0])<<8|uint16(h[1]))%31 == 0 {
		return zlib.NewReader(br)
	}
	return flate.NewReader(br), nil
}

// readErr tells network errors, passed through so timeouts stay timeouts,
// from errors of the decoder itself.
func (b *body) readErr(err error) error {
	if b.wire == nil {
		return err
	}
	if b.wire.exceeded {
		return b.tooLarge()
	}
	if b.wire.err != nil && b.wire.err != io.EOF {
		return err
	}
	return fmt.Errorf("%w: %s body from %s: %w", ErrContentEncoding, strings.Join(b.encs, ", "), b.where, err)
}

func (b *body) tooLarge() error {
	if b.wire != nil && b.wire.exceeded {
		return fmt.Errorf("%w: %s sent more than %d compressed bytes for a %d byte limit; raise fetcher.max_body_bytes (httpguard.WithMaxBodyBytes) if the source is trusted",
			ErrBodyTooLarge, b.where, b.wire.max, b.max)
	}
	return fmt.Errorf("%w: %s sent more than %d bytes (counted after decompression); raise fetcher.max_body_bytes (httpguard.WithMaxBodyBytes) if the source is trusted",
		ErrBodyTooLarge, b.where, b.max)
}

// Close closes the underlying body. When decoding finished cleanly it first
// drains a few trailing bytes (a chunked terminator, padding after a brotli
// stream) so the connection can go back to the keep-alive pool.
func (b *body) Close() error {
	if b.eof && b.wire != nil {
		_, _ = io.CopyN(io.Discard, b.raw, 4<<10)
	}
	return b.raw.Close()
}

// wireReader counts the bytes read off the wire and stops at max.
type wireReader struct {
	r        io.Reader
	n, max   int64
	exceeded bool
	err      error // last error from r
}

func (w *wireReader) Read(p []byte) (int, error) {
	if w.n >= w.max {
		// At the cap: a stream that ends exactly here is fine.
		var one [1]byte
		n, err := w.r.Read(one[:])
		if n == 0 && err != nil {
			w.err = err
			return 0, err
		}
		w.exceeded = true
		return 0, ErrBodyTooLarge
	}
	if int64(len(p)) > w.max-w.n {
		p = p[:w.max-w.n]
	}
	n, err := w.r.Read(p)
	w.n += int64(n)
	if err != nil {
		w.err = err
	}
	return n, err
}

// Decoders are pooled because each one carries tens to hundreds of KiB of
// window and tables, and the fetcher decodes every page it reads.
var (
	bufioPool  sync.Pool // *bufio.Reader
	gzipPool   sync.Pool // *gzip.Reader
	brotliPool sync.Pool // *brotli.Reader
)

func getBufio(r io.Reader) *bufio.Reader {
	if br, ok := bufioPool.Get().(*bufio.Reader); ok {
		br.Reset(r)
		return br
	}
	return bufio.NewReader(r)
}

func getGzip(r io.Reader) (*gzip.Reader, error) {
	if zr, ok := gzipPool.Get().(*gzip.Reader); ok {
		if err := zr.Reset(r); err != nil {
			return nil, err
		}
		return zr, nil
	}
	return gzip.NewReader(r)
}

func getBrotli(r io.Reader) *brotli.Reader {
	if zr, ok := brotliPool.Get().(*brotli.Reader); ok {
		_ = zr.Reset(r) // documented to always return nil
		return zr
	}
	return brotli.NewReader(r)
}

// release returns the borrowed decoders; only call it when no Read will use
// them again.
func (b *body) release() {
	for _, x := range b.pooled {
		switch v := x.(type) {
		case *bufio.Reader:
			v.Reset(nil)
			bufioPool.Put(v)
		case *gzip.Reader:
			gzipPool.Put(v)
		case *brotli.Reader:
			brotliPool.Put(v)
		}
	}
	b.pooled = nil
	b.dec = nil
}

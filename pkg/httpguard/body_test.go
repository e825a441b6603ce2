package httpguard

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/andybalholm/brotli"
)

func encode(t testing.TB, enc string, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	var w io.WriteCloser
	switch enc {
	case "gzip":
		w = gzip.NewWriter(&buf)
	case "zlib":
		w = zlib.NewWriter(&buf)
	case "flate":
		w, _ = flate.NewWriter(&buf, flate.DefaultCompression)
	case "br":
		w = brotli.NewWriterLevel(&buf, brotli.DefaultCompression)
	default:
		t.Fatalf("unknown encoding %q", enc)
	}
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// bomb compresses n zero bytes without holding them in memory.
func bomb(t testing.TB, enc string, n int64) []byte {
	t.Helper()
	var buf bytes.Buffer
	var w io.WriteCloser
	switch enc {
	case "gzip":
		w, _ = gzip.NewWriterLevel(&buf, gzip.BestCompression)
	case "flate":
		w, _ = flate.NewWriter(&buf, flate.BestCompression)
	case "br":
		w = brotli.NewWriterLevel(&buf, 1)
	}
	zeros := make([]byte, 64<<10)
	for n > 0 {
		k := min(n, int64(len(zeros)))
		if _, err := w.Write(zeros[:k]); err != nil {
			t.Fatal(err)
		}
		n -= k
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// noise is incompressible, deterministic text.
func noise(n int) []byte {
	r := rand.New(rand.NewPCG(1, 2))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('a' + r.IntN(26))
	}
	return b
}

func truncated(b []byte, n int) []byte {
	if len(b) <= n {
		panic("fixture too short to truncate")
	}
	return b[:n]
}

// payload is served as-is with the given Content-Encoding.
type payload struct {
	encoding string
	body     []byte
	chunked  bool // omit Content-Length
}

func payloadServer(t *testing.T, payloads map[string]payload) *countingServer {
	return newCountingServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := payloads[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if p.encoding != "" {
			w.Header().Set("Content-Encoding", p.encoding)
		}
		if !p.chunked {
			w.Header().Set("Content-Length", strconv.Itoa(len(p.body)))
		}
		if r.Method != http.MethodHead {
			_, _ = w.Write(p.body)
		}
	}))
}

func TestDecompression(t *testing.T) {
	page := []byte(strings.Repeat("<p>Defence ministry confirms the order.</p>\n", 200))
	srv := payloadServer(t, map[string]payload{
		"/identity":   {"", page, false},
		"/gzip":       {"gzip", encode(t, "gzip", page), false},
		"/x-gzip":     {"x-gzip", encode(t, "gzip", page), true},
		"/deflate":    {"deflate", encode(t, "zlib", page), false},
		"/raw-flate":  {"deflate", encode(t, "flate", page), false},
		"/br":         {"br", encode(t, "br", page), true},
		"/upper":      {"GZIP", encode(t, "gzip", page), false},
		"/gzip-br":    {"gzip, br", encode(t, "br", encode(t, "gzip", page)), false},
		"/identity-e": {"identity", page, false},
	})
	c := New(WithAllowPrivateNetworks(true))
	for _, path := range []string{"/identity", "/gzip", "/x-gzip", "/deflate", "/raw-flate", "/br", "/upper", "/gzip-br", "/identity-e"} {
		t.Run(path, func(t *testing.T) {
			resp, err := c.Get(t.Context(), srv.URL+path, nil)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(resp.Body, page) {
				t.Errorf("body is %d bytes, want the %d byte page", len(resp.Body), len(page))
			}
			if ce := resp.Header.Get("Content-Encoding"); ce != "" && ce != "identity" {
				t.Errorf("Content-Encoding %q left on a decoded response", ce)
			}
			if resp.ContentType != "text/html; charset=utf-8" {
				t.Errorf("ContentType = %q", resp.ContentType)
			}
		})
	}

	t.Run("HEAD with an encoding and no body", func(t *testing.T) {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodHead, srv.URL+"/gzip", nil)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil || len(b) != 0 {
			t.Errorf("HEAD body = %q, %v", b, err)
		}
	})
}

func TestBodyLimit(t *testing.T) {
	const limit = 64 << 10
	exact := bytes.Repeat([]byte("a"), limit)
	over := bytes.Repeat([]byte("a"), limit+1)
	payloads := map[string]payload{
		"/exact":             {"", exact, false},
		"/exact-chunked":     {"", exact, true},
		"/exact-gzip":        {"gzip", encode(t, "gzip", exact), true},
		"/over":              {"", over, false},
		"/over-chunked":      {"", over, true},
		"/over-gzip":         {"gzip", encode(t, "gzip", over), false},
		"/gzip-bomb":         {"gzip", bomb(t, "gzip", 4<<20), false},
		"/deflate-bomb":      {"deflate", bomb(t, "flate", 4<<20), true},
		"/br-bomb":           {"br", bomb(t, "br", 4<<20), false},
		"/double-gzip-bomb":  {"gzip, gzip", encode(t, "gzip", bomb(t, "gzip", 4<<20)), false},
		"/corrupt-gzip":      {"gzip", []byte("\x1f\x8b\x08\x00not really gzip at all"), false},
		"/not-gzip":          {"gzip", []byte("<html>plain text labelled gzip</html>"), false},
		"/truncated-br":      {"br", truncated(encode(t, "br", noise(limit/2)), 100), false},
		"/unknown-encoding":  {"zstd", []byte("whatever"), false},
		"/too-many-layers":   {"gzip, gzip, gzip", []byte("whatever"), false},
		"/empty-gzip-header": {"gzip", nil, false},
	}
	srv := payloadServer(t, payloads)
	tests := []struct {
		path       string
		wantReason string
		wantLen    int
	}{
		{"/exact", "", limit},
		{"/exact-chunked", "", limit},
		{"/exact-gzip", "", limit},
		{"/over", ReasonTooLarge, 0},
		{"/over-chunked", ReasonTooLarge, 0},
		{"/over-gzip", ReasonTooLarge, 0},
		{"/gzip-bomb", ReasonTooLarge, 0},
		{"/deflate-bomb", ReasonTooLarge, 0},
		{"/br-bomb", ReasonTooLarge, 0},
		{"/double-gzip-bomb", ReasonTooLarge, 0},
		{"/corrupt-gzip", ReasonDecode, 0},
		{"/not-gzip", ReasonDecode, 0},
		{"/truncated-br", ReasonDecode, 0},
		{"/unknown-encoding", ReasonDecode, 0},
		{"/too-many-layers", ReasonDecode, 0},
		{"/empty-gzip-header", "", 0},
	}
	c := New(WithAllowPrivateNetworks(true), WithMaxBodyBytes(limit))
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			if p := payloads[tt.path]; tt.wantReason == ReasonTooLarge && p.encoding != "" && len(p.body) >= limit {
				t.Fatalf("fixture %s is %d bytes compressed; a bomb must be smaller than the limit", tt.path, len(p.body))
			}
			resp, err := c.Get(t.Context(), srv.URL+tt.path, nil)
			if got := Reason(err); got != tt.wantReason {
				t.Fatalf("Reason(%v) = %q, want %q", err, got, tt.wantReason)
			}
			if tt.wantReason == ReasonTooLarge && !errors.Is(err, ErrBodyTooLarge) {
				t.Errorf("error %v does not wrap ErrBodyTooLarge", err)
			}
			if tt.wantReason == ReasonDecode && !errors.Is(err, ErrContentEncoding) {
				t.Errorf("error %v does not wrap ErrContentEncoding", err)
			}
			if err == nil && len(resp.Body) != tt.wantLen {
				t.Errorf("body length = %d, want %d", len(resp.Body), tt.wantLen)
			}
		})
	}

	t.Run("Do stops the stream exactly at the limit", func(t *testing.T) {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+"/gzip-bomb", nil)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		n, err := io.Copy(io.Discard, resp.Body)
		if !errors.Is(err, ErrBodyTooLarge) || n != limit {
			t.Errorf("copied %d bytes, error %v; want %d bytes and ErrBodyTooLarge", n, err, limit)
		}
		// The error sticks: a retrying reader must not get more bytes.
		if m, err := resp.Body.Read(make([]byte, 10)); m != 0 || !errors.Is(err, ErrBodyTooLarge) {
			t.Errorf("read after limit = %d, %v", m, err)
		}
	})
}

// TestHugeBodyWithoutContentLength streams 100 MB of chunked body at the
// default 10 MiB limit: the client must stop reading near the limit, and
// neither side may hold the whole body in memory.
func TestHugeBodyWithoutContentLength(t *testing.T) {
	const total = 100 << 20
	var written atomic.Int64
	handlerDone := make(chan struct{}, 1)
	srv := newCountingServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() { handlerDone <- struct{}{} }()
		chunk := make([]byte, 32<<10)
		for written.Load() < total {
			n, err := w.Write(chunk)
			written.Add(int64(n))
			if err != nil {
				return
			}
		}
	}))
	c := New(WithAllowPrivateNetworks(true))

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, err := c.Get(t.Context(), srv.URL, nil)
	runtime.ReadMemStats(&after)
	if !errors.Is(err, ErrBodyTooLarge) || Reason(err) != ReasonTooLarge {
		t.Fatalf("error = %v, want ErrBodyTooLarge", err)
	}
	if !strings.Contains(err.Error(), "10485760 bytes") {
		t.Errorf("error %q does not name the limit", err)
	}
	<-handlerDone
	if w := written.Load(); w >= total {
		t.Errorf("server wrote all %d bytes; the client should have hung up near the limit", w)
	}
	// Reading up to the 10 MiB limit costs some tens of MiB of buffer growth;
	// holding the 100 MB body would cost at least that much again.
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 64<<20 {
		t.Errorf("allocated %d MiB to refuse the body", alloc>>20)
	}
}

func TestKeepAlive(t *testing.T) {
	page := []byte(strings.Repeat("<p>Frigate sea trials resume.</p>", 100))
	payloads := map[string]payload{
		"/identity": {"", page, false},
		"/chunked":  {"", page, true},
		"/gzip":     {"gzip", encode(t, "gzip", page), true},
		"/deflate":  {"deflate", encode(t, "zlib", page), false},
		"/br":       {"br", encode(t, "br", page), true},
	}
	var newConns atomic.Int64
	srv := httptest.NewUnstartedServer(payloadServer(t, payloads).Config.Handler)
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			newConns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)

	t.Run("sequential requests share one connection", func(t *testing.T) {
		newConns.Store(0)
		c := New(WithAllowPrivateNetworks(true))
		for i := range 5 {
			for _, path := range []string{"/identity", "/chunked", "/gzip", "/deflate", "/br", "/missing"} {
				resp, err := c.Get(t.Context(), srv.URL+path, nil)
				if path == "/missing" {
					if Reason(err) != ReasonHTTPStatus {
						t.Fatalf("round %d %s: %v", i, path, err)
					}
					continue
				}
				if err != nil || !bytes.Equal(resp.Body, page) {
					t.Fatalf("round %d %s: error %v", i, path, err)
				}
			}
		}
		if n := newConns.Load(); n != 1 {
			t.Errorf("30 requests opened %d connections, want 1", n)
		}
	})

	t.Run("concurrent requests respect MaxConnsPerHost", func(t *testing.T) {
		newConns.Store(0)
		c := New(WithAllowPrivateNetworks(true), WithMaxConnsPerHost(2))
		var wg sync.WaitGroup
		errs := make(chan error, 16*10)
		for range 16 {
			wg.Go(func() {
				for _, path := range []string{"/gzip", "/br", "/identity", "/deflate", "/chunked"} {
					resp, err := c.Get(t.Context(), srv.URL+path, nil)
					if err == nil && !bytes.Equal(resp.Body, page) {
						err = errors.New(path + ": wrong body")
					}
					if err != nil {
						errs <- err
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		if n := newConns.Load(); n > 2 {
			t.Errorf("80 concurrent requests opened %d connections, want at most 2", n)
		}
	})
}

package httpguard

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func benchServer(b *testing.B, body []byte, encoding string) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if encoding != "" {
			w.Header().Set("Content-Encoding", encoding)
		}
		_, _ = w.Write(body)
	}))
	b.Cleanup(srv.Close)
	return srv
}

// BenchmarkGet measures Get on the keep-alive path against a local server:
// the per-request cost of the guard (headers, body wrapping, decoding) on
// top of net/http.
func BenchmarkGet(b *testing.B) {
	page := []byte(strings.Repeat("<p>Ministry of Defence announces procurement review.</p>\n", 1000)) // ~58 KB
	tests := []struct {
		name     string
		encoding string
		body     []byte
	}{
		{"identity", "", page},
		{"gzip", "gzip", encode(b, "gzip", page)},
		{"br", "br", encode(b, "br", page)},
	}
	for _, tt := range tests {
		b.Run(tt.name, func(b *testing.B) {
			srv := benchServer(b, tt.body, tt.encoding)
			c := New(WithAllowPrivateNetworks(true))
			ctx := b.Context()
			b.ReportAllocs()
			for b.Loop() {
				resp, err := c.Get(ctx, srv.URL, nil)
				if err != nil || len(resp.Body) != len(page) {
					b.Fatalf("Get: %v", err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
			b.ReportMetric(float64(b.N)*float64(len(page))/1e6/b.Elapsed().Seconds(), "MB/s")
		})
	}
}

// BenchmarkGetParallel is Get from many goroutines sharing one Client, as
// the fetcher's page workers do.
func BenchmarkGetParallel(b *testing.B) {
	page := []byte(strings.Repeat("<p>Ministry of Defence announces procurement review.</p>\n", 100))
	srv := benchServer(b, encode(b, "gzip", page), "gzip")
	c := New(WithAllowPrivateNetworks(true))
	ctx := b.Context()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			resp, err := c.Get(ctx, srv.URL, nil)
			if err != nil || len(resp.Body) != len(page) {
				b.Errorf("Get: %v", err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}

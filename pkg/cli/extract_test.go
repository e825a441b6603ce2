package cli

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/newswatch/newswatch/pkg/demosite"
)

func TestExtractCommand(t *testing.T) {
	srv := httptest.NewServer(demosite.Handler())
	defer srv.Close()
	seed := demosite.SeedPage()
	page, err := demosite.PageHTML(seed, srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "seed.html")
	if err := os.WriteFile(file, page, 0o644); err != nil {
		t.Fatal(err)
	}
	// The test server is on loopback, which only a configuration that
	// allows private networks may fetch.
	cfgFile := filepath.Join(t.TempDir(), "newswatch.yaml")
	if err := os.WriteFile(cfgFile, []byte("fetcher:\n  allow_private_networks: true\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	binary := filepath.Join(t.TempDir(), "image.png")
	if err := os.WriteFile(binary, []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  []string // substrings of stdout
		wantErr  []string // substrings of stderr
	}{
		{"fetch the URL", []string{"--config", cfgFile, "--url", srv.URL + seed.Path}, 0,
			[]string{`"title": "` + seed.Title, `"author": "Livemint"`, `"published_at": "2023-11-11T06:56:21+05:30"`, "31 MQ-9B drones", `"lang": "en"`}, nil},
		{"read a file, single-dash flags", []string{"-url", srv.URL + seed.Path, "-file", file}, 0,
			[]string{`"canonical_url": "` + srv.URL + seed.Path, "Quad with Japan and Australia"}, nil},
		{"missing page names the URL", []string{"--config", cfgFile, "--url", srv.URL + "/gone.html"}, 1, nil,
			[]string{srv.URL + "/gone.html", "404"}},
		{"loopback refused by default, naming the key", []string{"--url", srv.URL + seed.Path}, 1, nil,
			[]string{srv.URL + seed.Path, "refusing private network host", "fetcher.allow_private_networks"}},
		{"127.0.0.1 refused by default", []string{"--url", "http://127.0.0.1/"}, 1, nil,
			[]string{"127.0.0.1 is a loopback address", "fetcher.allow_private_networks"}},
		{"metadata address refused by default", []string{"--url", "http://169.254.169.254/latest/meta-data/"}, 1, nil,
			[]string{"169.254.169.254", "fetcher.allow_private_networks"}},
		{"a file needs no URL", []string{"--file", file}, 0,
			[]string{"31 MQ-9B drones", "Quad with Japan and Australia"}, nil},
		{"missing file names the file", []string{"--url", "https://x.example/a", "--file", file + ".nope"}, 1, nil,
			[]string{file + ".nope"}},
		{"not a page", []string{"--url", "https://x.example/a.png", "--file", binary}, 1, nil,
			[]string{binary, "not an HTML document"}},
		{"neither URL nor file", nil, 2, nil, []string{"give --url URL or --file FILE"}},
		{"help", []string{"-h"}, 0, []string{"usage: newswatch extract", "-config"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := Main(append([]string{"extract"}, tt.args...), strings.NewReader(""), &out, &errOut)
			if code != tt.wantCode {
				t.Fatalf("exit %d, want %d; stderr: %s", code, tt.wantCode, errOut.String())
			}
			for _, w := range tt.wantOut {
				if !strings.Contains(out.String(), w) {
					t.Errorf("stdout lacks %q:\n%s", w, out.String())
				}
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(errOut.String(), w) {
					t.Errorf("stderr lacks %q: %s", w, errOut.String())
				}
			}
			if code == 0 && strings.HasPrefix(out.String(), "{") {
				var v map[string]any
				if err := json.Unmarshal(out.Bytes(), &v); err != nil {
					t.Fatalf("stdout is not JSON: %v", err)
				}
				for _, k := range []string{"url", "canonical_url", "title", "author", "published_at", "lang", "image", "text"} {
					if _, ok := v[k]; !ok {
						t.Errorf("JSON lacks %q", k)
					}
				}
			}
		})
	}
}

// The fetch sends the configured User-Agent (fetcher.user_agent), as the
// fetcher does, so publishers can identify it.
func TestExtractUserAgent(t *testing.T) {
	var ua string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ua = r.UserAgent()
		w.Header().Set("Content-Type", "text/html; charset=iso-8859-1")
		w.Write([]byte("<html><body><article><p>Gr\xfc\xdfe aus M\xfcnchen, wo der Stadtrat am Dienstag beschlossen hat, die Br\xfccke bis zum Sommer zu sanieren.</p></article></body></html>"))
	}))
	defer srv.Close()
	cfgFile := filepath.Join(t.TempDir(), "newswatch.yaml")
	const agent = "newswatch-test/1 (+https://example.org/bot)"
	if err := os.WriteFile(cfgFile, []byte("fetcher:\n  allow_private_networks: true\n  user_agent: "+agent+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	if code := Main([]string{"extract", "--config", cfgFile, "--url", srv.URL}, strings.NewReader(""), &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if ua != agent {
		t.Errorf("User-Agent %q", ua)
	}
	if !strings.Contains(out.String(), "Grüße aus München") {
		t.Errorf("charset not decoded: %s", out.String())
	}
}

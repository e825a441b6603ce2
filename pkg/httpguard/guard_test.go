package httpguard

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// countingServer is an httptest server that counts the requests it served,
// so a test can prove a refused request never reached it.
type countingServer struct {
	*httptest.Server
	hits atomic.Int64
}

func newCountingServer(t *testing.T, h http.Handler) *countingServer {
	t.Helper()
	s := &countingServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

func okHandler(body string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte(body))
	})
}

func port(t *testing.T, s *httptest.Server) string {
	t.Helper()
	u, err := url.Parse(s.URL)
	if err != nil {
		t.Fatal(err)
	}
	return u.Port()
}

// allowLoopbackOnly lets c reach the test's own servers on 127.0.0.1 while
// every other non-public class stays refused.
func allowLoopbackOnly(c *Client) *Client {
	c.permit = func(a netip.Addr) bool { return a.Unmap().IsLoopback() }
	return c
}

func TestRefusesNonPublicAddresses(t *testing.T) {
	srv := newCountingServer(t, okHandler("secret"))
	p := port(t, srv.Server)
	tests := []struct {
		name     string
		url      string
		wantAddr string // the address the error must name
	}{
		{"loopback", "http://127.0.0.1:" + p + "/", "127.0.0.1"},
		{"loopback block", "http://127.0.0.2:" + p + "/", "127.0.0.2"},
		{"localhost name", "http://localhost:" + p + "/", "localhost"},
		{"ipv6 loopback", "http://[::1]:" + p + "/", "::1"},
		{"mapped loopback", "http://[::ffff:127.0.0.1]:" + p + "/", "127.0.0.1"},
		{"rfc1918 10", "http://10.1.2.3/", "10.1.2.3"},
		{"rfc1918 172.16", "http://172.16.0.1/", "172.16.0.1"},
		{"rfc1918 192.168", "http://192.168.1.1/", "192.168.1.1"},
		{"cloud metadata", "http://169.254.169.254/latest/meta-data/", "169.254.169.254"},
		{"mapped metadata", "http://[::ffff:169.254.169.254]/", "169.254.169.254"},
		{"nat64 metadata", "http://[64:ff9b::a9fe:a9fe]/", "64:ff9b::a9fe:a9fe"},
		{"unspecified", "http://0.0.0.0:" + p + "/", "0.0.0.0"},
		{"cgnat", "http://100.64.0.1/", "100.64.0.1"},
		{"multicast", "http://224.0.0.1/", "224.0.0.1"},
		{"broadcast", "http://255.255.255.255/", "255.255.255.255"},
		{"documentation", "http://192.0.2.10/", "192.0.2.10"},
		{"ipv6 ula", "http://[fd00::1]/", "fd00::1"},
		{"ipv6 link-local", "http://[fe80::1]/", "fe80::1"},
		{"ipv6 multicast", "http://[ff02::1]/", "ff02::1"},
		{"https too", "https://10.0.0.1/", "10.0.0.1"},
	}
	c := New()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.Get(t.Context(), tt.url, nil)
			if !errors.Is(err, ErrPrivateNetworkHost) {
				t.Fatalf("Get(%s) error = %v, want ErrPrivateNetworkHost", tt.url, err)
			}
			if got := Reason(err); got != ReasonPrivateNetwork {
				t.Errorf("Reason = %q, want %q", got, ReasonPrivateNetwork)
			}
			msg := err.Error()
			for _, want := range []string{tt.wantAddr, "fetcher.allow_private_networks: true"} {
				if !strings.Contains(msg, want) {
					t.Errorf("error %q does not mention %q", msg, want)
				}
			}
		})
	}
	if n := srv.hits.Load(); n != 0 {
		t.Errorf("refused requests reached the server %d times", n)
	}
}

func TestAllowPrivateNetworks(t *testing.T) {
	srv := newCountingServer(t, okHandler("internal feed"))
	p := port(t, srv.Server)
	c := New(WithAllowPrivateNetworks(true))
	for _, u := range []string{srv.URL + "/", "http://localhost:" + p + "/"} {
		t.Run(u, func(t *testing.T) {
			resp, err := c.Get(t.Context(), u, nil)
			if err != nil {
				t.Fatal(err)
			}
			if string(resp.Body) != "internal feed" {
				t.Errorf("body = %q", resp.Body)
			}
		})
	}
}

// TestResolvedAddressIsChecked covers names whose DNS answers point inside:
// the check runs on the address being dialled, not on the URL's host, which
// is what defeats DNS rebinding.
func TestResolvedAddressIsChecked(t *testing.T) {
	srv := newCountingServer(t, okHandler("secret"))
	p := port(t, srv.Server)
	dns := newFakeDNS(t, map[string][]netip.Addr{
		"rebind.example":   {netip.MustParseAddr("127.0.0.1")},
		"metadata.example": {netip.MustParseAddr("169.254.169.254")},
		"intranet.example": {netip.MustParseAddr("10.20.30.40")},
		"ula.example":      {netip.MustParseAddr("fd00::10")},
	})
	tests := []struct {
		name       string
		url        string
		wantReason string
		wantInMsg  []string
	}{
		{"rebinding to loopback", "http://rebind.example:" + p + "/", ReasonPrivateNetwork,
			[]string{"rebind.example resolves to 127.0.0.1", "loopback"}},
		{"metadata by name", "http://metadata.example/latest/meta-data/", ReasonPrivateNetwork,
			[]string{"metadata.example resolves to 169.254.169.254", "link-local"}},
		{"private by name", "http://intranet.example/", ReasonPrivateNetwork,
			[]string{"intranet.example resolves to 10.20.30.40"}},
		{"ula by name", "http://ula.example/", ReasonPrivateNetwork,
			[]string{"ula.example resolves to fd00::10", "unique local"}},
		{"no such host", "http://missing.example/", ReasonDNS, []string{"missing.example"}},
	}
	c := New(WithResolver(dns.resolver()))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.Get(t.Context(), tt.url, nil)
			if got := Reason(err); got != tt.wantReason {
				t.Fatalf("Reason(%v) = %q, want %q", err, got, tt.wantReason)
			}
			for _, want := range tt.wantInMsg {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not mention %q", err, want)
				}
			}
		})
	}
	if n := srv.hits.Load(); n != 0 {
		t.Errorf("refused requests reached the server %d times", n)
	}

	// The same name is fetched once private networks are allowed, which
	// shows the refusal above came from the address check and not from DNS.
	open := New(WithResolver(dns.resolver()), WithAllowPrivateNetworks(true))
	resp, err := open.Get(t.Context(), "http://rebind.example:"+p+"/", nil)
	if err != nil {
		t.Fatal(err)
	}
	if string(resp.Body) != "secret" {
		t.Errorf("body = %q", resp.Body)
	}
}

func TestRedirectTargetsAreChecked(t *testing.T) {
	dns := newFakeDNS(t, map[string][]netip.Addr{
		"metadata.example": {netip.MustParseAddr("169.254.169.254")},
	})
	srv := newCountingServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/final" {
			_, _ = w.Write([]byte("arrived"))
			return
		}
		http.Redirect(w, r, r.URL.Query().Get("to"), http.StatusFound)
	}))
	tests := []struct {
		name       string
		to         string
		wantReason string
		wantErr    error
	}{
		{"to cloud metadata", "http://169.254.169.254/latest/meta-data/iam/", ReasonPrivateNetwork, ErrPrivateNetworkHost},
		{"to mapped metadata", "http://[::ffff:169.254.169.254]/", ReasonPrivateNetwork, ErrPrivateNetworkHost},
		{"to name resolving to metadata", "http://metadata.example/", ReasonPrivateNetwork, ErrPrivateNetworkHost},
		{"to rfc1918", "http://192.168.0.1/admin", ReasonPrivateNetwork, ErrPrivateNetworkHost},
		{"to ipv6 ula", "http://[fd00::1]/", ReasonPrivateNetwork, ErrPrivateNetworkHost},
		{"to file", "file:///etc/passwd", ReasonScheme, ErrScheme},
		{"to ftp", "ftp://example.com/feed.xml", ReasonScheme, ErrScheme},
		{"to gopher", "gopher://example.com/", ReasonScheme, ErrScheme},
		{"to same server", "/final", "", nil},
	}
	c := allowLoopbackOnly(New(WithResolver(dns.resolver())))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := srv.URL + "/start?to=" + url.QueryEscape(tt.to)
			resp, err := c.Get(t.Context(), start, nil)
			if !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
				t.Fatalf("Get error = %v, want %v", err, tt.wantErr)
			}
			if got := Reason(err); got != tt.wantReason {
				t.Errorf("Reason = %q, want %q", got, tt.wantReason)
			}
			if err == nil {
				if string(resp.Body) != "arrived" || resp.FinalURL != srv.URL+"/final" {
					t.Errorf("got body %q at %s", resp.Body, resp.FinalURL)
				}
			}
		})
	}
}

func TestRedirectLimit(t *testing.T) {
	// /hop/N redirects to /hop/N-1; /hop/0 answers. /loop redirects to itself.
	srv := newCountingServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/loop" {
			http.Redirect(w, r, "/loop", http.StatusMovedPermanently)
			return
		}
		var n int
		for _, ch := range strings.TrimPrefix(r.URL.Path, "/hop/") {
			n = n*10 + int(ch-'0')
		}
		if n == 0 {
			_, _ = w.Write([]byte("done"))
			return
		}
		http.Redirect(w, r, "/hop/"+string(rune('0'+n-1)), http.StatusFound)
	}))
	tests := []struct {
		name    string
		max     int
		path    string
		wantErr bool
	}{
		{"no redirect needed with zero allowed", 0, "/hop/0", false},
		{"one redirect with zero allowed", 0, "/hop/1", true},
		{"at the limit", 3, "/hop/3", false},
		{"one past the limit", 3, "/hop/4", true},
		{"default limit reached", -1, "/hop/5", false},
		{"default limit passed", -1, "/hop/6", true},
		{"redirect loop", -1, "/loop", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := New(WithAllowPrivateNetworks(true), WithMaxRedirects(tt.max))
			resp, err := c.Get(t.Context(), srv.URL+tt.path, nil)
			if !tt.wantErr {
				if err != nil {
					t.Fatal(err)
				}
				if string(resp.Body) != "done" {
					t.Errorf("body = %q", resp.Body)
				}
				return
			}
			if !errors.Is(err, ErrTooManyRedirects) {
				t.Fatalf("error = %v, want ErrTooManyRedirects", err)
			}
			if got := Reason(err); got != ReasonRedirects {
				t.Errorf("Reason = %q, want %q", got, ReasonRedirects)
			}
		})
	}
}

func TestSchemes(t *testing.T) {
	tests := []struct {
		name string
		url  string
	}{
		{"file", "file:///etc/passwd"},
		{"ftp", "ftp://example.com/feed.xml"},
		{"gopher", "gopher://example.com/"},
		{"javascript", "javascript:alert(1)"},
		{"data", "data:text/plain,hello"},
		{"no scheme", "example.com/feed.xml"},
	}
	c := New()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.Get(t.Context(), tt.url, nil)
			if !errors.Is(err, ErrScheme) {
				t.Fatalf("Get(%q) error = %v, want ErrScheme", tt.url, err)
			}
			if got := Reason(err); got != ReasonScheme {
				t.Errorf("Reason = %q, want %q", got, ReasonScheme)
			}
			// The *http.Client handed to libraries refuses them too.
			_, err = c.HTTPClient().Get(tt.url)
			if !errors.Is(err, ErrScheme) || Reason(err) != ReasonScheme {
				t.Errorf("HTTPClient().Get(%q) error = %v, want ErrScheme", tt.url, err)
			}
		})
	}
}

func TestInvalidURL(t *testing.T) {
	_, err := New().Get(t.Context(), "http://[::1", nil)
	if !errors.Is(err, ErrInvalidURL) || Reason(err) != ReasonInvalidURL {
		t.Fatalf("error = %v (reason %q), want ErrInvalidURL", err, Reason(err))
	}
}

func TestTimeouts(t *testing.T) {
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	srv := newCountingServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/no-headers":
			// Hold the response headers back until the client gives up.
			select {
			case <-r.Context().Done():
			case <-release:
			}
		case "/drip":
			// Headers at once, then one byte at a time, slower than the
			// total timeout allows.
			w.Header().Set("Content-Type", "text/plain")
			w.WriteHeader(http.StatusOK)
			for {
				if _, err := w.Write([]byte("x")); err != nil {
					return
				}
				w.(http.Flusher).Flush()
				select {
				case <-r.Context().Done():
					return
				case <-release:
					return
				case <-time.After(100 * time.Millisecond):
				}
			}
		}
	}))
	const short = 300 * time.Millisecond
	tests := []struct {
		name     string
		client   func() *Client
		path     string
		ctx      func(t *testing.T) context.Context
		wantInfo string
	}{
		{
			name: "response header timeout",
			client: func() *Client {
				return New(WithAllowPrivateNetworks(true), WithTimeouts(time.Second, short, 30*time.Second))
			},
			path:     "/no-headers",
			wantInfo: "response header 300ms",
		},
		{
			name: "total timeout on a slow-drip body",
			client: func() *Client {
				return New(WithAllowPrivateNetworks(true), WithTimeouts(time.Second, time.Second, short))
			},
			path:     "/drip",
			wantInfo: "total 300ms",
		},
		{
			name: "connect timeout",
			client: func() *Client {
				c := New(WithAllowPrivateNetworks(true), WithTimeouts(short, 30*time.Second, 30*time.Second))
				// Stall the dial the way an unanswered SYN does; only the
				// connect deadline can end it.
				c.beforeDial = func(ctx context.Context) error {
					<-ctx.Done()
					return ctx.Err()
				}
				return c
			},
			path:     "/no-headers",
			wantInfo: "connect 300ms",
		},
		{
			name:   "caller's deadline is honoured",
			client: func() *Client { return New(WithAllowPrivateNetworks(true)) },
			path:   "/drip",
			ctx: func(t *testing.T) context.Context {
				ctx, cancel := context.WithTimeout(t.Context(), short)
				t.Cleanup(cancel)
				return ctx
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := t.Context()
			if tt.ctx != nil {
				ctx = tt.ctx(t)
			}
			_, err := tt.client().Get(ctx, srv.URL+tt.path, nil)
			if got := Reason(err); got != ReasonTimeout {
				t.Fatalf("Reason(%v) = %q, want %q", err, got, ReasonTimeout)
			}
			if !strings.Contains(err.Error(), tt.wantInfo) {
				t.Errorf("error %q does not mention %q", err, tt.wantInfo)
			}
		})
	}

	t.Run("total timeout through Do while reading the body", func(t *testing.T) {
		c := New(WithAllowPrivateNetworks(true), WithTimeouts(time.Second, time.Second, short))
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+"/drip", nil)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		buf := make([]byte, 64)
		for err == nil {
			_, err = resp.Body.Read(buf)
		}
		if got := Reason(err); got != ReasonTimeout {
			t.Fatalf("body read error %v has reason %q, want %q", err, got, ReasonTimeout)
		}
	})
}

func TestConnectRefused(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	_, err = New(WithAllowPrivateNetworks(true)).Get(t.Context(), "http://"+addr+"/", nil)
	if got := Reason(err); got != ReasonConnect {
		t.Fatalf("Reason(%v) = %q, want %q", err, got, ReasonConnect)
	}
}

func TestHTTPStatus(t *testing.T) {
	srv := newCountingServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/gone":
			w.Header().Set("Retry-After", "120")
			http.Error(w, "gone away", http.StatusServiceUnavailable)
		case "/missing":
			http.NotFound(w, r)
		case "/same":
			w.WriteHeader(http.StatusNotModified)
		}
	}))
	tests := []struct {
		path       string
		wantStatus int
		wantErr    bool
	}{
		{"/gone", http.StatusServiceUnavailable, true},
		{"/missing", http.StatusNotFound, true},
		{"/same", http.StatusNotModified, false},
	}
	c := New(WithAllowPrivateNetworks(true))
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			resp, err := c.Get(t.Context(), srv.URL+tt.path, http.Header{"If-None-Match": {`"v1"`}})
			if resp == nil {
				t.Fatalf("no response (error %v)", err)
			}
			if resp.StatusCode != tt.wantStatus {
				t.Errorf("status = %d, want %d", resp.StatusCode, tt.wantStatus)
			}
			if !tt.wantErr {
				if err != nil {
					t.Errorf("unexpected error %v", err)
				}
				return
			}
			var e *Error
			if !errors.As(err, &e) || !errors.Is(err, ErrHTTPStatus) || e.StatusCode != tt.wantStatus {
				t.Fatalf("error = %#v, want *Error wrapping ErrHTTPStatus with status %d", err, tt.wantStatus)
			}
			if Reason(err) != ReasonHTTPStatus {
				t.Errorf("Reason = %q", Reason(err))
			}
		})
	}
	resp, _ := c.Get(t.Context(), srv.URL+"/gone", nil)
	if resp.Header.Get("Retry-After") != "120" {
		t.Errorf("Retry-After = %q, want it kept on error responses", resp.Header.Get("Retry-After"))
	}
}

func TestRequestHeaders(t *testing.T) {
	got := make(chan http.Header, 1)
	srv := newCountingServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r.Header.Clone()
	}))
	tests := []struct {
		name   string
		opts   []Option
		hdr    http.Header
		wantUA string
		wantAE string
		extra  [2]string
	}{
		{"defaults", nil, nil, "newswatch/dev (+https://github.com/newswatch/newswatch)", "gzip, deflate, br", [2]string{}},
		{"option user agent", []Option{WithUserAgent("analyst-bot/2")}, nil, "analyst-bot/2", "gzip, deflate, br", [2]string{}},
		{"caller's headers win", nil,
			http.Header{"User-Agent": {"custom/1"}, "Accept-Encoding": {"identity"}, "if-modified-since": {"Mon, 30 Nov 2026 00:00:00 GMT"}},
			"custom/1", "identity", [2]string{"If-Modified-Since", "Mon, 30 Nov 2026 00:00:00 GMT"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := New(append([]Option{WithAllowPrivateNetworks(true)}, tt.opts...)...)
			if _, err := c.Get(t.Context(), srv.URL, tt.hdr); err != nil {
				t.Fatal(err)
			}
			h := <-got
			if h.Get("User-Agent") != tt.wantUA || h.Get("Accept-Encoding") != tt.wantAE {
				t.Errorf("sent User-Agent %q, Accept-Encoding %q; want %q, %q",
					h.Get("User-Agent"), h.Get("Accept-Encoding"), tt.wantUA, tt.wantAE)
			}
			if tt.extra[0] != "" && h.Get(tt.extra[0]) != tt.extra[1] {
				t.Errorf("sent %s %q, want %q", tt.extra[0], h.Get(tt.extra[0]), tt.extra[1])
			}
		})
	}

	t.Run("Do leaves the caller's request alone", func(t *testing.T) {
		c := New(WithAllowPrivateNetworks(true))
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL, nil)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		<-got
		if len(req.Header) != 0 {
			t.Errorf("caller's request headers changed to %v", req.Header)
		}
	})
}

func TestReason(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"nil", nil, ""},
		{"typed error", &Error{Reason: ReasonTooLarge, Err: errors.New("x")}, ReasonTooLarge},
		{"private sentinel wrapped", &url.Error{Op: "Get", URL: "u", Err: &net.OpError{Op: "dial", Err: ErrPrivateNetworkHost}}, ReasonPrivateNetwork},
		{"scheme", ErrScheme, ReasonScheme},
		{"redirects", ErrTooManyRedirects, ReasonRedirects},
		{"too large", ErrBodyTooLarge, ReasonTooLarge},
		{"decode", ErrContentEncoding, ReasonDecode},
		{"status", ErrHTTPStatus, ReasonHTTPStatus},
		{"dns", &net.OpError{Op: "dial", Err: &net.DNSError{Err: "no such host", Name: "x.example", IsNotFound: true}}, ReasonDNS},
		{"dns timeout is dns", &net.DNSError{Err: "timeout", Name: "x.example", IsTimeout: true}, ReasonDNS},
		{"deadline", context.DeadlineExceeded, ReasonTimeout},
		{"canceled", context.Canceled, ReasonCanceled},
		{"dial refused", &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}, ReasonConnect},
		{"read reset", &net.OpError{Op: "read", Net: "tcp", Err: errors.New("connection reset by peer")}, ReasonOther},
		{"anything else", errors.New("boom"), ReasonOther},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Reason(tt.err); got != tt.want {
				t.Errorf("Reason(%v) = %q, want %q", tt.err, got, tt.want)
			}
		})
	}
}

// TestHTTPClient checks that the *http.Client handed to webhook and Slack
// senders carries the same guards: address checks, decoding and the limit.
func TestHTTPClient(t *testing.T) {
	srv := newCountingServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Encoding", "gzip")
		_, _ = w.Write(encode(t, "gzip", append([]byte("got "), body...)))
	}))
	t.Run("refuses private webhook targets", func(t *testing.T) {
		hc := New().HTTPClient()
		_, err := hc.Post(srv.URL+"/hook", "application/json", strings.NewReader(`{"alert":1}`))
		if !errors.Is(err, ErrPrivateNetworkHost) || Reason(err) != ReasonPrivateNetwork {
			t.Fatalf("error = %v, want ErrPrivateNetworkHost", err)
		}
		if srv.hits.Load() != 0 {
			t.Fatal("refused request reached the server")
		}
	})
	t.Run("decodes responses", func(t *testing.T) {
		hc := New(WithAllowPrivateNetworks(true)).HTTPClient()
		resp, err := hc.Post(srv.URL+"/hook", "application/json", strings.NewReader(`{"alert":1}`))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil || string(b) != `got {"alert":1}` {
			t.Errorf("body = %q, %v", b, err)
		}
	})
	t.Run("limits responses", func(t *testing.T) {
		hc := New(WithAllowPrivateNetworks(true), WithMaxBodyBytes(4)).HTTPClient()
		resp, err := hc.Post(srv.URL+"/hook", "text/plain", strings.NewReader("more than four"))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if _, err := io.ReadAll(resp.Body); !errors.Is(err, ErrBodyTooLarge) {
			t.Errorf("read error = %v, want ErrBodyTooLarge", err)
		}
	})
}

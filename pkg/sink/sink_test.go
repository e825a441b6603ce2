package sink

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/newswatch/newswatch/pkg/httpguard"
)

func TestClassifyHTTP(t *testing.T) {
	retryDate := time.Now().Add(90 * time.Second).UTC().Format(http.TimeFormat)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ra := r.URL.Query().Get("retry_after"); ra != "" {
			w.Header().Set("Retry-After", ra)
		}
		switch r.URL.Path {
		case "/200":
			w.WriteHeader(200)
		case "/204":
			w.WriteHeader(204)
		case "/302":
			w.Header().Set("Location", "/200")
			w.WriteHeader(302)
		case "/400":
			w.WriteHeader(400)
		case "/401":
			w.WriteHeader(401)
		case "/404":
			w.WriteHeader(404)
		case "/408":
			w.WriteHeader(408)
		case "/429":
			w.WriteHeader(429)
		case "/500":
			w.WriteHeader(500)
		case "/503":
			w.WriteHeader(503)
		}
	}))
	defer srv.Close()
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	tests := []struct {
		name      string
		path      string
		wantNil   bool
		reason    string
		retryable bool
		minAfter  time.Duration
		maxAfter  time.Duration
	}{
		{name: "ok", path: "/200", wantNil: true},
		{name: "no content", path: "/204", wantNil: true},
		{name: "redirect not followed", path: "/302", reason: ReasonStatus3xx},
		{name: "bad request is permanent", path: "/400", reason: ReasonStatus4xx},
		{name: "unauthorized", path: "/401", reason: ReasonAuth},
		{name: "not found", path: "/404", reason: ReasonStatus4xx},
		{name: "request timeout retries", path: "/408", reason: ReasonStatus408, retryable: true},
		{name: "429 without retry-after", path: "/429", reason: ReasonStatus429, retryable: true},
		{name: "429 retry-after seconds", path: "/429?retry_after=120", reason: ReasonStatus429, retryable: true, minAfter: 120 * time.Second, maxAfter: 120 * time.Second},
		{name: "429 retry-after http-date", path: "/429?retry_after=" + strings.ReplaceAll(retryDate, " ", "%20"), reason: ReasonStatus429, retryable: true, minAfter: 30 * time.Second, maxAfter: 90 * time.Second},
		{name: "429 retry-after capped", path: "/429?retry_after=999999", reason: ReasonStatus429, retryable: true, minAfter: MaxRetryAfter, maxAfter: MaxRetryAfter},
		{name: "429 retry-after garbage", path: "/429?retry_after=soon", reason: ReasonStatus429, retryable: true},
		{name: "429 retry-after negative", path: "/429?retry_after=-5", reason: ReasonStatus429, retryable: true},
		{name: "500 retries", path: "/500", reason: ReasonStatus5xx, retryable: true},
		{name: "503 honours retry-after", path: "/503?retry_after=7", reason: ReasonStatus5xx, retryable: true, minAfter: 7 * time.Second, maxAfter: 7 * time.Second},
		{name: "400 ignores retry-after", path: "/400?retry_after=7", reason: ReasonStatus4xx},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := noRedirect.Get(srv.URL + tt.path)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			got := Classify(resp, nil)
			if tt.wantNil {
				if got != nil {
					t.Fatalf("Classify = %v, want nil", got)
				}
				return
			}
			var se *Error
			if !errors.As(got, &se) {
				t.Fatalf("Classify = %v (%T), want *Error", got, got)
			}
			if se.Reason != tt.reason || se.Retryable != tt.retryable {
				t.Errorf("reason=%q retryable=%v, want %q %v", se.Reason, se.Retryable, tt.reason, tt.retryable)
			}
			if se.RetryAfter < tt.minAfter || se.RetryAfter > tt.maxAfter {
				t.Errorf("RetryAfter = %v, want in [%v, %v]", se.RetryAfter, tt.minAfter, tt.maxAfter)
			}
			if !errors.Is(got, ErrStatus) {
				t.Errorf("error %v does not wrap ErrStatus", got)
			}
			if IsRetryable(got) != tt.retryable {
				t.Errorf("IsRetryable = %v", IsRetryable(got))
			}
		})
	}
}

func TestClassifyTransport(t *testing.T) {
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	}))
	defer hang.Close()
	closed := httptest.NewServer(http.NotFoundHandler())
	closedURL := closed.URL
	closed.Close()
	tlsSrv := httptest.NewUnstartedServer(http.NotFoundHandler())
	tlsSrv.Config.ErrorLog = log.New(io.Discard, "", 0) // the handshake failure is the point
	tlsSrv.StartTLS()
	defer tlsSrv.Close()

	const token = "T000/B000/XXXXsecretXXXX"
	tests := []struct {
		name      string
		do        func() (*http.Response, error)
		reason    string
		retryable bool
	}{
		{
			name: "client timeout",
			do: func() (*http.Response, error) {
				c := &http.Client{Timeout: 50 * time.Millisecond}
				return c.Get(hang.URL + "/services/" + token)
			},
			reason: ReasonTimeout, retryable: true,
		},
		{
			name: "context deadline",
			do: func() (*http.Response, error) {
				ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
				defer cancel()
				req, _ := http.NewRequestWithContext(ctx, "POST", hang.URL+"/services/"+token, nil)
				return http.DefaultClient.Do(req)
			},
			reason: ReasonTimeout, retryable: true,
		},
		{
			name: "context canceled",
			do: func() (*http.Response, error) {
				ctx, cancel := context.WithCancel(context.Background())
				cancel()
				req, _ := http.NewRequestWithContext(ctx, "POST", hang.URL+"/services/"+token, nil)
				return http.DefaultClient.Do(req)
			},
			reason: ReasonCanceled, retryable: true,
		},
		{
			name:   "connection refused",
			do:     func() (*http.Response, error) { return http.Post(closedURL+"/services/"+token, "text/plain", nil) },
			reason: ReasonConnect, retryable: true,
		},
		{
			name:   "untrusted certificate is permanent",
			do:     func() (*http.Response, error) { return http.Post(tlsSrv.URL+"/services/"+token, "text/plain", nil) },
			reason: ReasonTLS, retryable: false,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := tt.do()
			if err == nil {
				resp.Body.Close()
				t.Fatal("request succeeded, want a transport error")
			}
			got := Classify(nil, err)
			var se *Error
			if !errors.As(got, &se) {
				t.Fatalf("Classify = %T, want *Error", got)
			}
			if se.Reason != tt.reason || se.Retryable != tt.retryable {
				t.Errorf("reason=%q retryable=%v, want %q %v (%v)", se.Reason, se.Retryable, tt.reason, tt.retryable, got)
			}
			if strings.Contains(got.Error(), "secret") || strings.Contains(got.Error(), "/services/") {
				t.Errorf("error leaks the URL path: %v", got)
			}
		})
	}
}

// A 3xx is a permanent failure that names where the receiver points,
// without the query or user info that may carry a token.
func TestClassifyRedirectNamesLocation(t *testing.T) {
	tests := []struct {
		name, location, want, hide string
	}{
		{"absolute", "https://new.example.org/hooks/ops?token=s3cr3t#x", `"https://new.example.org/hooks/ops"`, "s3cr3t"},
		{"user info", "https://user:pa55@new.example.org/h", `"https://new.example.org/h"`, "pa55"},
		{"relative", "/v2/hook", `"/v2/hook"`, ""},
		{"none", "", "point the sink's url at the final address", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := &http.Response{StatusCode: http.StatusFound, Header: http.Header{}}
			if tt.location != "" {
				resp.Header.Set("Location", tt.location)
			}
			err := Classify(resp, nil)
			var se *Error
			if !errors.As(err, &se) || se.Reason != ReasonStatus3xx || se.Retryable {
				t.Fatalf("Classify = %v, want permanent %s", err, ReasonStatus3xx)
			}
			if !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "302") {
				t.Errorf("error %q does not say %q", err, tt.want)
			}
			if tt.hide != "" && strings.Contains(err.Error(), tt.hide) {
				t.Errorf("error %q leaks %q", err, tt.hide)
			}
		})
	}
}

func TestClassifyGuardRefusals(t *testing.T) {
	// A receiver on loopback is what an SSRF attempt looks like to the
	// guarded client the notifier injects.
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	loop := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, r.URL.Path, http.StatusFound)
	}))
	defer loop.Close()
	tests := []struct {
		name   string
		client *http.Client
		url    string
	}{
		{"private address", httpguard.New().HTTPClient(), srv.URL + "/hook"},
		{"redirect loop", httpguard.New(httpguard.WithAllowPrivateNetworks(true), httpguard.WithMaxRedirects(2)).HTTPClient(), loop.URL + "/hook"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := tt.client.Get(tt.url)
			if err == nil {
				resp.Body.Close()
				t.Fatal("the guard let the request through")
			}
			var se *Error
			if got := Classify(nil, err); !errors.As(got, &se) || se.Reason != ReasonRefused || se.Retryable {
				t.Errorf("Classify = %v, want permanent %q", got, ReasonRefused)
			}
		})
	}
}

func TestClassifyKeepsSinkError(t *testing.T) {
	in := &Error{Reason: ReasonEncode, Err: errors.New("boom")}
	if got := Classify(nil, in); got != error(in) {
		t.Errorf("Classify rewrapped an *Error: %v", got)
	}
}

func TestErrorMessage(t *testing.T) {
	tests := []struct {
		name string
		err  *Error
		want string
	}{
		{"retryable with delay", &Error{Reason: "status_429", Retryable: true, RetryAfter: 2 * time.Second, Err: errors.New("x")}, "sink: delivery failed (status_429, retryable after 2s): x"},
		{"permanent", &Error{Reason: "status_4xx", Err: errors.New("x")}, "sink: delivery failed (status_4xx, permanent): x"},
		{"no cause", &Error{Reason: "timeout", Retryable: true}, "sink: delivery failed (timeout, retryable)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestRedactURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://hooks.slack.com/services/T000/B000/XXXX", "https://hooks.slack.com/…"},
		{"https://user:pass@example.com/hook?token=abc", "https://example.com/…"},
		{"https://example.com", "https://example.com"},
		{"https://example.com/", "https://example.com"},
		{"not a url", "[redacted-url]"},
		{"://bad", "[redacted-url]"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := RedactURL(tt.in); got != tt.want {
				t.Errorf("RedactURL(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestSecret(t *testing.T) {
	const value = "s3cr3t-value-do-not-log"
	dir := t.TempDir()
	good := filepath.Join(dir, "good")
	if err := os.WriteFile(good, []byte(value+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("NEWSWATCH_TEST_SECRET", value)
	t.Setenv("NEWSWATCH_TEST_EMPTY", "")

	tests := []struct {
		name             string
		value, file, env string
		want             string
		wantErr          bool
		errMentions      string
	}{
		{name: "literal", value: value, want: value},
		{name: "file trims newline", file: good, want: value},
		{name: "env", env: "NEWSWATCH_TEST_SECRET", want: value},
		{name: "none is not an error", want: ""},
		{name: "two set", value: value, env: "NEWSWATCH_TEST_SECRET", wantErr: true, errMentions: "only one"},
		{name: "missing file", file: filepath.Join(dir, "nope"), wantErr: true, errMentions: "nope"},
		{name: "empty file", file: empty, wantErr: true, errMentions: "empty"},
		{name: "unset env", env: "NEWSWATCH_TEST_UNSET_XYZ", wantErr: true, errMentions: "NEWSWATCH_TEST_UNSET_XYZ"},
		{name: "empty env", env: "NEWSWATCH_TEST_EMPTY", wantErr: true, errMentions: "NEWSWATCH_TEST_EMPTY"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Secret(tt.value, tt.file, tt.env)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("Secret = %q, want error", got)
				}
				if !errors.Is(err, ErrSecret) {
					t.Errorf("error %v does not wrap ErrSecret", err)
				}
				if strings.Contains(err.Error(), value) {
					t.Errorf("error leaks the secret: %v", err)
				}
				if !strings.Contains(err.Error(), tt.errMentions) {
					t.Errorf("error %q does not mention %q", err, tt.errMentions)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("Secret = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestHighlight(t *testing.T) {
	tests := []struct {
		name    string
		snippet string
		terms   []string
		want    []Segment
	}{
		{
			name: "case insensitive", snippet: "New Drone strike", terms: []string{"drone"},
			want: []Segment{{Text: "New "}, {Text: "Drone", Match: true}, {Text: " strike"}},
		},
		{
			name: "whole words only", snippet: "drones and a drone", terms: []string{"drone"},
			want: []Segment{{Text: "drones and a "}, {Text: "drone", Match: true}},
		},
		{
			name: "possessive", snippet: "the Quad's summit", terms: []string{"Quad"},
			want: []Segment{{Text: "the "}, {Text: "Quad", Match: true}, {Text: "'s summit"}},
		},
		{
			name: "dash variants", snippet: "MQ–9B, MQ 9B and MQ9B but not MQ-9BX", terms: []string{"MQ-9B"},
			want: []Segment{{Text: "MQ–9B", Match: true}, {Text: ", "}, {Text: "MQ 9B", Match: true}, {Text: " and "}, {Text: "MQ9B", Match: true}, {Text: " but not MQ-9BX"}},
		},
		{
			name: "phrase joined by hyphen, not by comma", snippet: "Quad-summit, not Quad, summit", terms: []string{"Quad summit"},
			want: []Segment{{Text: "Quad-summit", Match: true}, {Text: ", not Quad, summit"}},
		},
		{
			name: "needs word start", snippet: "a hydrone b", terms: []string{"drone"},
			want: []Segment{{Text: "a hydrone b"}},
		},
		{
			name: "longest term first", snippet: "air defence systems", terms: []string{"air", "air defence"},
			want: []Segment{{Text: "air defence", Match: true}, {Text: " systems"}},
		},
		{
			name: "several hits", snippet: "NATO and nato", terms: []string{"NATO"},
			want: []Segment{{Text: "NATO", Match: true}, {Text: " and "}, {Text: "nato", Match: true}},
		},
		{
			name: "unicode", snippet: "über Überwachung", terms: []string{"überwachung"},
			want: []Segment{{Text: "über "}, {Text: "Überwachung", Match: true}},
		},
		{
			name: "no terms", snippet: "plain", terms: []string{" "},
			want: []Segment{{Text: "plain"}},
		},
		{name: "empty", snippet: "", terms: []string{"x"}, want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Highlight(tt.snippet, tt.terms...)
			if len(got) != len(tt.want) {
				t.Fatalf("Highlight = %+v, want %+v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("Highlight = %+v, want %+v", got, tt.want)
				}
			}
		})
	}
}

func TestClip(t *testing.T) {
	tests := []struct {
		name string
		in   string
		max  int
		want string
	}{
		{"short", "hello", 10, "hello"},
		{"exact", "hello", 5, "hello"},
		{"cuts at space", "hello wonderful world", 18, "hello wonderful…"},
		{"cuts mid word when no space near", "abcdefghijkl", 6, "abcde…"},
		{"runes not bytes", "ééééé", 3, "éé…"},
		{"zero means no limit", "hello", 0, "hello"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Clip(tt.in, tt.max)
			if got != tt.want {
				t.Errorf("Clip(%q, %d) = %q, want %q", tt.in, tt.max, got, tt.want)
			}
		})
	}
}

func FuzzHighlight(f *testing.F) {
	f.Add("New drone strike near the border", "drone")
	f.Add("ÜBER über", "über")
	f.Add("\xff\xfe", "\xff")
	f.Add("MQ–9B and MQ9B", "MQ-9B")
	f.Fuzz(func(t *testing.T, snippet, term string) {
		var b strings.Builder
		for _, s := range Highlight(snippet, term) {
			if s.Text == "" {
				t.Fatal("empty segment")
			}
			b.WriteString(s.Text)
		}
		if b.String() != snippet {
			t.Fatalf("segments do not reassemble the snippet: %q", b.String())
		}
	})
}

func TestScrub(t *testing.T) {
	const raw = "https://hooks.example/services/T1/B2/TOKEN?k=QUERYSECRET"
	base := errors.New("post " + raw + ": refused; path /services/T1/B2/TOKEN; query k=QUERYSECRET")
	inner := &Error{Reason: ReasonConnect, Retryable: true, Err: base}
	got := Scrub(fmt.Errorf("webhook %q: %w", "w", inner), URLSecrets(raw)...)
	var se *Error
	if !errors.As(got, &se) || !errors.Is(got, base) {
		t.Fatalf("Scrub broke the chain: %v", got)
	}
	for _, msg := range []string{got.Error(), se.Error()} {
		for _, leak := range []string{"TOKEN", "QUERYSECRET", "/services/"} {
			if strings.Contains(msg, leak) {
				t.Errorf("%q still contains %q", msg, leak)
			}
		}
	}
	if Scrub(nil, raw) != nil {
		t.Error("Scrub(nil) != nil")
	}
	plain := errors.New("abc")
	if Scrub(plain, "ab", "") != plain {
		t.Error("secrets shorter than 4 bytes should be ignored")
	}
}

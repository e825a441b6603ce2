package slack

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/newswatch/newswatch/pkg/events"
	"github.com/newswatch/newswatch/pkg/sink"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

var published = time.Date(2026, 3, 1, 11, 0, 0, 0, time.UTC)

func testEvent(id, eventType string) events.CloudEvent {
	return events.NewAlertEvent(events.Alert{
		Schema:      events.AlertSchema,
		AlertID:     id,
		WatchID:     "baltic",
		Query:       `drone AND "air defence"`,
		StoryID:     "story-" + id,
		ArticleID:   "art-" + id,
		URL:         "https://news.example/world?id=42&src=rss",
		Title:       "Drones sighted over <Baltic> port & airfield",
		Source:      "Example News",
		PublishedAt: published,
		Matches: []events.MatchedTerm{
			{Term: "drones", Field: "text", Snippet: "Several drones were sighted near the port; officials said <no> threat & no damage."},
			{Term: "air defence", Field: "text", Snippet: "Air defence units were placed on alert overnight."},
			{Term: "drones", Field: "title", Snippet: "Several drones were sighted near the port; officials said <no> threat & no damage."},
		},
		Topics:    []string{"military", "critical-infrastructure"},
		CreatedAt: published.Add(5 * time.Minute),
	}, eventType)
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the rendered message:\n%s", path, got)
	}
}

func TestMessagesGolden(t *testing.T) {
	bare := testEvent("bare", events.AlertEventType)
	bare.Data.URL = "javascript:alert(1)"
	bare.Data.Topics = nil
	bare.Data.Source = ""
	bare.Data.PublishedAt = time.Time{}
	bare.Data.Matches = nil

	many := make([]events.CloudEvent, 17)
	for i := range many {
		many[i] = testEvent(string(rune('a'+i)), events.AlertEventType)
	}
	tests := []struct {
		name string
		msg  Message
	}{
		{"alert.json", AlertMessage(testEvent("a1", events.AlertEventType))},
		{"update.json", AlertMessage(testEvent("a1", events.AlertUpdateEventType))},
		{"bare.json", AlertMessage(bare)},
		{"digest.json", DigestMessage("baltic", []events.CloudEvent{testEvent("a1", events.AlertEventType), bare})},
		{"digest-overflow.json", DigestMessage("baltic", many)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			enc.SetIndent("", "  ")
			if err := enc.Encode(tt.msg); err != nil {
				t.Fatal(err)
			}
			golden(t, tt.name+".golden", buf.Bytes())
			if len(tt.msg.Blocks) > 50 {
				t.Errorf("%d blocks, Slack allows 50", len(tt.msg.Blocks))
			}
		})
	}
}

func TestAlertMessageFormatting(t *testing.T) {
	msg := AlertMessage(testEvent("a1", events.AlertEventType))
	var all strings.Builder
	for _, b := range msg.Blocks {
		if b.Text != nil {
			all.WriteString(b.Text.Text + "\n")
		}
		for _, e := range b.Elements {
			all.WriteString(e.Text + "\n")
		}
	}
	text := all.String()
	for _, want := range []string{
		"*<https://news.example/world?id=42&amp;src=rss|Drones sighted over &lt;Baltic&gt; port &amp; airfield>*",
		"> Several *drones* were sighted near the port; officials said &lt;no&gt; threat &amp; no damage.",
		"> *Air defence* units",
		"*Topics:* military, critical-infrastructure",
		"Example News · <!date^1772362800^{date_short_pretty} {time}|2026-03-01 11:00 UTC>",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("message lacks %q:\n%s", want, text)
		}
	}
	if strings.Count(text, "Several *drones*") != 1 {
		t.Errorf("duplicate snippet not collapsed:\n%s", text)
	}
}

func TestEscape(t *testing.T) {
	tests := []struct{ in, want string }{
		{"a & b", "a &amp; b"},
		{"<!channel>", "&lt;!channel&gt;"},
		{"&amp;", "&amp;amp;"},
		{"plain *stars* stay", "plain *stars* stay"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := Escape(tt.in); got != tt.want {
				t.Errorf("Escape(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

type receiver struct {
	mu      sync.Mutex
	bodies  [][]byte
	ctypes  []string
	replies []func(http.ResponseWriter)
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	rc.bodies = append(rc.bodies, body)
	rc.ctypes = append(rc.ctypes, r.Header.Get("Content-Type"))
	var reply func(http.ResponseWriter)
	if len(rc.replies) > 0 {
		reply, rc.replies = rc.replies[0], rc.replies[1:]
	}
	rc.mu.Unlock()
	if reply != nil {
		reply(w)
		return
	}
	io.WriteString(w, "ok")
}

func reply(code int, body string, hdr ...string) func(http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		for i := 0; i+1 < len(hdr); i += 2 {
			w.Header().Set(hdr[i], hdr[i+1])
		}
		w.WriteHeader(code)
		io.WriteString(w, body)
	}
}

const tokenPath = "/services/T0000/B0000/XXXXXXXXXXXXXXXXXXXXXXXX"

func TestSend(t *testing.T) {
	rc := &receiver{}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	s, err := New(Config{Name: "ops-slack", URL: srv.URL + tokenPath})
	if err != nil {
		t.Fatal(err)
	}
	if s.Name() != "ops-slack" {
		t.Errorf("Name = %q", s.Name())
	}
	if err := s.Send(context.Background(), "dlv-1", testEvent("a1", events.AlertEventType)); err != nil {
		t.Fatal(err)
	}
	if err := s.SendDigest(context.Background(), "dlv-2", "baltic", []events.CloudEvent{testEvent("a1", events.AlertEventType)}); err != nil {
		t.Fatal(err)
	}
	if len(rc.bodies) != 2 {
		t.Fatalf("receiver got %d posts", len(rc.bodies))
	}
	for i, body := range rc.bodies {
		if !strings.HasPrefix(rc.ctypes[i], "application/json") {
			t.Errorf("content-type %q", rc.ctypes[i])
		}
		var m Message
		if err := json.Unmarshal(body, &m); err != nil {
			t.Fatal(err)
		}
		if m.Text == "" || len(m.Blocks) < 2 {
			t.Errorf("post %d: %s", i, body)
		}
	}
	if !bytes.Contains(rc.bodies[1], []byte(`"1 new story for watch baltic"`)) {
		t.Errorf("digest header missing: %s", rc.bodies[1])
	}
}

func TestSendFailures(t *testing.T) {
	retryDate := time.Now().Add(2 * time.Minute).UTC().Format(http.TimeFormat)
	tests := []struct {
		name      string
		reply     func(http.ResponseWriter)
		timeout   time.Duration
		reason    string
		retryable bool
		minAfter  time.Duration
		maxAfter  time.Duration
		mention   string
	}{
		{name: "500 retries", reply: reply(500, "rollup_error"), reason: sink.ReasonStatus5xx, retryable: true, mention: "rollup_error"},
		{name: "429 retry-after seconds", reply: reply(429, "rate_limited", "Retry-After", "30"), reason: sink.ReasonStatus429, retryable: true, minAfter: 30 * time.Second, maxAfter: 30 * time.Second},
		{name: "429 retry-after date", reply: reply(429, "", "Retry-After", retryDate), reason: sink.ReasonStatus429, retryable: true, minAfter: time.Minute, maxAfter: 2 * time.Minute},
		{name: "400 invalid payload is permanent", reply: reply(400, "invalid_payload"), reason: sink.ReasonStatus4xx, mention: "invalid_payload"},
		{name: "403 invalid token", reply: reply(403, "invalid_token"), reason: sink.ReasonAuth, mention: "invalid_token"},
		{name: "404 no service", reply: reply(404, "no_service"), reason: sink.ReasonStatus4xx, mention: "no_service"},
		{name: "body is not quoted unless it is a code", reply: reply(400, "<html>"+tokenPath+"</html>"), reason: sink.ReasonStatus4xx},
		{name: "timeout retries", timeout: 50 * time.Millisecond, reason: sink.ReasonTimeout, retryable: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h http.Handler = &receiver{replies: []func(http.ResponseWriter){tt.reply}}
			if tt.reply == nil {
				done := make(chan struct{})
				defer close(done) // runs before srv.Close below
				h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					io.Copy(io.Discard, r.Body)
					select {
					case <-r.Context().Done():
					case <-done:
					}
				})
			}
			srv := httptest.NewServer(h)
			defer srv.Close()
			s, err := New(Config{Name: "ops-slack", URL: srv.URL + tokenPath, Timeout: tt.timeout})
			if err != nil {
				t.Fatal(err)
			}
			err = s.Send(context.Background(), "dlv", testEvent("a1", events.AlertEventType))
			var se *sink.Error
			if !errors.As(err, &se) {
				t.Fatalf("Send = %v, want *sink.Error", err)
			}
			if se.Reason != tt.reason || se.Retryable != tt.retryable {
				t.Errorf("reason=%q retryable=%v, want %q %v", se.Reason, se.Retryable, tt.reason, tt.retryable)
			}
			if se.RetryAfter < tt.minAfter || se.RetryAfter > tt.maxAfter {
				t.Errorf("RetryAfter = %v, want [%v, %v]", se.RetryAfter, tt.minAfter, tt.maxAfter)
			}
			if !strings.Contains(err.Error(), tt.mention) {
				t.Errorf("error %q does not mention %q", err, tt.mention)
			}
			if strings.Contains(err.Error(), "XXXXXXXX") || strings.Contains(err.Error(), "/services/") {
				t.Errorf("error leaks the webhook token: %v", err)
			}
		})
	}
}

func TestFailThenSucceed(t *testing.T) {
	rc := &receiver{replies: []func(http.ResponseWriter){reply(500, "")}}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	s, err := New(Config{Name: "ops-slack", URL: srv.URL + tokenPath})
	if err != nil {
		t.Fatal(err)
	}
	ev := testEvent("a1", events.AlertEventType)
	if err := s.Send(context.Background(), "dlv", ev); !sink.IsRetryable(err) {
		t.Fatalf("first Send = %v, want retryable", err)
	}
	if err := s.Send(context.Background(), "dlv", ev); err != nil {
		t.Fatalf("second Send = %v", err)
	}
}

func TestUnreachableDoesNotLeakToken(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL + tokenPath
	srv.Close()
	s, err := New(Config{Name: "ops-slack", URL: url})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Send(context.Background(), "dlv", testEvent("a1", events.AlertEventType))
	if !sink.IsRetryable(err) {
		t.Fatalf("Send = %v, want retryable", err)
	}
	if strings.Contains(err.Error(), "XXXXXXXX") || strings.Contains(err.Error(), "T0000") {
		t.Errorf("error leaks the webhook token: %v", err)
	}
}

// A guarded client refuses redirects with an error that quotes the URL it
// was redirected from; the token must still not reach the error.
func TestClientErrorQuotingURLDoesNotLeakToken(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		http.Redirect(w, r, r.URL.Path+"x", http.StatusTemporaryRedirect)
	}))
	defer srv.Close()
	errLoop := errors.New("too many redirects")
	client := &http.Client{CheckRedirect: func(req *http.Request, via []*http.Request) error {
		return fmt.Errorf("%w: %d from %s", errLoop, len(via), via[0].URL)
	}}
	s, err := New(Config{Name: "ops-slack", URL: srv.URL + tokenPath}, WithClient(client))
	if err != nil {
		t.Fatal(err)
	}
	err = s.Send(context.Background(), "dlv", testEvent("a1", events.AlertEventType))
	if !errors.Is(err, errLoop) {
		t.Fatalf("Send = %v, want the client's error in the chain", err)
	}
	var se *sink.Error
	if !errors.As(err, &se) {
		t.Fatalf("Send = %v, want *sink.Error", err)
	}
	for _, msg := range []string{err.Error(), se.Error()} {
		if strings.Contains(msg, "XXXXXXXX") || strings.Contains(msg, "T0000") {
			t.Errorf("error leaks the webhook token: %s", msg)
		}
		if !strings.Contains(msg, "[redacted]") {
			t.Errorf("error %q does not show where it redacted", msg)
		}
	}
}

func TestNewConfig(t *testing.T) {
	const secretURL = "https://hooks.slack.com/services/T1/B1/SECRETSECRET"
	t.Setenv("SLACK_TEST_URL", secretURL)
	dir := t.TempDir()
	file := filepath.Join(dir, "url")
	if err := os.WriteFile(file, []byte(secretURL+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		cfg     Config
		mention string // empty: New must succeed
	}{
		{name: "url from env", cfg: Config{Name: "s", URLEnv: "SLACK_TEST_URL"}},
		{name: "url from file", cfg: Config{Name: "s", URLFile: file}},
		{name: "no name", cfg: Config{URL: secretURL}, mention: "name"},
		{name: "no url", cfg: Config{Name: "s"}, mention: "url_env"},
		{name: "two urls", cfg: Config{Name: "s", URL: secretURL, URLEnv: "SLACK_TEST_URL"}, mention: "only one"},
		{name: "not a url", cfg: Config{Name: "s", URL: "hooks.slack.com/services/T1/B1/SECRETSECRET"}, mention: "https://"},
		{name: "negative timeout", cfg: Config{Name: "s", URL: secretURL, Timeout: -1}, mention: "timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.cfg)
			if tt.mention == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), tt.mention) {
				t.Fatalf("New = %v, want ErrConfig mentioning %q", err, tt.mention)
			}
			if strings.Contains(err.Error(), "SECRETSECRET") {
				t.Errorf("error leaks the URL: %v", err)
			}
		})
	}
}

func BenchmarkAlertMessage(b *testing.B) {
	ev := testEvent("a1", events.AlertEventType)
	for b.Loop() {
		if _, err := encode(AlertMessage(ev)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "messages/s")
}

func TestSnippetBoldsTheAliasThatMatched(t *testing.T) {
	a := events.Alert{Matches: []events.MatchedTerm{{
		Term: "MQ-9B", Text: "SeaGuardian", Field: "text",
		Snippet: "The navy will lease two SeaGuardian drones from General Atomics.",
	}}}
	got := snippets(a, 1)
	if len(got) != 1 || !strings.Contains(got[0], "*SeaGuardian*") {
		t.Errorf("snippets = %q, want the alias in bold", got)
	}
}

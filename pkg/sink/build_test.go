package sink_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/newswatch/newswatch/pkg/events"
	"github.com/newswatch/newswatch/pkg/sink"
	"github.com/newswatch/newswatch/pkg/sink/slack"
	"github.com/newswatch/newswatch/pkg/sink/webhook"
)

// sender is what the HTTP sinks have in common here.
type sender interface {
	Send(ctx context.Context, deliveryID string, ev events.CloudEvent) error
}

// hits records the requests a test server saw.
type hits struct {
	mu  sync.Mutex
	uas []string
}

func (h *hits) server(t *testing.T, next http.HandlerFunc) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.mu.Lock()
		h.uas = append(h.uas, r.UserAgent())
		h.mu.Unlock()
		next(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func (h *hits) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.uas)
}

func build(t *testing.T, typ, doc string) (sender, error) {
	t.Helper()
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(doc), &n); err != nil {
		t.Fatal(err)
	}
	switch typ {
	case "webhook":
		return webhook.Build(n.Content[0])
	case "slack":
		return slack.Build(n.Content[0])
	}
	t.Fatalf("unknown type %s", typ)
	return nil, nil
}

func entry(typ, url, extra string) string {
	doc := fmt.Sprintf("name: ops\ntype: %s\nurl: %s\n", typ, url)
	if typ == "webhook" {
		doc += "secret: whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n"
	}
	return doc + extra
}

func alert() events.CloudEvent {
	return events.NewAlertEvent(events.Alert{Schema: events.AlertSchema, AlertID: "a1", WatchID: "w", Title: "t",
		CreatedAt: time.Now().UTC()}, events.AlertEventType)
}

// A sink built from its config entry reaches a loopback receiver only with
// its own allow_private_networks, never follows a redirect (the target sees
// nothing, the error is status_3xx and names the Location), and sends the
// notifier's one User-Agent.
func TestBuiltSinks(t *testing.T) {
	for _, typ := range []string{"webhook", "slack"} {
		t.Run(typ, func(t *testing.T) {
			var target, origin, ok hits
			tsrv := target.server(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(200) })
			osrv := origin.server(t, func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, tsrv.URL+"/ok?token=abc123", http.StatusFound)
			})
			oksrv := ok.server(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(200) })

			// Default policy: loopback is refused, and the error says which key of which sink.
			s, err := build(t, typ, entry(typ, oksrv.URL+"/hook", ""))
			if err != nil {
				t.Fatal(err)
			}
			err = s.Send(t.Context(), "d1", alert())
			var se *sink.Error
			if !errors.As(err, &se) || se.Reason != sink.ReasonRefused || se.Retryable {
				t.Fatalf("default policy: %v, want permanent %s", err, sink.ReasonRefused)
			}
			if !strings.Contains(err.Error(), `allow_private_networks: true on sink "ops"`) {
				t.Errorf("refusal %q does not name the sink's key", err)
			}
			if ok.count() != 0 {
				t.Fatal("refused request reached the receiver")
			}

			s, err = build(t, typ, entry(typ, oksrv.URL+"/hook", "allow_private_networks: true\n"))
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Send(t.Context(), "d1", alert()); err != nil {
				t.Fatalf("with allow_private_networks: %v", err)
			}
			if got := ok.uas; len(got) != 1 || got[0] != sink.UserAgent {
				t.Errorf("User-Agent %q, want %q", got, sink.UserAgent)
			}

			s, err = build(t, typ, entry(typ, osrv.URL+"/hook", "allow_networks: [127.0.0.0/8, '::1']\n"))
			if err != nil {
				t.Fatal(err)
			}
			err = s.Send(t.Context(), "d2", alert())
			if !errors.As(err, &se) || se.Reason != sink.ReasonStatus3xx || se.Retryable {
				t.Fatalf("redirect: %v, want permanent %s", err, sink.ReasonStatus3xx)
			}
			if !strings.Contains(err.Error(), tsrv.URL+"/ok") || strings.Contains(err.Error(), "abc123") {
				t.Errorf("error %q should name the Location without its query", err)
			}
			if origin.count() != 1 || target.count() != 0 {
				t.Errorf("origin saw %d requests, target %d; want 1 and 0", origin.count(), target.count())
			}
		})
	}
}

func TestBuildRejectsBadNetworkKeys(t *testing.T) {
	tests := []struct{ name, extra, say string }{
		{"bad cidr", "allow_networks: [10.0.0/8]\n", `allow_networks[0]: "10.0.0/8"`},
		{"host with scheme", "allow_hosts: ['http://hook.internal']\n", `allow_hosts[0]`},
		{"wildcard host", "allow_hosts: ['*.svc.cluster.local']\n", `.svc.cluster.local for every name below it`},
		{"typo", "allow_private_network: true\n", "allow_private_network"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, typ := range []string{"webhook", "slack"} {
				_, err := build(t, typ, entry(typ, "https://hook.example.org/x", tt.extra))
				if err == nil || !strings.Contains(err.Error(), tt.say) {
					t.Errorf("%s: err = %v, want it to say %q", typ, err, tt.say)
				}
			}
		})
	}
}

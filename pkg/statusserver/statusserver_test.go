package statusserver

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/newswatch/newswatch/pkg/testwait"
)

// get polls url until the server answers (it starts serving in a goroutine).
func get(t *testing.T, url string) (int, string) {
	t.Helper()
	var code int
	var body string
	testwait.For(t, 10*time.Second, "GET "+url, func() error {
		resp, err := http.Get(url)
		if err != nil {
			return err
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		code, body = resp.StatusCode, string(b)
		return nil
	})
	return code, body
}

func TestPprofSwitch(t *testing.T) {
	for _, on := range []bool{false, true} {
		t.Run(map[bool]string{false: "off", true: "on"}[on], func(t *testing.T) {
			s, err := New("127.0.0.1:0", prometheus.NewRegistry(), WithPprof(on))
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- s.Serve(ctx, slog.New(slog.DiscardHandler)) }()
			t.Cleanup(func() { cancel(); <-done })
			code, body := get(t, "http://"+s.Addr()+"/debug/pprof/heap?debug=1")
			if on && (code != http.StatusOK || !strings.Contains(body, "heap profile")) {
				t.Errorf("pprof on: heap profile %d %.80q", code, body)
			}
			if !on && code != http.StatusNotFound {
				t.Errorf("pprof off: /debug/pprof/heap answered %d", code)
			}
		})
	}
}

// handle serves one request to path in-process.
func handle(t *testing.T, s *Server, path string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	s.srv.Handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	b, _ := io.ReadAll(rec.Body)
	return rec.Code, string(b)
}

func TestHealthzDetailsAndReadyz(t *testing.T) {
	s, err := New("127.0.0.1:0", prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	defer s.ln.Close()
	if code, body := handle(t, s, "/healthz"); code != 200 || body != "ok\n" {
		t.Errorf("/healthz with no details = %d %q", code, body)
	}
	if code, body := handle(t, s, "/readyz"); code != 503 || body != "starting\n" {
		t.Errorf("/readyz with no checks = %d %q", code, body)
	}
	s.AddDetail("feeds", func() string { return "FAILING: all 2 active feeds failed their last poll" })
	s.AddDetail("analyzer", func() string { return "" }) // nothing to say: no line
	s.AddCheck("nats", func() error { return nil })
	if code, body := handle(t, s, "/healthz"); code != 200 || body != "ok\nfeeds: FAILING: all 2 active feeds failed their last poll\n" {
		t.Errorf("/healthz = %d %q", code, body)
	}
	if code, body := handle(t, s, "/readyz"); code != 200 || body != "ready\n" {
		t.Errorf("/readyz = %d %q", code, body)
	}
	s.AddCheck("consumer notifier", func() error { return errors.New("consumer deleted") })
	if code, body := handle(t, s, "/readyz"); code != 503 || body != "consumer notifier: consumer deleted\n" {
		t.Errorf("/readyz with a failing check = %d %q", code, body)
	}
}

func TestListenErrorNamesTheFix(t *testing.T) {
	s, err := New("127.0.0.1:0", prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	defer s.ln.Close()
	_, err = New(s.Addr(), prometheus.NewRegistry())
	if err == nil {
		t.Fatal("second listen on the same address succeeded")
	}
	for _, want := range []string{"http.listen", "-http-listen", "NEWSWATCH_HTTP_LISTEN"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

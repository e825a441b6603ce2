package statusserver

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

func get(t *testing.T, s *Server, path string) (int, string) {
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
	if code, body := get(t, s, "/healthz"); code != 200 || body != "ok\n" {
		t.Errorf("/healthz with no details = %d %q", code, body)
	}
	if code, body := get(t, s, "/readyz"); code != 503 || body != "starting\n" {
		t.Errorf("/readyz with no checks = %d %q", code, body)
	}
	s.AddDetail("feeds", func() string { return "FAILING: all 2 active feeds failed their last poll" })
	s.AddDetail("analyzer", func() string { return "" }) // nothing to say: no line
	s.AddCheck("nats", func() error { return nil })
	if code, body := get(t, s, "/healthz"); code != 200 || body != "ok\nfeeds: FAILING: all 2 active feeds failed their last poll\n" {
		t.Errorf("/healthz = %d %q", code, body)
	}
	if code, body := get(t, s, "/readyz"); code != 200 || body != "ready\n" {
		t.Errorf("/readyz = %d %q", code, body)
	}
	s.AddCheck("consumer notifier", func() error { return errors.New("consumer deleted") })
	if code, body := get(t, s, "/readyz"); code != 503 || body != "consumer notifier: consumer deleted\n" {
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

package statusserver

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/newswatch/newswatch/pkg/testwait"
)

// get polls url until the server answers (it starts serving in a goroutine).
func get(t *testing.T, url string) (code int, body string) {
	t.Helper()
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

package app_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/newswatch/newswatch/pkg/app"
	"github.com/newswatch/newswatch/pkg/config"
	"github.com/newswatch/newswatch/pkg/testwait"
)

// An offline run, where every feed fails, says so on /healthz (which stays
// 200: a restart would not help) instead of looking healthy.
func TestHealthzShowsEveryFeedFailing(t *testing.T) {
	down := httptest.NewServer(http.NotFoundHandler())
	feedURL := down.URL + "/feed.xml"
	down.Close() // connection refused from now on, like an offline machine
	cfg, err := config.Parse([]byte(fmt.Sprintf(`
nats: {listen: "127.0.0.1:0", store_dir: %q}
http: {listen: "127.0.0.1:0"}
fetcher: {allow_private_networks: true}
feeds:
  - {id: wire, url: %q, interval: 1h}
`, t.TempDir(), feedURL)), "test", func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.Start(t.Context(), cfg, []string{app.Fetcher}, true, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Stop()
	var body string
	testwait.For(t, time.Minute, "/healthz to report the failing feed", func() error {
		resp, err := http.Get("http://" + a.StatusAddr() + "/healthz")
		if err != nil {
			return err
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		body = string(b)
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("status %d: %s", resp.StatusCode, body)
		}
		if !strings.Contains(body, "feeds: FAILING: all 1 active feeds failed their last poll") {
			return fmt.Errorf("/healthz says %q", body)
		}
		return nil
	})
	if !strings.HasPrefix(body, "ok\n") || !strings.Contains(body, "newswatch feeds") {
		t.Errorf("/healthz = %q, want ok and the command that shows the errors", body)
	}
}

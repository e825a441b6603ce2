package app_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/newswatch/newswatch/pkg/app"
	"github.com/newswatch/newswatch/pkg/demosite"
)

// Every metric a running newswatch exposes passes `promtool check metrics`
// (Prometheus naming and help conventions). CI sets NEWSWATCH_REQUIRE_PROMTOOL
// so that a missing promtool fails instead of skipping.
func TestMetricsPassPromtool(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("NEWSWATCH_REQUIRE_PROMTOOL") != "" {
			t.Fatal("promtool not found; .ci/deploy-checks installs it")
		}
		t.Skip("promtool not installed")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	site := httptest.NewServer(demosite.Handler())
	defer site.Close()
	hook := &hookReceiver{t: t}
	hookSrv := httptest.NewServer(hook)
	defer hookSrv.Close()
	cfg := e2eConfig(t, site.URL+"/feed.xml", hookSrv.URL, t.TempDir())
	a, err := app.Start(ctx, cfg, app.All, true, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Stop()
	waitFor(t, "the webhook delivery", func() bool { return hook.count() >= 1 })

	// Articles are published while their poll goes on, so the alert can
	// arrive before the poll ends and counts itself: wait until every
	// component has exposed its series.
	names := []string{
		"newswatch_fetcher_polls_total", "newswatch_fetcher_articles_published_total",
		"newswatch_analyzer_articles_total", "newswatch_notifier_alerts_total",
		"newswatch_notifier_deliveries_total", "newswatch_notifier_alert_latency_seconds_bucket",
	}
	var body []byte
	waitFor(t, "every component's series on /metrics", func() bool {
		resp, err := http.Get("http://" + a.StatusAddr() + "/metrics")
		if err != nil {
			return false
		}
		body, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		for _, name := range names {
			if !bytes.Contains(body, []byte(name)) {
				return false
			}
		}
		return true
	})
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = bytes.NewReader(body)
	out, err := cmd.CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "" {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}
}

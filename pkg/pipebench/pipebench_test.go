package pipebench_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/newswatch/newswatch/pkg/app"
	"github.com/newswatch/newswatch/pkg/natstest"
	"github.com/newswatch/newswatch/pkg/pipebench"
	"github.com/newswatch/newswatch/pkg/topology"
)

// A short run against a real newswatch: every article alerts, the relay
// moves every message, and the memory figures come from the app's /metrics.
func TestBenchAgainstARunningNewswatch(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cfg := natstest.AppConfig(t)
	a, err := app.Start(ctx, &cfg, []string{app.Analyzer, app.Notifier}, true, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Stop()
	wkv, err := a.JetStream().KeyValue(ctx, topology.BucketWatches)
	if err != nil {
		t.Fatal(err)
	}
	b := pipebench.New(a.JetStream())
	if err := b.AddWatch(ctx, wkv, time.Minute); err != nil {
		t.Fatal(err)
	}
	res, err := b.Pipeline(ctx, pipebench.Options{Articles: 40, Rate: 200, Bytes: 2000, Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if res.Messages != 40 || len(res.Latencies) != 40 || res.PerSecond() <= 0 || res.Quantile(0.5) <= 0 || res.Quantile(0.5) > res.Quantile(1) {
		t.Errorf("pipeline result %d messages, %d latencies, %.0f/s, p50 %s max %s", res.Messages, len(res.Latencies), res.PerSecond(), res.Quantile(0.5), res.Quantile(1))
	}
	relay, err := b.Relay(ctx, 40, 2000, time.Minute)
	if err != nil || relay.Messages != 40 || relay.PerSecond() <= 0 {
		t.Errorf("relay %+v, %v", relay, err)
	}
	if _, err := a.JetStream().Stream(ctx, "NWBENCH_A"); err == nil {
		t.Error("relay streams left behind")
	}
	m, err := pipebench.ReadMemory(ctx, "http://"+a.StatusAddr()+"/metrics")
	if err != nil || m.Resident <= 0 || m.HeapInuse <= 0 {
		t.Errorf("memory %+v, %v", m, err)
	}
	if err := b.RemoveWatch(ctx, wkv); err != nil {
		t.Error(err)
	}
}

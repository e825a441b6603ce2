package topology_test

import (
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/newswatch/newswatch/pkg/natstest"
	"github.com/newswatch/newswatch/pkg/topology"
)

// A publish to a full discard-new stream fails, is counted with reason
// "limit", and leaves the caller to keep and retry the message.
func TestPublishErrorsAreCounted(t *testing.T) {
	ns := natstest.Start(t)
	ctx := t.Context()
	if _, err := ns.JS.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name: topology.StreamDeadLetter, Subjects: []string{"deadletter.>"}, Storage: jetstream.FileStorage,
		MaxMsgs: 1, Discard: jetstream.DiscardNew, MaxAge: time.Hour,
	}); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	js := topology.CountPublishErrors(ns.JS, reg)
	if _, err := js.Publish(ctx, topology.DeadLetterSubject("hook"), []byte("1")); err != nil {
		t.Fatal(err)
	}
	_, err := js.Publish(ctx, topology.DeadLetterSubject("hook"), []byte("2"))
	if err == nil {
		t.Fatal("publish to a full discard-new stream succeeded")
	}
	if got := topology.PublishErrorReason(err); got != "limit" {
		t.Errorf("reason %q for %v", got, err)
	}
	out, _ := testutil.GatherAndCount(reg, "newswatch_jetstream_publish_errors_total")
	if out != 1 {
		t.Errorf("%d series, want 1", out)
	}
	if err := testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP newswatch_jetstream_publish_errors_total Publishes to JetStream that failed, by stream and reason (limit, storage, unavailable, other); the message is kept and retried.
# TYPE newswatch_jetstream_publish_errors_total counter
newswatch_jetstream_publish_errors_total{reason="limit",stream="DEADLETTER"} 1
`), "newswatch_jetstream_publish_errors_total"); err != nil {
		t.Error(err)
	}
}

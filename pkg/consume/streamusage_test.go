package consume_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/newswatch/newswatch/pkg/consume"
	"github.com/newswatch/newswatch/pkg/natstest"
	"github.com/newswatch/newswatch/pkg/testwait"
)

func TestWatchStreamReportsABucket(t *testing.T) {
	ns := natstest.Start(t)
	kv, err := ns.JS.CreateKeyValue(t.Context(), jetstream.KeyValueConfig{Bucket: "usage", MaxBytes: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Put(t.Context(), "k", make([]byte, 1000)); err != nil {
		t.Fatal(err)
	}
	m := consume.NewLagMetrics(prometheus.NewRegistry())
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { m.WatchStream(ctx, ns.JS, "KV_usage", 10*time.Millisecond); close(done) }()
	defer func() { cancel(); <-done }()
	testwait.For(t, 10*time.Second, "bytes reported for KV_usage", func() error {
		if got := testutil.ToFloat64(m.StreamBytes.WithLabelValues("KV_usage")); got < 1000 {
			return fmt.Errorf("%v bytes", got)
		}
		return nil
	})
	if got := testutil.ToFloat64(m.StreamMaxBytes.WithLabelValues("KV_usage")); got != 1<<20 {
		t.Errorf("max bytes %v", got)
	}
}

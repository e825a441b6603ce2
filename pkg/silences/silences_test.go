package silences_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/newswatch/newswatch/pkg/natstest"
	"github.com/newswatch/newswatch/pkg/silences"
	"github.com/newswatch/newswatch/pkg/testwait"
	"github.com/newswatch/newswatch/pkg/topology"
)

type countingKV struct {
	jetstream.KeyValue
	gets atomic.Int64
}

func (c *countingKV) Get(ctx context.Context, key string) (jetstream.KeyValueEntry, error) {
	c.gets.Add(1)
	return c.KeyValue.Get(ctx, key)
}

func waitSilenced(t *testing.T, s *silences.Store, watch, story string, want bool) {
	t.Helper()
	testwait.For(t, 10*time.Second, fmt.Sprintf("Silenced(%s, %s) to be %v", watch, story, want), func() error {
		_, got, err := s.Silenced(t.Context(), watch, story)
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			return fmt.Errorf("still %v", got)
		}
		return nil
	})
}

// A followed store answers from memory and sees silences added and removed
// by another store (the CLI) without reading the bucket.
func TestFollow(t *testing.T) {
	ns := natstest.Start(t)
	kv, err := ns.Topo.KV(t.Context(), topology.BucketSilences, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	cli := silences.New(kv)
	if err := cli.Add(t.Context(), silences.Silence{Watch: "w1"}); err != nil {
		t.Fatal(err)
	}
	counted := &countingKV{KeyValue: kv}
	followed := silences.New(counted)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- followed.Follow(ctx) }()

	waitSilenced(t, followed, "w1", "s1", true) // present before Follow started
	if err := cli.Add(t.Context(), silences.Silence{Watch: "w2", Story: "s9", Until: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	waitSilenced(t, followed, "w2", "s9", true)
	waitSilenced(t, followed, "w2", "s1", false) // another story of w2
	// Until the watch has delivered the bucket's state the store reads it.
	testwait.For(t, 10*time.Second, "Silenced to stop reading the bucket while following", func() error {
		before := counted.gets.Load()
		followed.Silenced(t.Context(), "w2", "s9")
		if n := counted.gets.Load() - before; n != 0 {
			return fmt.Errorf("%d bucket reads", n)
		}
		return nil
	})
	before := counted.gets.Load()
	for range 100 {
		if _, ok, err := followed.Silenced(t.Context(), "w2", "s9"); err != nil || !ok {
			t.Fatalf("Silenced = %v, %v", ok, err)
		}
	}
	if n := counted.gets.Load() - before; n != 0 {
		t.Errorf("%d bucket reads for 100 Silenced calls while following", n)
	}
	if err := cli.Remove(t.Context(), "w1", ""); err != nil {
		t.Fatal(err)
	}
	waitSilenced(t, followed, "w1", "s1", false)

	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// Stopped following: the store reads the bucket again.
	before = counted.gets.Load()
	waitSilenced(t, followed, "w2", "s9", true)
	if counted.gets.Load() == before {
		t.Error("no bucket read after Follow returned")
	}
}

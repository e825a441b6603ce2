// Package natstest starts a real embedded NATS server with JetStream in a
// test's temporary directory, for tests that need JetStream.
package natstest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/newswatch/newswatch/pkg/config"
	"github.com/newswatch/newswatch/pkg/embedded"
	"github.com/newswatch/newswatch/pkg/topology"
)

// Server is a JetStream server and a connection to it.
type Server struct {
	URL  string
	Conn *nats.Conn
	JS   jetstream.JetStream
	Topo *topology.Topology
	Cfg  *config.Config
}

// Start runs a server in t.TempDir() with the default stream topology
// created; everything stops at the end of the test.
func Start(t testing.TB) *Server {
	t.Helper()
	srv, err := embedded.Start("127.0.0.1:0", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	nc, err := nats.Connect(srv.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	topo := topology.New(js, &cfg)
	if err := topo.EnsureStreams(t.Context()); err != nil {
		t.Fatal(err)
	}
	return &Server{URL: srv.ClientURL(), Conn: nc, JS: js, Topo: topo, Cfg: &cfg}
}

// ConsumerIdle returns nil when the durable consumer of stream has handled
// every message stored so far (none pending, none awaiting an ack), and
// otherwise an error saying how many are left. Use it with testwait.For to
// wait until a worker has finished, rather than sleeping, before counting
// what it produced.
func ConsumerIdle(ctx context.Context, js jetstream.JetStream, stream, consumer string) error {
	c, err := js.Consumer(ctx, stream, consumer)
	if err != nil {
		return fmt.Errorf("consumer %s on %s: %w", consumer, stream, err)
	}
	info, err := c.Info(ctx)
	if err != nil {
		return fmt.Errorf("consumer %s on %s: %w", consumer, stream, err)
	}
	if info.NumPending != 0 || info.NumAckPending != 0 {
		return fmt.Errorf("consumer %s on %s: %d pending, %d awaiting an ack", consumer, stream, info.NumPending, info.NumAckPending)
	}
	return nil
}

// Messages returns the data of every message stored in stream, oldest
// first; with subject set, only of the messages on that subject. It reads
// them one by one, for the small streams of a test.
func Messages(tb testing.TB, js jetstream.JetStream, stream, subject string) [][]byte {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := js.Stream(ctx, stream)
	if err != nil {
		tb.Fatalf("stream %s: %v", stream, err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		tb.Fatalf("stream %s: %v", stream, err)
	}
	var out [][]byte
	for seq := info.State.FirstSeq; info.State.Msgs > 0 && seq <= info.State.LastSeq; seq++ {
		m, err := s.GetMsg(ctx, seq)
		if err != nil || subject != "" && m.Subject != subject {
			continue // deleted, or another subject's
		}
		out = append(out, m.Data)
	}
	return out
}

// AppConfig is the default config for an app.Start in a test: its embedded
// NATS server and its status server on free loopback ports, its store in
// t.TempDir().
func AppConfig(t testing.TB) config.Config {
	cfg := config.Default()
	cfg.NATS.Listen = "127.0.0.1:0"
	cfg.NATS.StoreDir = t.TempDir()
	cfg.HTTP.Listen = "127.0.0.1:0"
	return cfg
}

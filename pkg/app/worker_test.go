package app_test

import (
	"bytes"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/newswatch/newswatch/pkg/app"
	"github.com/newswatch/newswatch/pkg/natstest"
	"github.com/newswatch/newswatch/pkg/testwait"
	"github.com/newswatch/newswatch/pkg/topology"
)

// A standalone worker joins the NATS server named by -nats-url, creates its
// durable consumer, and on SIGTERM drains and exits 0.
func TestWorkerMainStopsCleanlyOnSIGTERM(t *testing.T) {
	ns := natstest.Start(t)
	cfgFile := filepath.Join(t.TempDir(), "newswatch.yaml")
	if err := os.WriteFile(cfgFile, []byte("http:\n  listen: 127.0.0.1:0\nlog:\n  format: json\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var stdout bytes.Buffer
	var stderr syncBuffer // written by the worker while the test reads it
	done := make(chan int, 1)
	go func() {
		done <- app.WorkerMain(app.Analyzer, []string{"--config", cfgFile, "-nats-url", ns.URL}, &stdout, &stderr)
	}()
	// SIGTERM must come once the worker has started and handles it.
	testwait.For(t, 30*time.Second, "the analyzer to start", func() error {
		if _, err := ns.JS.Consumer(t.Context(), topology.StreamArticles, topology.ConsumerAnalyzer); err != nil {
			return err
		}
		if !strings.Contains(stderr.String(), "newswatch started") {
			return errors.New("no \"newswatch started\" in its log yet")
		}
		return nil
	})
	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("exit code %d; stderr:\n%s", code, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the worker did not stop on SIGTERM")
	}
	if !strings.Contains(stderr.String(), "draining the NATS connection") {
		t.Errorf("no drain logged:\n%s", stderr.String())
	}
}

func TestWorkerMainFlags(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := app.WorkerMain(app.Fetcher, []string{"--version"}, &stdout, &stderr); code != 0 || !strings.HasPrefix(stdout.String(), "fetcher ") {
		t.Errorf("--version: %d %q", code, stdout.String())
	}
	stdout.Reset()
	if code := app.WorkerMain(app.Fetcher, []string{"-version"}, &stdout, &stderr); code != 0 || !strings.HasPrefix(stdout.String(), "fetcher ") {
		t.Errorf("-version: %d %q", code, stdout.String())
	}
	stderr.Reset()
	if code := app.WorkerMain(app.Notifier, []string{"-config", "/nonexistent/newswatch.yaml"}, &stdout, &stderr); code != 1 || !strings.Contains(stderr.String(), "/nonexistent/newswatch.yaml") {
		t.Errorf("missing config: %d %q", code, stderr.String())
	}
	stderr.Reset()
	if code := app.WorkerMain(app.Notifier, nil, &stdout, &stderr); code != 1 || !strings.Contains(stderr.String(), "nats.url") {
		t.Errorf("no NATS: %d %q", code, stderr.String())
	}
}

// syncBuffer is a bytes.Buffer safe to write from one goroutine while
// another reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// -http-listen overrides http.listen, so the three worker binaries run side
// by side on one machine; an error names the binary, not newswatch.
func TestWorkerMainHTTPListenAndName(t *testing.T) {
	ns := natstest.Start(t)
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	for _, component := range []string{app.Fetcher, app.Analyzer, app.Notifier} {
		var stdout, stderr bytes.Buffer
		code := app.WorkerMain(component, []string{"-nats-url", ns.URL, "-http-listen", busy.Addr().String()}, &stdout, &stderr)
		if code != 1 || !strings.HasPrefix(stderr.String(), component+": statusserver: cannot listen on http.listen \""+busy.Addr().String()) ||
			!strings.Contains(stderr.String(), "-http-listen") {
			t.Errorf("%s on a busy -http-listen: exit %d, stderr %q", component, code, stderr.String())
		}
	}
}

// The README's three worker commands, each with its own -http-listen, run
// side by side on one machine and each serves /metrics.
func TestThreeWorkersSideBySide(t *testing.T) {
	ns := natstest.Start(t)
	cfgFile := filepath.Join(t.TempDir(), "newswatch.yaml")
	if err := os.WriteFile(cfgFile, []byte("log:\n  format: json\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	type worker struct {
		name, addr string
		stderr     syncBuffer
		done       chan int
	}
	var workers []*worker
	for _, name := range []string{app.Fetcher, app.Analyzer, app.Notifier} {
		ln, err := net.Listen("tcp", "127.0.0.1:0") // a free port, as 9091-9093 in the README
		if err != nil {
			t.Fatal(err)
		}
		w := &worker{name: name, addr: ln.Addr().String(), done: make(chan int, 1)}
		ln.Close()
		workers = append(workers, w)
		go func() {
			var stdout bytes.Buffer
			w.done <- app.WorkerMain(w.name, []string{"-config", cfgFile, "-nats-url", ns.URL, "-http-listen", w.addr}, &stdout, &w.stderr)
		}()
	}
	for _, w := range workers {
		testwait.For(t, time.Minute, w.name+" to serve /metrics on "+w.addr, func() error {
			select {
			case code := <-w.done:
				t.Fatalf("%s exited %d:\n%s", w.name, code, w.stderr.String())
			default:
			}
			if _, err := testwait.Metric("http://"+w.addr+"/metrics", "go_goroutines"); err != nil {
				return err
			}
			if !strings.Contains(w.stderr.String(), "newswatch started") {
				return errors.New("not started yet")
			}
			return nil
		})
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	for _, w := range workers {
		select {
		case code := <-w.done:
			if code != 0 {
				t.Errorf("%s exit code %d:\n%s", w.name, code, w.stderr.String())
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("%s did not stop on SIGTERM", w.name)
		}
	}
}

// Package statusserver serves a worker's /metrics, /healthz and /readyz.
package statusserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/http/pprof"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// ReadyFunc reports nil when a component is ready to do its work.
type ReadyFunc func() error

// DetailFunc returns one line about a component's health for /healthz, or
// "" when there is nothing to say. It never fails the probe: the process is
// alive, and a restart would not bring back a feed the network has lost.
type DetailFunc func() string

// Server is the HTTP status endpoint of a process.
type Server struct {
	mu      sync.Mutex
	checks  map[string]ReadyFunc
	details map[string]DetailFunc
	srv     *http.Server
	ln      net.Listener
}

// Option configures a Server.
type Option func(*options)

type options struct{ pprof bool }

// WithPprof serves the Go runtime profiles of net/http/pprof under
// /debug/pprof/ (config key http.pprof). They show the process's heap,
// goroutines and CPU time to anyone who can reach the address, so they are
// off by default.
func WithPprof(on bool) Option { return func(o *options) { o.pprof = on } }

// New listens on addr and serves the metrics of gatherer.
func New(addr string, gatherer prometheus.Gatherer, opts ...Option) (*Server, error) {
	var o options
	for _, f := range opts {
		f(&o)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("statusserver: cannot listen on http.listen %q: %w (give each process on a machine its own address: http.listen, NEWSWATCH_HTTP_LISTEN or -http-listen)", addr, err)
	}
	s := &Server{checks: map[string]ReadyFunc{}, details: map[string]DetailFunc{}, ln: ln}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(gatherer, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /readyz", s.readyz)
	if o.pprof {
		mux.HandleFunc("GET /debug/pprof/", pprof.Index)
		mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	}
	s.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	return s, nil
}

// Addr is the address the server listens on.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// AddCheck registers a readiness check under name.
func (s *Server) AddCheck(name string, f ReadyFunc) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.checks[name] = f
}

// AddDetail registers a line of /healthz under name.
func (s *Server) AddDetail(name string, f DetailFunc) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.details[name] = f
}

// healthz answers 200 "ok" while the process runs, followed by one
// "name: detail" line per component with something to report, in name
// order, so that an operator (or `curl`) sees, say, that every feed fails.
func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	names := make([]string, 0, len(s.details))
	for n := range s.details {
		names = append(names, n)
	}
	details := maps.Clone(s.details)
	s.mu.Unlock()
	slices.Sort(names)
	fmt.Fprintln(w, "ok")
	for _, n := range names {
		if d := details[n](); d != "" {
			fmt.Fprintf(w, "%s: %s\n", n, d)
		}
	}
}

func (s *Server) readyz(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	checks := make(map[string]ReadyFunc, len(s.checks))
	for k, v := range s.checks {
		checks[k] = v
	}
	s.mu.Unlock()
	var failed []string
	for name, f := range checks {
		if err := f(); err != nil {
			failed = append(failed, fmt.Sprintf("%s: %v", name, err))
		}
	}
	if len(checks) == 0 {
		failed = append(failed, "starting")
	}
	if len(failed) > 0 {
		w.WriteHeader(http.StatusServiceUnavailable)
		for _, f := range failed {
			fmt.Fprintln(w, f)
		}
		return
	}
	fmt.Fprintln(w, "ready")
}

// Serve serves until ctx ends, then shuts down gracefully.
func (s *Server) Serve(ctx context.Context, logger *slog.Logger) error {
	errc := make(chan error, 1)
	go func() { errc <- s.srv.Serve(s.ln) }()
	logger.Info("status server listening", "addr", s.Addr())
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	}
}

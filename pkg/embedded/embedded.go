// Package embedded runs a NATS server with JetStream inside the newswatch
// process, so one machine needs nothing installed but the binary.
package embedded

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// Sentinel errors.
var (
	ErrStart    = errors.New("embedded: cannot start NATS server")
	ErrInsecure = errors.New("embedded: refusing to listen beyond loopback without authentication and TLS")
)

// Server is a running embedded NATS server.
type Server struct {
	ns *server.Server
}

// Option configures the embedded server.
type Option func(*options)

type options struct {
	token, user, password string
	certFile, keyFile     string
}

// WithToken requires clients to present token.
func WithToken(token string) Option { return func(o *options) { o.token = token } }

// WithUser requires clients to log in as user with password.
func WithUser(user, password string) Option {
	return func(o *options) { o.user, o.password = user, password }
}

// WithTLS serves TLS with the certificate and key files.
func WithTLS(certFile, keyFile string) Option {
	return func(o *options) { o.certFile, o.keyFile = certFile, keyFile }
}

// Start runs a JetStream-enabled server listening on listen ("host:port";
// port 0 picks a free port) with file storage under storeDir. On loopback
// it needs nothing more; beyond loopback it refuses to start unless clients
// must authenticate (token or user/password) and connect over TLS.
func Start(listen, storeDir string, opts ...Option) (*Server, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	host, portStr, err := net.SplitHostPort(listen)
	if err != nil {
		return nil, fmt.Errorf("%w: nats.listen %q is not host:port: %v", ErrStart, listen, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return nil, fmt.Errorf("%w: nats.listen %q has no numeric port", ErrStart, listen)
	}
	if port == 0 {
		port = server.RANDOM_PORT
	}
	sopts := &server.Options{
		ServerName: "newswatch-embedded",
		Host:       host,
		Port:       port,
		JetStream:  true,
		StoreDir:   storeDir,
		NoSigs:     true,
	}
	auth := o.token != "" || (o.user != "" && o.password != "")
	if o.token != "" {
		sopts.Authorization = o.token
	} else if o.user != "" {
		sopts.Username, sopts.Password = o.user, o.password
	}
	if o.certFile != "" || o.keyFile != "" {
		cert, err := tls.LoadX509KeyPair(o.certFile, o.keyFile)
		if err != nil {
			return nil, fmt.Errorf("%w: nats.embedded_tls: %v", ErrStart, err)
		}
		sopts.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		sopts.TLS = true
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		if !auth || sopts.TLSConfig == nil {
			return nil, fmt.Errorf("%w: nats.listen %q; set nats.token_file (or nats.user and nats.password_file) and nats.embedded_tls.cert_file/key_file, or listen on 127.0.0.1", ErrInsecure, listen)
		}
	}
	ns, err := server.NewServer(sopts)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrStart, err)
	}
	// The server reports a port in use or a store it cannot write only
	// through its logger; catch those so Start fails at once with the cause.
	sl := &startLog{}
	ns.SetLogger(sl, false, false)
	go ns.Start()
	deadline := time.Now().Add(startTimeout)
	for !ns.ReadyForConnections(50 * time.Millisecond) {
		if msg := sl.fatal(); msg != "" || time.Now().After(deadline) {
			ns.Shutdown()
			return nil, startError(listen, storeDir, msg, sl.lastError())
		}
	}
	return &Server{ns: ns}, nil
}

// startTimeout bounds the wait for a server that neither becomes ready nor
// reports why.
const startTimeout = 15 * time.Second

// startError says why the server did not start and what to change.
func startError(listen, storeDir, fatal, lastErr string) error {
	switch {
	case strings.Contains(fatal, "address already in use"):
		return fmt.Errorf("%w: nats.listen %s is in use by another process (%s); stop it, give nats.listen a free address, or set nats.url to use the NATS server already there", ErrStart, listen, fatal)
	case strings.Contains(fatal, "permission denied") && strings.Contains(fatal, "listen"):
		return fmt.Errorf("%w: may not listen on nats.listen %s (%s); use a port above 1023", ErrStart, listen, fatal)
	case fatal != "":
		return fmt.Errorf("%w: %s (nats.listen %s, nats.store_dir %s)", ErrStart, fatal, listen, storeDir)
	case lastErr != "":
		return fmt.Errorf("%w: %s (nats.listen %s, nats.store_dir %s: is it writable?)", ErrStart, lastErr, listen, storeDir)
	}
	return fmt.Errorf("%w: not ready after %s on nats.listen %s with nats.store_dir %s, and the server gave no reason", ErrStart, startTimeout, listen, storeDir)
}

// startLog is the embedded server's logger: it keeps the fatal and the last
// error message for Start and drops the rest.
type startLog struct {
	mu         sync.Mutex
	fatalMsg   string
	lastErrMsg string
}

func (l *startLog) Fatalf(format string, v ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.fatalMsg == "" {
		l.fatalMsg = fmt.Sprintf(format, v...)
	}
}

func (l *startLog) Errorf(format string, v ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lastErrMsg = fmt.Sprintf(format, v...)
}

func (l *startLog) Noticef(string, ...any) {}
func (l *startLog) Warnf(string, ...any)   {}
func (l *startLog) Debugf(string, ...any)  {}
func (l *startLog) Tracef(string, ...any)  {}

func (l *startLog) fatal() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.fatalMsg
}

func (l *startLog) lastError() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lastErrMsg
}

var _ server.Logger = (*startLog)(nil)

// ClientURL is the URL in-process clients connect to: the server's own,
// with a wildcard listen address replaced by loopback.
func (s *Server) ClientURL() string {
	u := s.ns.ClientURL()
	for _, any := range []string{"//0.0.0.0:", "//[::]:"} {
		u = strings.Replace(u, any, "//127.0.0.1:", 1)
	}
	return u
}

// Shutdown stops the server and waits for it to finish.
func (s *Server) Shutdown() {
	s.ns.Shutdown()
	s.ns.WaitForShutdown()
}

// Package embedded runs a NATS server with JetStream inside the newswatch
// process, so one machine needs nothing installed but the binary.
package embedded

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// ErrStart is wrapped by every start failure.
var ErrStart = errors.New("embedded: cannot start NATS server")

// Server is a running embedded NATS server.
type Server struct {
	ns *server.Server
}

// Start runs a JetStream-enabled server listening on listen ("host:port";
// port -1 or 0 picks a free port) with file storage under storeDir.
func Start(listen, storeDir string) (*Server, error) {
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
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("%w: nats.listen %q is beyond loopback; the embedded server listens only on 127.0.0.1 or ::1 (run a NATS server with authentication and set nats.url for anything else)", ErrStart, listen)
	}
	ns, err := server.NewServer(&server.Options{
		ServerName: "newswatch-embedded",
		Host:       host,
		Port:       port,
		JetStream:  true,
		StoreDir:   storeDir,
		NoSigs:     true,
	})
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrStart, err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(15 * time.Second) {
		ns.Shutdown()
		return nil, fmt.Errorf("%w: not ready after 15s on %s with store %s (is the port in use or the directory unwritable?)", ErrStart, listen, storeDir)
	}
	return &Server{ns: ns}, nil
}

// ClientURL is the URL clients connect to.
func (s *Server) ClientURL() string { return s.ns.ClientURL() }

// Shutdown stops the server and waits for it to finish.
func (s *Server) Shutdown() {
	s.ns.Shutdown()
	s.ns.WaitForShutdown()
}

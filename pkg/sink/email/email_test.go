package email

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"flag"
	"io"
	"log"
	"math/big"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
	"go.yaml.in/yaml/v3"

	"github.com/newswatch/newswatch/pkg/events"
	"github.com/newswatch/newswatch/pkg/sink"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

var fixedNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

const (
	testUser     = "alerts@example.org"
	testPassword = "correct-horse-battery-staple"
)

func testEvent(id, eventType string) events.CloudEvent {
	return events.NewAlertEvent(events.Alert{
		Schema:      events.AlertSchema,
		AlertID:     id,
		WatchID:     "baltic",
		Query:       `drone AND "air defence"`,
		StoryID:     "story-" + id,
		URL:         "https://news.example/world?id=42&src=rss",
		Title:       "Drones sighted over <Baltic> port & airfield",
		Source:      "Example News",
		PublishedAt: time.Date(2026, 3, 1, 11, 0, 0, 0, time.UTC),
		Matches: []events.MatchedTerm{
			{Term: "drones", Field: "text", Snippet: "Several drones were sighted near the port; officials said <b>no</b> threat & no damage."},
			{Term: "air defence", Field: "text", Snippet: "Air defence units were placed on alert overnight."},
		},
		Topics:    []string{"military", "critical-infrastructure"},
		CreatedAt: fixedNow,
	}, eventType)
}

// --- a real SMTP server (github.com/emersion/go-smtp) ---

type received struct {
	from   string
	to     []string
	data   []byte
	tls    bool
	authed string
	mech   string
}

type testServer struct {
	mechs   []string // AUTH mechanisms offered; PLAIN when empty
	addr    string
	roots   *x509.CertPool
	mu      sync.Mutex
	msgs    []received
	dataErr error // returned once by Data, then cleared
}

type session struct {
	srv    *testServer
	conn   *smtp.Conn
	from   string
	to     []string
	authed string
	mech   string
}

func (s *session) AuthMechanisms() []string {
	if len(s.srv.mechs) > 0 {
		return s.srv.mechs
	}
	return []string{sasl.Plain}
}

func (s *session) Auth(mech string) (sasl.Server, error) {
	s.mech = mech
	if mech == sasl.Login {
		return &loginServer{s: s}, nil
	}
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if username != testUser || password != testPassword {
			return smtp.ErrAuthFailed
		}
		s.authed = username
		return nil
	}), nil
}

// loginServer is the server side of AUTH LOGIN, which go-sasl lacks.
type loginServer struct {
	s        *session
	step     int
	username string
}

func (l *loginServer) Next(response []byte) ([]byte, bool, error) {
	l.step++
	switch l.step {
	case 1:
		return []byte("Username:"), false, nil
	case 2:
		l.username = string(response)
		return []byte("Password:"), false, nil
	}
	if l.username != testUser || string(response) != testPassword {
		return nil, false, smtp.ErrAuthFailed
	}
	l.s.authed = l.username
	return nil, true, nil
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	s.from = from
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if strings.HasPrefix(to, "nobody@") {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such user"}
	}
	s.to = append(s.to, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.srv.mu.Lock()
	defer s.srv.mu.Unlock()
	if err := s.srv.dataErr; err != nil {
		s.srv.dataErr = nil
		return err
	}
	_, isTLS := s.conn.TLSConnectionState()
	s.srv.msgs = append(s.srv.msgs, received{from: s.from, to: s.to, data: b, tls: isTLS, authed: s.authed, mech: s.mech})
	return nil
}

func (s *session) Reset()        { s.from, s.to = "", nil }
func (s *session) Logout() error { return nil }

// startServer runs an SMTP server on 127.0.0.1. With withTLS it offers
// STARTTLS with a certificate made up for the test, and (since
// AllowInsecureAuth is off) AUTH only once the session is encrypted.
func startServer(t *testing.T, withTLS, requireAuth bool) *testServer {
	t.Helper()
	ts := &testServer{}
	be := smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &session{srv: ts, conn: c}, nil
	})
	s := smtp.NewServer(be)
	s.Domain = "localhost"
	s.ReadTimeout, s.WriteTimeout = 10*time.Second, 10*time.Second
	s.ErrorLog = log.New(io.Discard, "", 0)
	if withTLS {
		cert, roots := selfSigned(t)
		s.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}}
		ts.roots = roots
	}
	if !requireAuth {
		s.AllowInsecureAuth = true
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts.addr = l.Addr().String()
	go s.Serve(l)
	t.Cleanup(func() { s.Close() })
	return ts
}

func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "newswatch test smtp"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		DNSNames:              []string{"localhost"},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

func (ts *testServer) config(mod func(*Config)) Config {
	host, port, _ := net.SplitHostPort(ts.addr)
	p, _ := strconv.Atoi(port)
	cfg := Config{
		Name: "ops-email", Host: host, Port: p,
		Username: testUser, Password: testPassword,
		From: "newswatch <alerts@example.org>",
		To:   []string{"Analyst One <one@example.org>", "two@example.org"},
	}
	if mod != nil {
		mod(&cfg)
	}
	return cfg
}

func (ts *testServer) messages() []received {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return append([]received(nil), ts.msgs...)
}

// parts splits a received message into its headers and decoded parts.
func parts(t *testing.T, data []byte) (mail.Header, map[string]string) {
	t.Helper()
	m, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	mt, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" {
		t.Fatalf("Content-Type %q: %v", m.Header.Get("Content-Type"), err)
	}
	out := map[string]string{}
	mr := multipart.NewReader(m.Body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		ct, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		b, err := io.ReadAll(p) // multipart undoes quoted-printable
		if err != nil {
			t.Fatal(err)
		}
		out[ct] = strings.ReplaceAll(string(b), "\r\n", "\n")
	}
	return m.Header, out
}

func TestSendOverSTARTTLSWithAuth(t *testing.T) {
	ts := startServer(t, true, true)
	e, err := New(ts.config(nil), WithRootCAs(ts.roots), WithClock(func() time.Time { return fixedNow }))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Send(context.Background(), "dlv-1", testEvent("a1", events.AlertEventType)); err != nil {
		t.Fatalf("Send: %v", err)
	}
	msgs := ts.messages()
	if len(msgs) != 1 {
		t.Fatalf("server got %d messages", len(msgs))
	}
	got := msgs[0]
	if !got.tls || got.authed != testUser {
		t.Errorf("tls=%v authed=%q, want an encrypted, authenticated session", got.tls, got.authed)
	}
	if got.from != "alerts@example.org" || strings.Join(got.to, ",") != "one@example.org,two@example.org" {
		t.Errorf("envelope from=%q to=%v", got.from, got.to)
	}
	hdr, ps := parts(t, got.data)
	subject, err := new(mime.WordDecoder).DecodeHeader(hdr.Get("Subject"))
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{
		"From":              `"newswatch" <alerts@example.org>`,
		"To":                `"Analyst One" <one@example.org>, <two@example.org>`,
		"Message-ID":        "<dlv-1@example.org>",
		"Date":              "Sun, 01 Mar 2026 12:00:00 +0000",
		"MIME-Version":      "1.0",
		"Auto-Submitted":    "auto-generated",
		"X-Newswatch-Watch": "baltic",
	} {
		if hdr.Get(k) != want {
			t.Errorf("%s = %q, want %q", k, hdr.Get(k), want)
		}
	}
	if want := "[newswatch] Drones sighted over <Baltic> port & airfield"; subject != want {
		t.Errorf("Subject = %q, want %q", subject, want)
	}
	if len(ps) != 2 {
		t.Fatalf("parts = %v, want text/plain and text/html", ps)
	}
	if !strings.Contains(ps["text/plain"], `"Several *drones* were sighted near the port; officials said <b>no</b> threat & no damage."`) {
		t.Errorf("text part lacks the snippet:\n%s", ps["text/plain"])
	}
	for _, want := range []string{
		`Several <strong>drones</strong> were sighted near the port; officials said &lt;b&gt;no&lt;/b&gt; threat &amp; no damage.`,
		`<a href="https://news.example/world?id=42&amp;src=rss">Drones sighted over &lt;Baltic&gt; port &amp; airfield</a>`,
		`<strong>Air defence</strong> units`,
	} {
		if !strings.Contains(ps["text/html"], want) {
			t.Errorf("HTML part lacks %q:\n%s", want, ps["text/html"])
		}
	}
}

func TestAuthMechanisms(t *testing.T) {
	tests := []struct {
		name     string
		mechs    []string
		password string
		reason   string // empty: delivered
		used     string
	}{
		{name: "LOGIN when PLAIN is not offered", mechs: []string{sasl.Login}, password: testPassword, used: sasl.Login},
		{name: "LOGIN with a wrong password", mechs: []string{sasl.Login}, password: "wrong-password-123", reason: sink.ReasonAuth},
		{name: "PLAIN preferred", mechs: []string{sasl.Login, sasl.Plain}, password: testPassword, used: sasl.Plain},
		{name: "nothing usable", mechs: []string{"CRAM-MD5"}, password: testPassword, reason: sink.ReasonAuth},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := startServer(t, true, true)
			ts.mechs = tt.mechs
			e, err := New(ts.config(func(c *Config) { c.Password = tt.password }), WithRootCAs(ts.roots))
			if err != nil {
				t.Fatal(err)
			}
			err = e.Send(context.Background(), "dlv", testEvent("a1", events.AlertEventType))
			if tt.reason == "" {
				if err != nil {
					t.Fatal(err)
				}
				if msgs := ts.messages(); len(msgs) != 1 || msgs[0].authed != testUser || msgs[0].mech != tt.used {
					t.Fatalf("messages = %+v, want one authenticated with %s", msgs, tt.used)
				}
				return
			}
			var se *sink.Error
			if !errors.As(err, &se) || se.Reason != tt.reason || se.Retryable {
				t.Fatalf("Send = %v, want permanent %q", err, tt.reason)
			}
			if strings.Contains(err.Error(), tt.password) {
				t.Errorf("error leaks the password: %v", err)
			}
		})
	}
}

func TestSendDigest(t *testing.T) {
	ts := startServer(t, true, true)
	e, err := New(ts.config(nil), WithRootCAs(ts.roots))
	if err != nil {
		t.Fatal(err)
	}
	evs := []events.CloudEvent{testEvent("a1", events.AlertEventType), testEvent("a2", events.AlertUpdateEventType)}
	if err := e.SendDigest(context.Background(), "digest-1", "baltic", evs); err != nil {
		t.Fatal(err)
	}
	if err := e.SendDigest(context.Background(), "digest-2", "baltic", nil); err != nil {
		t.Fatal(err)
	}
	msgs := ts.messages()
	if len(msgs) != 1 {
		t.Fatalf("server got %d messages, want 1 (empty digests send nothing)", len(msgs))
	}
	hdr, ps := parts(t, msgs[0].data)
	if s := hdr.Get("Subject"); s != "[newswatch] 2 new stories for watch baltic" {
		t.Errorf("Subject = %q", s)
	}
	if n := strings.Count(ps["text/html"], "<h2"); n != 2 {
		t.Errorf("HTML lists %d stories, want 2", n)
	}
}

func TestMessagesGolden(t *testing.T) {
	e, err := New(Config{Name: "g", Host: "smtp.example.org", From: "alerts@example.org", To: []string{"a@example.org"}},
		WithClock(func() time.Time { return fixedNow }))
	if err != nil {
		t.Fatal(err)
	}
	bare := testEvent("bare", events.AlertEventType)
	bare.Data.URL = "javascript:alert(1)"
	bare.Data.Source, bare.Data.Topics, bare.Data.PublishedAt = "", nil, time.Time{}
	tests := []struct {
		name   string
		digest bool
		evs    []events.CloudEvent
	}{
		{"alert", false, []events.CloudEvent{testEvent("a1", events.AlertEventType)}},
		{"update", false, []events.CloudEvent{testEvent("a1", events.AlertUpdateEventType)}},
		{"bare", false, []events.CloudEvent{bare}},
		{"digest", true, []events.CloudEvent{testEvent("a1", events.AlertEventType), bare}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg, err := e.build("dlv-"+tt.name, "baltic", tt.evs, tt.digest)
			if err != nil {
				t.Fatal(err)
			}
			for _, line := range strings.Split(string(msg), "\r\n") {
				if len(line) > 998 {
					t.Errorf("line of %d bytes exceeds RFC 5322's 998", len(line))
				}
			}
			_, ps := parts(t, msg)
			golden(t, tt.name+".txt.golden", ps["text/plain"])
			golden(t, tt.name+".html.golden", ps["text/html"])
		})
	}
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs:\n%s", path, got)
	}
}

func TestSendFailures(t *testing.T) {
	tlsSrv := startServer(t, true, true)
	plain := startServer(t, false, true)
	deferring := startServer(t, true, true)
	rejecting := startServer(t, true, true)

	tests := []struct {
		name      string
		srv       *testServer
		roots     bool
		mod       func(*Config)
		setup     func()
		reason    string
		retryable bool
		mention   string
		avoid     string // advice that would not work here
	}{
		{name: "wrong password", srv: tlsSrv, roots: true, mod: func(c *Config) { c.Password = "wrong-password-123" }, reason: sink.ReasonAuth, mention: "AUTH"},
		{name: "untrusted certificate", srv: tlsSrv, reason: sink.ReasonTLS, mention: "STARTTLS"},
		// With a username, opportunistic or none cannot help (the password
		// is never sent in clear), so the error must not advise them.
		{name: "required STARTTLS not offered", srv: plain, reason: sink.ReasonTLS, mention: "enable STARTTLS on that server", avoid: "opportunistic"},
		{name: "required STARTTLS not offered, no AUTH", srv: plain, mod: func(c *Config) { c.Username, c.Password = "", "" }, reason: sink.ReasonTLS, mention: "set starttls: opportunistic"},
		{name: "no password over plain text", srv: plain, mod: func(c *Config) { c.StartTLS = StartTLSOpportunistic }, reason: sink.ReasonTLS, mention: "remove username and password", avoid: "starttls:"},
		{name: "unknown recipient is permanent", srv: tlsSrv, roots: true, mod: func(c *Config) { c.To = append(c.To, "nobody@example.org") }, reason: sink.ReasonRejected, mention: "RCPT TO"},
		{name: "451 at DATA is retryable", srv: deferring, roots: true, setup: func() {
			deferring.dataErr = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Try again later"}
		}, reason: sink.ReasonDeferred, retryable: true, mention: "451"},
		{name: "554 at DATA is permanent", srv: rejecting, roots: true, setup: func() {
			rejecting.dataErr = &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "Spam"}
		}, reason: sink.ReasonRejected, mention: "554"},
		{name: "connection refused", srv: &testServer{addr: closedAddr(t)}, reason: sink.ReasonConnect, retryable: true, mention: "connect"},
		{name: "server never greets", srv: &testServer{addr: silentAddr(t)}, mod: func(c *Config) { c.Timeout = 100 * time.Millisecond }, reason: sink.ReasonTimeout, retryable: true, mention: "greeting"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.setup != nil {
				tt.srv.mu.Lock()
				tt.setup()
				tt.srv.mu.Unlock()
			}
			var opts []Option
			if tt.roots {
				opts = append(opts, WithRootCAs(tt.srv.roots))
			}
			e, err := New(tt.srv.config(tt.mod), opts...)
			if err != nil {
				t.Fatal(err)
			}
			err = e.Send(context.Background(), "dlv", testEvent("a1", events.AlertEventType))
			var se *sink.Error
			if !errors.As(err, &se) {
				t.Fatalf("Send = %v, want *sink.Error", err)
			}
			if se.Reason != tt.reason || se.Retryable != tt.retryable {
				t.Errorf("reason=%q retryable=%v, want %q %v (%v)", se.Reason, se.Retryable, tt.reason, tt.retryable, err)
			}
			if !strings.Contains(err.Error(), tt.mention) {
				t.Errorf("error %q does not mention %q", err, tt.mention)
			}
			if tt.avoid != "" && strings.Contains(err.Error(), tt.avoid) {
				t.Errorf("error %q advises %q, which cannot work here", err, tt.avoid)
			}
			if strings.Contains(err.Error(), testPassword) || strings.Contains(err.Error(), "wrong-password-123") {
				t.Errorf("error leaks the password: %v", err)
			}
		})
	}
}

func TestDeferredThenDelivered(t *testing.T) {
	ts := startServer(t, true, true)
	ts.dataErr = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Try again later"}
	e, err := New(ts.config(nil), WithRootCAs(ts.roots))
	if err != nil {
		t.Fatal(err)
	}
	ev := testEvent("a1", events.AlertEventType)
	if err := e.Send(context.Background(), "dlv-9", ev); !sink.IsRetryable(err) {
		t.Fatalf("first Send = %v, want retryable", err)
	}
	if err := e.Send(context.Background(), "dlv-9", ev); err != nil {
		t.Fatalf("second Send = %v", err)
	}
	if n := len(ts.messages()); n != 1 {
		t.Errorf("server stored %d messages, want 1", n)
	}
}

func TestOpportunisticAndNone(t *testing.T) {
	tests := []struct {
		name    string
		withTLS bool
		mode    string
		wantTLS bool
	}{
		{"opportunistic upgrades when offered", true, StartTLSOpportunistic, true},
		{"opportunistic sends plain when not offered", false, StartTLSOpportunistic, false},
		{"none stays plain even when offered", true, StartTLSNone, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := startServer(t, tt.withTLS, false)
			cfg := ts.config(func(c *Config) { c.StartTLS, c.Username, c.Password = tt.mode, "", "" })
			e, err := New(cfg, WithRootCAs(ts.roots))
			if err != nil {
				t.Fatal(err)
			}
			if err := e.Send(context.Background(), "dlv", testEvent("a1", events.AlertEventType)); err != nil {
				t.Fatal(err)
			}
			msgs := ts.messages()
			if len(msgs) != 1 || msgs[0].tls != tt.wantTLS {
				t.Fatalf("messages=%d tls=%v, want 1 with tls=%v", len(msgs), len(msgs) == 1 && msgs[0].tls, tt.wantTLS)
			}
		})
	}
}

func closedAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// silentAddr accepts connections and never says a word.
func silentAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu    sync.Mutex
		conns []net.Conn
	)
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	return l.Addr().String()
}

func TestNewConfig(t *testing.T) {
	dir := t.TempDir()
	pw := filepath.Join(dir, "pw")
	if err := os.WriteFile(pw, []byte(testPassword+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	notPEM := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(notPEM, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	base := func(mod func(*Config)) Config {
		c := Config{Name: "e", Host: "smtp.example.org", Username: "u", PasswordFile: pw, From: "a@example.org", To: []string{"b@example.org"}}
		mod(&c)
		return c
	}
	tests := []struct {
		name    string
		cfg     Config
		mention string
	}{
		{"valid", base(func(c *Config) {}), ""},
		{"no auth", base(func(c *Config) { c.Username, c.PasswordFile = "", "" }), ""},
		{"no name", base(func(c *Config) { c.Name = "" }), "name"},
		{"no host", base(func(c *Config) { c.Host = "" }), "host"},
		{"bad port", base(func(c *Config) { c.Port = 70000 }), "port"},
		{"bad starttls", base(func(c *Config) { c.StartTLS = "yes" }), "starttls"},
		{"password in clear", base(func(c *Config) { c.StartTLS = StartTLSNone }), "clear text"},
		{"bad from", base(func(c *Config) { c.From = "nope" }), "from"},
		{"no recipients", base(func(c *Config) { c.To = nil }), "to"},
		{"bad recipient", base(func(c *Config) { c.To = []string{"b@example.org", "x"} }), "to[1]"},
		{"password without user", base(func(c *Config) { c.Username = "" }), "username"},
		{"user without password", base(func(c *Config) { c.PasswordFile = "" }), "password"},
		{"two passwords", base(func(c *Config) { c.Password = "x" }), "only one"},
		{"ca file without PEM", base(func(c *Config) { c.CAFile = notPEM }), "ca_file"},
		{"negative timeout", base(func(c *Config) { c.Timeout = -1 }), "timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.cfg)
			if tt.mention == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), tt.mention) {
				t.Fatalf("New = %v, want ErrConfig mentioning %q", err, tt.mention)
			}
			if strings.Contains(err.Error(), testPassword) {
				t.Errorf("error leaks the password: %v", err)
			}
		})
	}
}

func TestConfigYAML(t *testing.T) {
	const doc = `
type: email
name: analysts-mail
host: smtp.example.org
port: 587
username: alerts@example.org
password_env: NEWSWATCH_SMTP_PASSWORD
from: "newswatch <alerts@example.org>"
to: [desk@example.org, "Duty Officer <duty@example.org>"]
starttls: required
ca_file: /etc/newswatch/smtp-ca.pem
subject_prefix: "[watch]"
timeout: 20s
`
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(doc), &n); err != nil {
		t.Fatal(err)
	}
	var cfg Config
	if err := sink.DecodeConfig(n.Content[0], &cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.Port != 587 || cfg.PasswordEnv != "NEWSWATCH_SMTP_PASSWORD" || len(cfg.To) != 2 || cfg.Timeout != 20*time.Second || cfg.SubjectPrefix != "[watch]" || cfg.CAFile == "" {
		t.Errorf("decoded %+v", cfg)
	}
}

func TestMessageID(t *testing.T) {
	tests := []struct{ id, from, want string }{
		{"dlv-1", "a@example.org", "<dlv-1@example.org>"},
		{"a b<c>", "a@example.org", "<" + events.HashID("a b<c>") + "@example.org>"},
		{"", "a@example.org", "<" + events.HashID("") + "@example.org>"},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			if got := messageID(tt.id, tt.from); got != tt.want {
				t.Errorf("messageID = %q, want %q", got, tt.want)
			}
		})
	}
}

func BenchmarkBuild(b *testing.B) {
	e, err := New(Config{Name: "b", Host: "smtp.example.org", From: "a@example.org", To: []string{"b@example.org"}})
	if err != nil {
		b.Fatal(err)
	}
	evs := []events.CloudEvent{testEvent("a1", events.AlertEventType)}
	for b.Loop() {
		if _, err := e.build("dlv", "baltic", evs, false); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "messages/s")
}

// Long subjects are folded (RFC 5322 2.2.3) into lines of at most 78
// characters, ASCII or RFC 2047 encoded, and unfold to the full subject.
func TestLongSubjectIsFolded(t *testing.T) {
	tests := []struct{ name, title string }{
		{"ascii", strings.Repeat("Naval drills continue in the Baltic as allies test new air defence systems ", 2)},
		{"utf-8", strings.Repeat("Ministerin für Verteidigung: Übungen in der Ostsee dauern an – Flugabwehr ", 2)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := startServer(t, true, true)
			e, err := New(ts.config(nil), WithRootCAs(ts.roots))
			if err != nil {
				t.Fatal(err)
			}
			ev := testEvent("a1", events.AlertEventType)
			ev.Data.Title = strings.TrimSpace(tt.title)
			if err := e.Send(context.Background(), "dlv-long", ev); err != nil {
				t.Fatal(err)
			}
			data := ts.messages()[0].data
			head, _, _ := bytes.Cut(data, []byte("\r\n\r\n"))
			for _, line := range strings.Split(string(head), "\r\n") {
				if len(line) > 78 {
					t.Errorf("header line of %d characters: %q", len(line), line)
				}
			}
			hdr, _ := parts(t, data)
			subject, err := new(mime.WordDecoder).DecodeHeader(hdr.Get("Subject"))
			if err != nil {
				t.Fatal(err)
			}
			if want := "[newswatch] " + ev.Data.Title; subject != want {
				t.Errorf("Subject unfolds to %q, want %q", subject, want)
			}
		})
	}
}

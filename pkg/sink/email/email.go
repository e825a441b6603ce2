// Package email delivers alerts by SMTP submission: STARTTLS, AUTH PLAIN or
// LOGIN, and a multipart/alternative message with a plain-text and an HTML
// part, one message per alert or per digest.
package email

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/newswatch/newswatch/pkg/events"
	"github.com/newswatch/newswatch/pkg/sink"
)

// STARTTLS modes.
const (
	StartTLSRequired      = "required"      // fail unless the session is encrypted (default)
	StartTLSOpportunistic = "opportunistic" // encrypt when the server offers it
	StartTLSNone          = "none"          // never encrypt; for a local relay
)

// Defaults for keys the config leaves out.
const (
	DefaultPort          = 587
	DefaultTimeout       = 30 * time.Second
	DefaultSubjectPrefix = "[newswatch]"
)

// ErrConfig is wrapped by every configuration error from New.
var ErrConfig = errors.New("email: invalid config")

// Config is one email entry of the config's sinks: list.
type Config struct {
	Type     string `yaml:"type"` // "email"; read by the config loader
	Name     string `yaml:"name"`
	Host     string `yaml:"host"`
	Port     int    `yaml:"port"`
	Username string `yaml:"username"`
	// The password: at most one of the three, and only with username.
	Password     string   `yaml:"password"`
	PasswordFile string   `yaml:"password_file"`
	PasswordEnv  string   `yaml:"password_env"`
	From         string   `yaml:"from"`
	To           []string `yaml:"to"`
	StartTLS     string   `yaml:"starttls"`
	// CAFile is a PEM bundle trusted instead of the system roots, for a
	// relay with a private CA.
	CAFile        string        `yaml:"ca_file"`
	SubjectPrefix string        `yaml:"subject_prefix"`
	Timeout       time.Duration `yaml:"timeout"`
}

// Email is a sink that submits alerts to one SMTP server.
type Email struct {
	name     string
	addr     string
	host     string
	username string
	password string
	from     *mail.Address
	to       []*mail.Address
	mode     string
	tls      *tls.Config
	prefix   string
	timeout  time.Duration
	now      func() time.Time
}

type options struct {
	roots *x509.CertPool
	now   func() time.Time
}

// Option configures an Email sink.
type Option func(*options)

// WithRootCAs sets the CAs trusted for STARTTLS, overriding ca_file. Tests
// use it for a server with a self-signed certificate; there is deliberately
// no way to skip verification.
func WithRootCAs(p *x509.CertPool) Option { return func(o *options) { o.roots = p } }

// WithClock sets the clock used for the Date header.
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// New validates cfg, resolves the password and returns a ready sink.
func New(cfg Config, opts ...Option) (*Email, error) {
	o := options{now: time.Now}
	for _, opt := range opts {
		opt(&o)
	}
	if cfg.Name == "" {
		return nil, fmt.Errorf("%w: name is required", ErrConfig)
	}
	bad := func(key, format string, args ...any) error {
		return fmt.Errorf("%w: sink %q: %s: %s", ErrConfig, cfg.Name, key, fmt.Sprintf(format, args...))
	}
	if cfg.Host == "" {
		return nil, bad("host", "is required")
	}
	port := cfg.Port
	if port == 0 {
		port = DefaultPort
	}
	if port < 1 || port > 65535 {
		return nil, bad("port", "%d is not a TCP port", cfg.Port)
	}
	mode := cfg.StartTLS
	if mode == "" {
		mode = StartTLSRequired
	}
	if !slices.Contains([]string{StartTLSRequired, StartTLSOpportunistic, StartTLSNone}, mode) {
		return nil, bad("starttls", "%q is not one of required, opportunistic, none", cfg.StartTLS)
	}
	from, err := mail.ParseAddress(cfg.From)
	if err != nil {
		return nil, bad("from", "%q is not an email address: %v", cfg.From, err)
	}
	if len(cfg.To) == 0 {
		return nil, bad("to", "needs at least one address")
	}
	var to []*mail.Address
	for i, s := range cfg.To {
		a, err := mail.ParseAddress(s)
		if err != nil {
			return nil, bad(fmt.Sprintf("to[%d]", i), "%q is not an email address: %v", s, err)
		}
		to = append(to, a)
	}
	password, err := sink.Secret(cfg.Password, cfg.PasswordFile, cfg.PasswordEnv)
	if err != nil {
		return nil, bad("password", "%v", err)
	}
	if password != "" && cfg.Username == "" {
		return nil, bad("username", "is required when a password is set")
	}
	if cfg.Username != "" && password == "" {
		return nil, bad("password", "one of password, password_file or password_env is required with username")
	}
	if cfg.Username != "" && mode == StartTLSNone {
		return nil, bad("starttls", "none would send the password in clear text; use required, or drop username for an open local relay")
	}
	if cfg.Timeout < 0 {
		return nil, bad("timeout", "must not be negative")
	}
	roots := o.roots
	if roots == nil && cfg.CAFile != "" {
		pem, err := os.ReadFile(cfg.CAFile)
		if err != nil {
			return nil, bad("ca_file", "%v", err)
		}
		roots = x509.NewCertPool()
		if !roots.AppendCertsFromPEM(pem) {
			return nil, bad("ca_file", "%q holds no PEM certificate", cfg.CAFile)
		}
	}
	e := &Email{
		name:     cfg.Name,
		addr:     net.JoinHostPort(cfg.Host, strconv.Itoa(port)),
		host:     cfg.Host,
		username: cfg.Username,
		password: password,
		from:     from,
		to:       to,
		mode:     mode,
		tls:      &tls.Config{ServerName: cfg.Host, RootCAs: roots, MinVersion: tls.VersionTLS12},
		prefix:   cfg.SubjectPrefix,
		timeout:  cfg.Timeout,
		now:      o.now,
	}
	if e.prefix == "" {
		e.prefix = DefaultSubjectPrefix
	}
	if e.timeout == 0 {
		e.timeout = DefaultTimeout
	}
	return e, nil
}

// Build decodes one email entry of the config's sinks: list strictly and
// returns the sink. It is the notifier's constructor. SMTP goes to the
// configured host as given; the HTTP sinks' network policy does not apply.
func Build(spec *yaml.Node) (*Email, error) {
	var cfg Config
	if err := sink.DecodeConfig(spec, &cfg); err != nil {
		return nil, err
	}
	return New(cfg)
}

// Name returns the configured sink name.
func (e *Email) Name() string { return e.name }

// Timeout is the bound on one SMTP session (the timeout key).
func (e *Email) Timeout() time.Duration { return e.timeout }

// Send mails one alert. deliveryID becomes the Message-ID, so a message
// retried after a lost reply can be recognised as a duplicate.
func (e *Email) Send(ctx context.Context, deliveryID string, ev events.CloudEvent) error {
	msg, err := e.build(deliveryID, ev.Data.WatchID, []events.CloudEvent{ev}, false)
	if err != nil {
		return fmt.Errorf("email %q: %w", e.name, &sink.Error{Reason: sink.ReasonEncode, Err: err})
	}
	return e.submit(ctx, msg)
}

// SendDigest mails one message listing the stories of a watch. An empty
// digest sends nothing.
func (e *Email) SendDigest(ctx context.Context, deliveryID, watchID string, evs []events.CloudEvent) error {
	if len(evs) == 0 {
		return nil
	}
	msg, err := e.build(deliveryID, watchID, evs, true)
	if err != nil {
		return fmt.Errorf("email %q: %w", e.name, &sink.Error{Reason: sink.ReasonEncode, Err: err})
	}
	return e.submit(ctx, msg)
}

// submit runs one SMTP transaction. net/smtp is used rather than go-smtp's
// client because it can issue STARTTLS on a session already greeted, which
// opportunistic mode needs to decide on one connection.
func (e *Email) submit(ctx context.Context, msg []byte) error {
	ctx, cancel := context.WithTimeout(ctx, e.timeout)
	defer cancel()
	step := "connect"
	fail := func(err error) error {
		return fmt.Errorf("email %q: %s: %w", e.name, step, classify(err))
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", e.addr)
	if err != nil {
		return fail(err)
	}
	defer conn.Close()
	// net/smtp has no context: bound every read and write by the deadline,
	// and hang up if the caller cancels first.
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	wrapCtx := func(err error) error {
		// A read that failed because AfterFunc closed the connection is
		// the context's doing; say so, so that it classifies as a timeout.
		if ctxErr := ctx.Err(); ctxErr != nil {
			return fmt.Errorf("%w (%v)", ctxErr, err)
		}
		return err
	}

	step = "greeting"
	c, err := smtp.NewClient(conn, e.host)
	if err != nil {
		return fail(wrapCtx(err))
	}
	defer c.Close()
	step = "EHLO"
	if err := c.Hello("localhost"); err != nil {
		return fail(wrapCtx(err))
	}
	secure := false
	if e.mode != StartTLSNone {
		if ok, _ := c.Extension("STARTTLS"); ok {
			step = "STARTTLS"
			if err := c.StartTLS(e.tls); err != nil {
				return fail(wrapCtx(err))
			}
			secure = true
		} else if e.mode == StartTLSRequired {
			step = "STARTTLS"
			if e.username != "" {
				// opportunistic or none would not help: the password is
				// never sent in clear (see the AUTH step).
				return fail(&sink.Error{Reason: sink.ReasonTLS, Err: fmt.Errorf(
					"email: %s does not offer STARTTLS and a password is never sent unencrypted; enable STARTTLS on that server or point host at one that offers it", e.addr)})
			}
			return fail(&sink.Error{Reason: sink.ReasonTLS, Err: fmt.Errorf(
				"email: %s does not offer STARTTLS; enable it on that server, or set starttls: opportunistic to send unencrypted to this relay", e.addr)})
		}
	}
	if e.username != "" {
		step = "AUTH"
		if !secure {
			return fail(&sink.Error{Reason: sink.ReasonTLS, Err: fmt.Errorf(
				"email: refusing to send the password over an unencrypted session: %s does not offer STARTTLS; enable it on that server, or remove username and password to send without AUTH", e.addr)})
		}
		ok, mechs := c.Extension("AUTH")
		if !ok {
			return fail(&sink.Error{Reason: sink.ReasonAuth, Err: errors.New("email: server does not offer AUTH; remove username to send without it")})
		}
		a, err := e.auth(mechs)
		if err != nil {
			return fail(err)
		}
		if err := c.Auth(a); err != nil {
			return fail(wrapCtx(err))
		}
	}
	step = "MAIL FROM"
	if err := c.Mail(e.from.Address); err != nil {
		return fail(wrapCtx(err))
	}
	// Stop at the first refused recipient: nothing has been delivered yet,
	// so a retry cannot duplicate the message for the others.
	step = "RCPT TO"
	for _, a := range e.to {
		if err := c.Rcpt(a.Address); err != nil {
			return fail(wrapCtx(err))
		}
	}
	step = "DATA"
	w, err := c.Data()
	if err != nil {
		return fail(wrapCtx(err))
	}
	if _, err := w.Write(msg); err != nil {
		return fail(wrapCtx(err))
	}
	if err := w.Close(); err != nil {
		return fail(wrapCtx(err))
	}
	// The message is accepted once DATA is acknowledged; a failed QUIT
	// must not cause a duplicate.
	_ = c.Quit()
	return nil
}

// auth picks PLAIN, or LOGIN for servers (Exchange among them) that only
// offer that.
func (e *Email) auth(mechs string) (smtp.Auth, error) {
	offered := strings.Fields(strings.ToUpper(mechs))
	switch {
	case slices.Contains(offered, "PLAIN"):
		return plainAuth{username: e.username, password: e.password}, nil
	case slices.Contains(offered, "LOGIN"):
		return &loginAuth{username: e.username, password: e.password}, nil
	}
	return nil, &sink.Error{Reason: sink.ReasonAuth, Err: fmt.Errorf("email: server offers AUTH %s, newswatch supports PLAIN and LOGIN", mechs)}
}

// plainAuth is RFC 4616 PLAIN. net/smtp's PlainAuth insists the session
// host equals the configured one, which breaks behind an address alias; the
// TLS requirement is enforced in submit instead.
type plainAuth struct{ username, password string }

func (a plainAuth) Start(*smtp.ServerInfo) (string, []byte, error) {
	return "PLAIN", []byte("\x00" + a.username + "\x00" + a.password), nil
}

func (a plainAuth) Next(_ []byte, more bool) ([]byte, error) {
	if more {
		return nil, errors.New("email: unexpected server challenge during AUTH PLAIN")
	}
	return nil, nil
}

// loginAuth is the LOGIN mechanism: username and password in turn.
type loginAuth struct {
	username, password string
	step               int
}

func (a *loginAuth) Start(*smtp.ServerInfo) (string, []byte, error) {
	a.step = 0
	return "LOGIN", nil, nil
}

func (a *loginAuth) Next(_ []byte, more bool) ([]byte, error) {
	if !more {
		return nil, nil
	}
	a.step++
	switch a.step {
	case 1:
		return []byte(a.username), nil
	case 2:
		return []byte(a.password), nil
	}
	return nil, errors.New("email: unexpected server challenge during AUTH LOGIN")
}

// classify maps an SMTP or transport failure onto a *sink.Error: 4xx
// replies are deferrals worth retrying, 5xx replies are final, and auth
// failures get their own reason because they need an operator.
func classify(err error) error {
	var se *sink.Error
	if errors.As(err, &se) {
		return err
	}
	var te *textproto.Error
	if errors.As(err, &te) {
		switch {
		case te.Code == 530 || te.Code == 534 || te.Code == 535 || te.Code == 538:
			return &sink.Error{Reason: sink.ReasonAuth, Err: err}
		case te.Code >= 400 && te.Code < 500:
			return &sink.Error{Reason: sink.ReasonDeferred, Retryable: true, Err: err}
		default:
			return &sink.Error{Reason: sink.ReasonRejected, Err: err}
		}
	}
	return sink.Classify(nil, err)
}

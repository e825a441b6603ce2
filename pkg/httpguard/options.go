package httpguard

import (
	"net"
	"time"

	"github.com/newswatch/newswatch/pkg/version"
)

// Option configures a Client built by New.
type Option func(*options)

type options struct {
	allowPrivate    bool
	userAgent       string
	connectTimeout  time.Duration
	headerTimeout   time.Duration
	totalTimeout    time.Duration
	maxBodyBytes    int64
	maxRedirects    int
	maxConnsPerHost int
	resolver        *net.Resolver
}

// Defaults. They are set here and nowhere else.
const (
	DefaultConnectTimeout = 5 * time.Second
	DefaultHeaderTimeout  = 10 * time.Second
	DefaultTotalTimeout   = 30 * time.Second
	DefaultMaxBodyBytes   = 10 << 20
	DefaultMaxRedirects   = 5

	// defaultIdlePerHost is above net/http's 2 because the fetcher pulls
	// several pages from the same publisher at once.
	defaultIdlePerHost = 8
)

func defaultOptions() options {
	return options{
		userAgent:      "newswatch/" + version.Version + " (+https://github.com/newswatch/newswatch)",
		connectTimeout: DefaultConnectTimeout,
		headerTimeout:  DefaultHeaderTimeout,
		totalTimeout:   DefaultTotalTimeout,
		maxBodyBytes:   DefaultMaxBodyBytes,
		maxRedirects:   DefaultMaxRedirects,
	}
}

// WithAllowPrivateNetworks lets the client connect to loopback, private and
// other non-public addresses. It exists for self-hosted feeds and sinks on an
// internal network and for tests; it is off by default.
func WithAllowPrivateNetworks(allow bool) Option {
	return func(o *options) { o.allowPrivate = allow }
}

// WithUserAgent sets the User-Agent sent when a request has none.
func WithUserAgent(ua string) Option {
	return func(o *options) {
		if ua != "" {
			o.userAgent = ua
		}
	}
}

// WithTimeouts sets the time allowed to connect (TCP and TLS), to wait for
// response headers once the request is sent, and for the whole exchange
// including redirects and reading the body. A zero value keeps the default.
func WithTimeouts(connect, header, total time.Duration) Option {
	return func(o *options) {
		if connect > 0 {
			o.connectTimeout = connect
		}
		if header > 0 {
			o.headerTimeout = header
		}
		if total > 0 {
			o.totalTimeout = total
		}
	}
}

// WithMaxBodyBytes sets the largest response body accepted, counted after
// decompression. A value of zero or less keeps the default.
func WithMaxBodyBytes(n int64) Option {
	return func(o *options) {
		if n > 0 {
			o.maxBodyBytes = n
		}
	}
}

// WithMaxRedirects sets how many redirects a request may follow; 0 refuses
// every redirect. A negative value keeps the default.
func WithMaxRedirects(n int) Option {
	return func(o *options) {
		if n >= 0 {
			o.maxRedirects = n
		}
	}
}

// WithMaxConnsPerHost caps the connections, active and idle, held to one
// host, so a burst of page fetches cannot hammer a single publisher. Zero
// means no cap.
func WithMaxConnsPerHost(n int) Option {
	return func(o *options) {
		if n >= 0 {
			o.maxConnsPerHost = n
		}
	}
}

// WithResolver sets the DNS resolver used to look up hosts. Whatever it
// returns, the resolved address is still checked before connecting.
func WithResolver(r *net.Resolver) Option {
	return func(o *options) { o.resolver = r }
}

package httpguard

import (
	"net"
	"net/netip"
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
	noFollow        bool
	policy          NetworkPolicy
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

// WithAllowPrivateNetworks lets the client connect to every non-public
// address, link-local and metadata ones included. It exists for self-hosted
// feeds (fetcher.allow_private_networks) and for tests; it is off by default.
// Sinks use the narrower WithNetworkPolicy.
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

// WithFollowRedirects(false) makes the client return a 3xx response to the
// caller as it is, instead of following it: the redirect target gets no
// request. Sinks use it, because following a redirect turns a POST into a
// GET without its body and would count the target's answer as a delivery.
func WithFollowRedirects(follow bool) Option {
	return func(o *options) { o.noFollow = !follow }
}

// WithNetworkPolicy lets the client reach the non-public addresses p admits;
// every other one stays refused. WithAllowPrivateNetworks(true) overrides it.
func WithNetworkPolicy(p NetworkPolicy) Option {
	return func(o *options) {
		p.Networks = append([]netip.Prefix(nil), p.Networks...)
		p.Hosts = append([]string(nil), p.Hosts...)
		o.policy = p
	}
}

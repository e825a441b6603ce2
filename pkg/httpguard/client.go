package httpguard

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"syscall"
	"time"
)

// Client is a guarded HTTP client. It is safe for concurrent use; build one
// per process with New and share it.
type Client struct {
	opts      options
	transport *http.Transport
	hc        *http.Client

	// permit lets a test allow chosen non-public addresses (its own
	// loopback server) while every other class stays refused, so that a
	// redirect from that server to 169.254.169.254 can be tested.
	permit func(netip.Addr) bool
	// beforeDial runs before every connection attempt; a test uses it to
	// hold a dial until the connect deadline.
	beforeDial func(ctx context.Context) error
}

// Response is a response whose body has been read in full, decompressed and
// kept within the size limit.
type Response struct {
	StatusCode int
	Header     http.Header
	Body       []byte
	// FinalURL is the URL of the last request after redirects.
	FinalURL    string
	ContentType string
}

// New returns a Client configured by opts.
func New(opts ...Option) *Client {
	o := defaultOptions()
	for _, opt := range opts {
		opt(&o)
	}
	c := &Client{opts: o}
	idle := defaultIdlePerHost
	if o.maxConnsPerHost > idle {
		idle = o.maxConnsPerHost
	}
	c.transport = &http.Transport{
		// Never take a proxy from the environment: the dial-time address
		// check would then vet the proxy, not the site.
		Proxy:                  nil,
		DialContext:            c.dialContext,
		ForceAttemptHTTP2:      true,
		TLSClientConfig:        &tls.Config{MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout:    o.connectTimeout,
		ResponseHeaderTimeout:  o.headerTimeout,
		ExpectContinueTimeout:  time.Second,
		MaxIdleConns:           100,
		MaxIdleConnsPerHost:    idle,
		MaxConnsPerHost:        o.maxConnsPerHost,
		IdleConnTimeout:        90 * time.Second,
		MaxResponseHeaderBytes: 1 << 20,
		// Decompression happens in guardTransport so that the size limit
		// counts decompressed bytes and deflate and br are handled too.
		DisableCompression: true,
	}
	c.hc = &http.Client{
		Transport:     &guardTransport{c: c, next: c.transport},
		CheckRedirect: c.checkRedirect,
		Timeout:       o.totalTimeout,
	}
	return c
}

// HTTPClient returns an *http.Client with every guard of c, for libraries
// that want one. It shares c's connection pool; its errors are wrapped in
// *url.Error rather than *Error, and Reason works on them as well.
func (c *Client) HTTPClient() *http.Client {
	hc := *c.hc
	return &hc
}

// Do sends req and returns the response. Its Body is decompressed and fails
// with ErrBodyTooLarge once the limit is passed; the caller must close it.
// A non-2xx status is not an error. Errors are of type *Error.
func (c *Client) Do(req *http.Request) (*http.Response, error) {
	if req == nil || req.URL == nil {
		return nil, &Error{Reason: ReasonInvalidURL, Err: fmt.Errorf("%w: nil request or URL", ErrInvalidURL)}
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		// When CheckRedirect refuses, net/http also returns the previous
		// response with its body already closed; it is of no use here.
		return nil, c.wrapErr(req.Method, req.URL.Redacted(), err)
	}
	return resp, nil
}

// Get fetches rawURL with the extra request headers hdr (which may be nil),
// reads the body within the limit and returns it. For a status of 400 or
// above it returns both the Response, so that Retry-After and the like can be
// read, and an *Error wrapping ErrHTTPStatus. A 304 is not an error.
func (c *Client) Get(ctx context.Context, rawURL string, hdr http.Header) (*Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, &Error{Reason: ReasonInvalidURL, Method: http.MethodGet, URL: rawURL,
			Err: fmt.Errorf("%w: %w", ErrInvalidURL, err)}
	}
	for k, vs := range hdr {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	final := resp.Request.URL.Redacted()
	body, err := readBody(resp, c.opts.maxBodyBytes)
	if err != nil {
		return nil, c.wrapErr(req.Method, final, err)
	}
	out := &Response{
		StatusCode:  resp.StatusCode,
		Header:      resp.Header,
		Body:        body,
		FinalURL:    resp.Request.URL.String(),
		ContentType: resp.Header.Get("Content-Type"),
	}
	if resp.StatusCode >= 400 {
		return out, &Error{Reason: ReasonHTTPStatus, Method: req.Method, URL: final, StatusCode: resp.StatusCode,
			Err: fmt.Errorf("%w %s", ErrHTTPStatus, resp.Status)}
	}
	return out, nil
}

// readBody reads a body already limited by guardTransport, sizing the buffer
// from Content-Length when the server sent one it can be trusted with.
func readBody(resp *http.Response, max int64) ([]byte, error) {
	if n := resp.ContentLength; n >= 0 && n <= max {
		buf := make([]byte, 0, n+1) // +1 so ReadAll sees EOF without growing
		for {
			m, err := resp.Body.Read(buf[len(buf):cap(buf)])
			buf = buf[:len(buf)+m]
			if err == io.EOF {
				return buf, nil
			}
			if err != nil {
				return nil, err
			}
			if len(buf) == cap(buf) {
				rest, err := io.ReadAll(resp.Body)
				return append(buf, rest...), err
			}
		}
	}
	return io.ReadAll(resp.Body)
}

func (c *Client) wrapErr(method, rawURL string, err error) error {
	if ue, ok := errors.AsType[*url.Error](err); ok {
		rawURL, err = ue.URL, ue.Err
	}
	if e, ok := errors.AsType[*Error](err); ok {
		return e
	}
	reason := classify(err)
	if reason == ReasonTimeout {
		o := c.opts
		err = fmt.Errorf("%w (limits: connect %s, response header %s, total %s)",
			err, o.connectTimeout, o.headerTimeout, o.totalTimeout)
	}
	return &Error{Reason: reason, Method: method, URL: rawURL, Err: err}
}

func (c *Client) checkRedirect(req *http.Request, via []*http.Request) error {
	if c.opts.noFollow {
		// The 3xx itself is the answer: the caller sees its status and
		// Location, and the target gets no request.
		return http.ErrUseLastResponse
	}
	if len(via) > c.opts.maxRedirects {
		return fmt.Errorf("%w: more than %d redirects starting at %s; use the final URL instead",
			ErrTooManyRedirects, c.opts.maxRedirects, via[0].URL.Redacted())
	}
	return nil
}

func checkScheme(u *url.URL) error {
	switch u.Scheme {
	case "http", "https":
		return nil
	}
	return fmt.Errorf("%w %q in %s: only http and https URLs are fetched", ErrScheme, u.Scheme, u.Redacted())
}

func (c *Client) dialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	// A literal address is refused before any socket is made; resolved
	// names are checked in ControlContext, on the address actually dialled.
	if ip, err := netip.ParseAddr(host); err == nil {
		if err := c.checkAddr(host, ip); err != nil {
			var to net.Addr
			if ap, perr := netip.ParseAddrPort(addr); perr == nil {
				to = net.TCPAddrFromAddrPort(ap)
			}
			return nil, &net.OpError{Op: "dial", Net: network, Addr: to, Err: err}
		}
	}
	d := net.Dialer{
		Timeout:   c.opts.connectTimeout,
		KeepAlive: 30 * time.Second,
		Resolver:  c.opts.resolver,
		ControlContext: func(ctx context.Context, _, address string, _ syscall.RawConn) error {
			if c.beforeDial != nil {
				if err := c.beforeDial(ctx); err != nil {
					return err
				}
			}
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				// Fail closed: an address we cannot read is not one we vetted.
				return fmt.Errorf("%w: cannot parse dialled address %q of %s", ErrPrivateNetworkHost, address, host)
			}
			return c.checkAddr(host, ap.Addr())
		},
	}
	return d.DialContext(ctx, network, addr)
}

func (c *Client) checkAddr(host string, ip netip.Addr) error {
	if c.opts.allowPrivate {
		return nil
	}
	class := addrClass(ip)
	if class == "" || (c.permit != nil && c.permit(ip)) {
		return nil
	}
	p := &c.opts.policy
	ok, sensitive := p.allows(host, ip)
	if ok {
		return nil
	}
	fix := p.Hint
	if fix == "" {
		fix = "set fetcher.allow_private_networks: true to allow it"
	}
	if sensitive != "" {
		class = sensitive
		if p.SensitiveHint != "" {
			fix = p.SensitiveHint
		}
	}
	if _, err := netip.ParseAddr(host); err == nil {
		return fmt.Errorf("%w: %s is %s %s address; %s", ErrPrivateNetworkHost, ip, article(class), class, fix)
	}
	return fmt.Errorf("%w: %s resolves to %s, %s %s address; %s", ErrPrivateNetworkHost, host, ip, article(class), class, fix)
}

package httpguard

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
)

// Sentinel errors, checked with errors.Is. The errors returned by Client carry
// the host, address or limit involved and what to change.
var (
	// ErrPrivateNetworkHost is returned when a host resolves to an address
	// that is not publicly routable and private networks are not allowed.
	ErrPrivateNetworkHost = errors.New("httpguard: refusing private network host")
	// ErrScheme is returned for a URL, or a redirect target, that is not
	// http or https.
	ErrScheme = errors.New("httpguard: unsupported URL scheme")
	// ErrTooManyRedirects is returned when a request is redirected more
	// times than the configured maximum, which includes redirect loops.
	ErrTooManyRedirects = errors.New("httpguard: too many redirects")
	// ErrBodyTooLarge is returned when a response body, counted after
	// decompression, is larger than the configured maximum.
	ErrBodyTooLarge = errors.New("httpguard: response body too large")
	// ErrContentEncoding is returned when a body uses an encoding the client
	// cannot decode, or does not decode cleanly.
	ErrContentEncoding = errors.New("httpguard: cannot decode response body")
	// ErrHTTPStatus is returned by Client.Get for a response status of 400
	// or above.
	ErrHTTPStatus = errors.New("httpguard: HTTP error status")
	// ErrInvalidURL is returned for a URL that cannot be parsed.
	ErrInvalidURL = errors.New("httpguard: invalid URL")
)

// Reasons returned by Reason. They are meant as metric label values, so the
// set is small and fixed.
const (
	ReasonPrivateNetwork = "private_network"
	ReasonScheme         = "scheme"
	ReasonInvalidURL     = "invalid_url"
	ReasonRedirects      = "redirects"
	ReasonTooLarge       = "too_large"
	ReasonDecode         = "decode"
	ReasonHTTPStatus     = "http_status"
	ReasonDNS            = "dns"
	ReasonTimeout        = "timeout"
	ReasonCanceled       = "canceled"
	ReasonConnect        = "connect"
	ReasonTLS            = "tls"
	ReasonOther          = "other"
)

// Error is the error returned by Client.Do and Client.Get. Reason is one of
// the Reason* constants and is meant to become a metric label.
type Error struct {
	Reason string
	Method string
	URL    string
	// StatusCode is set when Reason is ReasonHTTPStatus.
	StatusCode int
	Err        error
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s %s: %v", e.Method, e.URL, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// Reason returns a short label saying why err happened, for use as a metric
// label: one of the Reason* constants, or "" for a nil error. It works on any
// error, including those that reach callers of HTTPClient() wrapped in a
// *url.Error.
func Reason(err error) string {
	if err == nil {
		return ""
	}
	if e, ok := errors.AsType[*Error](err); ok && e.Reason != "" {
		return e.Reason
	}
	return classify(err)
}

func classify(err error) string {
	// Our own sentinels first: a refused dial surfaces as a *net.OpError, and
	// an oversize body can surface alongside a closed connection.
	switch {
	case errors.Is(err, ErrPrivateNetworkHost):
		return ReasonPrivateNetwork
	case errors.Is(err, ErrScheme):
		return ReasonScheme
	case errors.Is(err, ErrTooManyRedirects):
		return ReasonRedirects
	case errors.Is(err, ErrBodyTooLarge):
		return ReasonTooLarge
	case errors.Is(err, ErrContentEncoding):
		return ReasonDecode
	case errors.Is(err, ErrHTTPStatus):
		return ReasonHTTPStatus
	case errors.Is(err, ErrInvalidURL):
		return ReasonInvalidURL
	}
	// A lookup that timed out is still a DNS problem, so test it before
	// timeouts.
	if _, ok := errors.AsType[*net.DNSError](err); ok {
		return ReasonDNS
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) {
		return ReasonTimeout
	}
	if ne, ok := errors.AsType[net.Error](err); ok && ne.Timeout() {
		return ReasonTimeout
	}
	if errors.Is(err, context.Canceled) {
		return ReasonCanceled
	}
	if isTLSError(err) {
		return ReasonTLS
	}
	if oe, ok := errors.AsType[*net.OpError](err); ok && oe.Op == "dial" {
		return ReasonConnect
	}
	return ReasonOther
}

func isTLSError(err error) bool {
	if _, ok := errors.AsType[*tls.CertificateVerificationError](err); ok {
		return true
	}
	if _, ok := errors.AsType[tls.RecordHeaderError](err); ok {
		return true
	}
	if _, ok := errors.AsType[tls.AlertError](err); ok {
		return true
	}
	if _, ok := errors.AsType[x509.UnknownAuthorityError](err); ok {
		return true
	}
	if _, ok := errors.AsType[x509.HostnameError](err); ok {
		return true
	}
	return false
}

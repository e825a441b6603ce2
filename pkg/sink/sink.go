// Package sink holds what newswatch's alert delivery sinks share: the typed
// delivery error whose reason becomes a metric label, the classification of
// HTTP outcomes into retryable and permanent failures, secret resolution, and
// the highlighting of matched terms in snippets.
package sink

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/newswatch/newswatch/pkg/httpguard"
)

// Reasons carried by Error. They are metric label values, so the set is
// closed: add a constant here rather than inventing one at a call site.
const (
	ReasonTimeout     = "timeout"      // the peer did not answer in time
	ReasonCanceled    = "canceled"     // the caller's context was canceled
	ReasonConnect     = "connect"      // dial, DNS or connection reset
	ReasonTLS         = "tls"          // certificate or handshake failure
	ReasonStatus5xx   = "status_5xx"   // HTTP 5xx
	ReasonStatus429   = "status_429"   // HTTP 429 Too Many Requests
	ReasonStatus408   = "status_408"   // HTTP 408 Request Timeout
	ReasonStatus4xx   = "status_4xx"   // any other HTTP 4xx
	ReasonStatus3xx   = "status_3xx"   // HTTP 3xx: a redirect, which sinks never follow
	ReasonStatusOther = "status_other" // 1xx where 2xx was expected
	ReasonAuth        = "auth"         // credentials refused (HTTP 401/403, SMTP 535)
	ReasonEncode      = "encode"       // the message could not be built
	ReasonRejected    = "rejected"     // a mail server refused the message for good
	ReasonDeferred    = "deferred"     // a mail server asked to try later (SMTP 4xx)
	ReasonRefused     = "refused"      // the HTTP client's guard refused the URL (private address, scheme, redirects)
)

// MaxRetryAfter bounds the Retry-After a peer can impose, so that a
// misbehaving receiver cannot park a delivery for days.
const MaxRetryAfter = time.Hour

// ErrStatus is wrapped by errors for a non-2xx HTTP response.
var ErrStatus = errors.New("sink: unexpected HTTP status")

// Error is a failed delivery. Reason is a bounded label for metrics,
// Retryable tells the notifier whether to try again, and RetryAfter, when
// non-zero, is the delay the peer asked for.
type Error struct {
	Reason     string
	Retryable  bool
	RetryAfter time.Duration
	Err        error
}

// Error reports the reason, whether the failure is retryable and the cause.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("sink: delivery failed (")
	b.WriteString(e.Reason)
	if e.Retryable {
		b.WriteString(", retryable")
		if e.RetryAfter > 0 {
			b.WriteString(" after ")
			b.WriteString(e.RetryAfter.String())
		}
	} else {
		b.WriteString(", permanent")
	}
	b.WriteString(")")
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// IsRetryable reports whether err carries a retryable *Error. Errors that
// are not *Error are treated as retryable: an unknown failure is more likely
// transient than a verdict from the peer.
func IsRetryable(err error) bool {
	var se *Error
	if errors.As(err, &se) {
		return se.Retryable
	}
	return err != nil
}

// Classify turns the outcome of an HTTP request into nil (2xx) or an *Error.
// 5xx, 408, 429 and transport failures are retryable; other 4xx are not,
// since sending the same request again will get the same answer, and
// neither is a 3xx, whose error quotes the Location.
// Retry-After, in seconds or as an HTTP-date, is honoured up to
// MaxRetryAfter. Classify does not read or close resp.Body.
//
// A *url.Error from the client is rebuilt with its URL reduced to scheme and
// host, because webhook URLs (Slack's in particular) carry their token in
// the path and errors end up in logs.
func Classify(resp *http.Response, err error) error {
	return classifyAt(time.Now(), resp, err)
}

func classifyAt(now time.Time, resp *http.Response, err error) error {
	if err != nil {
		return classifyTransport(err)
	}
	if resp == nil {
		return &Error{Reason: ReasonConnect, Retryable: true, Err: errors.New("sink: no response")}
	}
	code := resp.StatusCode
	if code >= 200 && code < 300 {
		return nil
	}
	cause := fmt.Errorf("%w %d %s", ErrStatus, code, http.StatusText(code))
	e := &Error{Err: cause}
	switch {
	case code >= 500:
		e.Reason, e.Retryable = ReasonStatus5xx, true
	case code == http.StatusTooManyRequests:
		e.Reason, e.Retryable = ReasonStatus429, true
	case code == http.StatusRequestTimeout:
		e.Reason, e.Retryable = ReasonStatus408, true
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		e.Reason = ReasonAuth
	case code >= 400:
		e.Reason = ReasonStatus4xx
	case code >= 300:
		// Following would re-send a POST as a GET without its body (and,
		// for a webhook, with its signature headers) to wherever the
		// receiver points, and count that answer as a delivery.
		e.Reason = ReasonStatus3xx
		e.Err = fmt.Errorf("%w; redirects are not followed: point the sink's url at the final address", cause)
		if loc := redactLocation(resp.Header.Get("Location")); loc != "" {
			e.Err = fmt.Errorf("%w; redirects are not followed: the receiver points to %s, set the sink's url to it if that is right", cause, loc)
		}
	default:
		e.Reason = ReasonStatusOther
	}
	if e.Retryable {
		e.RetryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), now)
	}
	return e
}

// redactLocation keeps a Location's scheme, host and path, enough for an
// operator to fix the sink's url, and drops user info, query and fragment,
// where a token may ride.
func redactLocation(loc string) string {
	if loc == "" {
		return ""
	}
	u, err := url.Parse(loc)
	if err != nil {
		return "[unparsable Location]"
	}
	u.User, u.RawQuery, u.ForceQuery, u.Fragment, u.RawFragment = nil, "", false, "", ""
	return strconv.Quote(u.String())
}

// parseRetryAfter reads delay-seconds or an HTTP-date (RFC 9110 10.2.3).
// Garbage yields zero: the notifier's own backoff then applies.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	var d time.Duration
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		if secs > int64(MaxRetryAfter/time.Second) {
			return MaxRetryAfter
		}
		d = time.Duration(secs) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	}
	if d <= 0 {
		return 0
	}
	return min(d, MaxRetryAfter)
}

func classifyTransport(err error) error {
	var se *Error
	if errors.As(err, &se) {
		return err
	}
	err = redactURLError(err)
	e := &Error{Err: err, Retryable: true, Reason: ReasonConnect}
	// The guarded client's refusals are policy, not weather: the same URL
	// will be refused on every attempt until an operator changes it.
	if errors.Is(err, httpguard.ErrPrivateNetworkHost) || errors.Is(err, httpguard.ErrScheme) ||
		errors.Is(err, httpguard.ErrTooManyRedirects) || errors.Is(err, httpguard.ErrInvalidURL) {
		e.Reason, e.Retryable = ReasonRefused, false
		return e
	}
	var certErr *tls.CertificateVerificationError
	var unknownAuth x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var certInvalid x509.CertificateInvalidError
	var recordErr tls.RecordHeaderError
	var netErr net.Error
	switch {
	case errors.Is(err, context.Canceled):
		e.Reason = ReasonCanceled
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded):
		e.Reason = ReasonTimeout
	case errors.As(err, &certErr), errors.As(err, &unknownAuth), errors.As(err, &hostErr), errors.As(err, &certInvalid):
		// A certificate the client does not trust will not become trusted
		// by retrying; an operator has to fix the CA or the host name.
		e.Reason, e.Retryable = ReasonTLS, false
	case errors.As(err, &recordErr):
		e.Reason, e.Retryable = ReasonTLS, false
	case errors.As(err, &netErr) && netErr.Timeout():
		e.Reason = ReasonTimeout
	}
	return e
}

// redactURLError rebuilds a *url.Error so its URL no longer carries path,
// query or user info.
func redactURLError(err error) error {
	var ue *url.Error
	if !errors.As(err, &ue) {
		return err
	}
	return &url.Error{Op: ue.Op, URL: RedactURL(ue.URL), Err: ue.Err}
}

// RedactURL returns raw reduced to scheme and host, with "/…" standing for
// any path, so it can be logged: Slack and many webhook providers put the
// credential in the path or query.
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "[redacted-url]"
	}
	s := u.Scheme + "://" + u.Host
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		s += "/…"
	}
	return s
}

// ErrSecret is wrapped by every error from Secret.
var ErrSecret = errors.New("sink: secret")

// Secret resolves a secret given as a literal value, a file path or the name
// of an environment variable; exactly one may be set. It returns "" and no
// error when none is, so the caller decides whether the secret is optional.
// Surrounding whitespace is trimmed, because files and env vars written by
// hand usually end with a newline. Errors name the file or variable, never
// the value.
func Secret(value, file, env string) (string, error) {
	n := 0
	for _, s := range []string{value, file, env} {
		if s != "" {
			n++
		}
	}
	switch {
	case n > 1:
		return "", fmt.Errorf("%w: set only one of the literal, the _file and the _env key", ErrSecret)
	case value != "":
		return strings.TrimSpace(value), nil
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			var pe *os.PathError
			if errors.As(err, &pe) {
				err = pe.Err // the path is named below; keep the OS reason only
			}
			return "", fmt.Errorf("%w: reading file %q: %w", ErrSecret, file, err)
		}
		s := strings.TrimSpace(string(b))
		if s == "" {
			return "", fmt.Errorf("%w: file %q is empty", ErrSecret, file)
		}
		return s, nil
	case env != "":
		v, ok := os.LookupEnv(env)
		if !ok {
			return "", fmt.Errorf("%w: environment variable %q is not set", ErrSecret, env)
		}
		s := strings.TrimSpace(v)
		if s == "" {
			return "", fmt.Errorf("%w: environment variable %q is empty", ErrSecret, env)
		}
		return s, nil
	}
	return "", nil
}

// Scrub replaces every occurrence of the given secrets in err's message,
// and in the cause of a *Error within it, with "[redacted]". Sinks call it
// with their URL and its path: an injected client's own errors (a redirect
// refusal, say) may quote the full URL, token and all. The chain is kept, so
// errors.Is and errors.As still see the original causes.
func Scrub(err error, secrets ...string) error {
	if err == nil {
		return nil
	}
	var ss []string
	for _, s := range secrets {
		// Very short strings would blank out ordinary words.
		if len(s) >= 4 {
			ss = append(ss, s)
		}
	}
	if len(ss) == 0 {
		return err
	}
	// Longest first, so a full URL is replaced before its path.
	slices.SortFunc(ss, func(a, b string) int { return len(b) - len(a) })
	var se *Error
	if errors.As(err, &se) && se.Err != nil {
		se.Err = &scrubbed{msg: scrubString(se.Err.Error(), ss), err: se.Err}
	}
	return &scrubbed{msg: scrubString(err.Error(), ss), err: err}
}

func scrubString(s string, secrets []string) string {
	for _, sec := range secrets {
		s = strings.ReplaceAll(s, sec, "[redacted]")
	}
	return s
}

type scrubbed struct {
	msg string
	err error
}

func (s *scrubbed) Error() string { return s.msg }
func (s *scrubbed) Unwrap() error { return s.err }

// URLSecrets lists the parts of a sink URL that Scrub should hide: the URL
// itself and its path and query, raw and escaped.
func URLSecrets(raw string) []string {
	out := []string{raw}
	if u, err := url.Parse(raw); err == nil {
		if len(u.Path) > 1 {
			out = append(out, u.Path, u.EscapedPath())
		}
		if u.RawQuery != "" {
			out = append(out, u.RawQuery)
		}
		if u.User != nil {
			out = append(out, u.User.String())
		}
	}
	return out
}

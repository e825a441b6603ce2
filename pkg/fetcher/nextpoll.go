package fetcher

import (
	"bytes"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// cacheHint is how long the feed's server says its answer stays fresh: the
// largest of Cache-Control max-age (less Age), Expires (against the server's
// Date) and an RSS <ttl> in minutes, or 0 when none says anything. no-cache
// and no-store say nothing about how often to poll, so they give 0 too.
func cacheHint(h http.Header, body []byte, now time.Time) time.Duration {
	var hint time.Duration
	maxAge := false
	for _, d := range strings.Split(h.Get("Cache-Control"), ",") {
		d = strings.TrimSpace(d)
		name, v, ok := strings.Cut(d, "=")
		if !ok || !strings.EqualFold(strings.TrimSpace(name), "max-age") {
			continue
		}
		if s, err := strconv.Atoi(strings.Trim(strings.TrimSpace(v), `"`)); err == nil && s > 0 {
			maxAge = true
			hint = time.Duration(s) * time.Second
			if age, err := strconv.Atoi(strings.TrimSpace(h.Get("Age"))); err == nil && age > 0 {
				hint -= time.Duration(age) * time.Second
			}
		}
	}
	// Expires counts only without max-age (RFC 9111 §5.3), and is read
	// against the server's own Date so clock skew does not matter.
	if !maxAge {
		if exp, err := http.ParseTime(h.Get("Expires")); err == nil {
			date, err := http.ParseTime(h.Get("Date"))
			if err != nil {
				date = now
			}
			if d := exp.Sub(date); d > hint {
				hint = d
			}
		}
	}
	if ttl := rssTTL(body); ttl > hint {
		hint = ttl
	}
	return max(hint, 0)
}

// rssTTL reads <ttl> of an RSS channel without a second parse: gofeed keeps
// it only in the format-specific structure the universal parser drops.
func rssTTL(body []byte) time.Duration {
	i := bytes.Index(body, []byte("<ttl>"))
	if i < 0 {
		return 0
	}
	rest := body[i+len("<ttl>"):]
	j := bytes.IndexByte(rest, '<')
	if j < 0 || j > 16 {
		return 0
	}
	m, err := strconv.Atoi(string(bytes.TrimSpace(rest[:j])))
	if err != nil || m <= 0 {
		return 0
	}
	return time.Duration(m) * time.Minute
}

// jittered spreads d over d ± frac·d.
func jittered(d time.Duration, frac float64) time.Duration {
	if frac <= 0 {
		return d
	}
	return time.Duration(float64(d) * (1 + frac*(2*rand.Float64()-1)))
}

// backoff doubles the interval per consecutive failure, up to maxBackoff.
func backoff(interval time.Duration, failures int) time.Duration {
	d := interval
	for i := 1; i < failures && d < maxBackoff; i++ {
		d *= 2
	}
	return min(d, max(maxBackoff, interval))
}

// retryAfter parses a Retry-After header in seconds or as an HTTP date.
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

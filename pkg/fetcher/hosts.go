package fetcher

import (
	"context"
	"net/url"
	"strings"
	"sync"
	"time"
)

// hostLimiter enforces per-host politeness for feeds and pages alike: at most
// perHost requests in flight to one host, and gap between their starts.
type hostLimiter struct {
	perHost int
	gap     time.Duration

	mu    sync.Mutex
	hosts map[string]*hostSlot
	// marked, when set (by tests), is called under mu with each request's
	// start mark, the time the gap is kept from.
	marked func(host string, at time.Time)
}

type hostSlot struct {
	inflight int
	last     time.Time     // start of the latest request
	wake     chan struct{} // closed on release, to wake blocked acquirers
}

// minRetry is the soonest the scheduler looks again at a feed whose host is
// saturated; a release does not wake the scheduler, so this bounds the delay.
const minRetry = 20 * time.Millisecond

func newHostLimiter(perHost int, gap time.Duration) *hostLimiter {
	return &hostLimiter{perHost: perHost, gap: gap, hosts: map[string]*hostSlot{}}
}

// tryAcquire takes a slot of host if one is free and the host's gap has
// passed; otherwise it returns when to try again. The gap itself is kept by
// start, when the request really begins.
func (l *hostLimiter) tryAcquire(host string, now time.Time) (bool, time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.hosts[host]
	if s == nil {
		s = &hostSlot{wake: make(chan struct{})}
		l.hosts[host] = s
	}
	if s.inflight >= l.perHost {
		return false, now.Add(max(l.gap, minRetry))
	}
	if l.gap > 0 && !s.last.IsZero() {
		if at := s.last.Add(l.gap); now.Before(at) {
			return false, at
		}
	}
	s.inflight++
	return true, time.Time{}
}

// start waits, holding a slot, until the host's gap since the previous
// request's start has passed, and marks this request's start. The mark is
// taken after any wait, so timer lateness never shortens the gap.
func (l *hostLimiter) start(ctx context.Context, host string) error {
	for {
		now := time.Now()
		l.mu.Lock()
		s := l.hosts[host]
		if s == nil || l.gap <= 0 || !now.Before(s.last.Add(l.gap)) {
			if s != nil {
				s.last = now
				if l.marked != nil {
					l.marked(host, now)
				}
			}
			l.mu.Unlock()
			return nil
		}
		wait := s.last.Add(l.gap).Sub(now)
		l.mu.Unlock()
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// acquire blocks until a slot of host is free and its gap has passed.
func (l *hostLimiter) acquire(ctx context.Context, host string) error {
	for {
		now := time.Now()
		ok, at := l.tryAcquire(host, now)
		if ok {
			if err := l.start(ctx, host); err != nil {
				l.release(host)
				return err
			}
			return nil
		}
		l.mu.Lock()
		wake := l.hosts[host].wake
		l.mu.Unlock()
		t := time.NewTimer(at.Sub(now))
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-wake:
		case <-t.C:
		}
		t.Stop()
	}
}

func (l *hostLimiter) release(host string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.hosts[host]
	if s == nil {
		return
	}
	s.inflight--
	close(s.wake)
	s.wake = make(chan struct{})
	// Forget idle hosts so 50,000 feeds on as many hosts cost nothing
	// between polls; the gap is then measured from a fresh start, which
	// errs on the side of one early request after a long silence.
	if s.inflight == 0 && time.Since(s.last) > l.gap {
		delete(l.hosts, host)
	}
}

// hostOf is the politeness key of a URL: its lower-case host and port.
func hostOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return raw
	}
	return strings.ToLower(u.Host)
}

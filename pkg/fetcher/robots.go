package fetcher

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"net/url"
	"strings"
	"sync"
	"time"
)

// ErrRobots is returned for an article page that robots.txt disallows.
var ErrRobots = errors.New("fetcher: page disallowed by the site's robots.txt (fetcher.respect_robots)")

// robotsRules are the Allow and Disallow lines of the group that applies to
// us. Matching follows RFC 9309: the longest matching path wins, Allow wins
// a tie, '*' matches any run of characters and a final '$' anchors the end.
type robotsRules struct {
	allow, disallow []string
}

// parseRobots reads robots.txt and keeps the rules of the group naming our
// product token (agent), else those of the '*' group.
func parseRobots(data []byte, agent string) robotsRules {
	agent = strings.ToLower(agent)
	var mine, star robotsRules
	var haveMine bool
	var groupAgents []string
	inRules := false // a rule line ends the list of user-agents of a group
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), 64<<10)
	for sc.Scan() {
		line := sc.Text()
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		key, val, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		key = strings.ToLower(strings.TrimSpace(key))
		val = strings.TrimSpace(val)
		switch key {
		case "user-agent":
			if inRules {
				groupAgents = nil
				inRules = false
			}
			groupAgents = append(groupAgents, strings.ToLower(val))
		case "allow", "disallow":
			inRules = true
			if val == "" {
				continue // "Disallow:" with nothing allows everything
			}
			for _, a := range groupAgents {
				var r *robotsRules
				switch {
				case a == "*":
					r = &star
				case agent != "" && strings.HasPrefix(agent, a):
					r, haveMine = &mine, true
				default:
					continue
				}
				if key == "allow" {
					r.allow = append(r.allow, val)
				} else {
					r.disallow = append(r.disallow, val)
				}
			}
		}
	}
	if haveMine {
		return mine
	}
	return star
}

// allowed reports whether path (with its query) may be fetched.
func (r robotsRules) allowed(path string) bool {
	best, allow := -1, true
	for _, p := range r.disallow {
		if n := robotsMatch(p, path); n > best {
			best, allow = n, false
		}
	}
	for _, p := range r.allow {
		if n := robotsMatch(p, path); n >= best && n >= 0 {
			best, allow = n, true
		}
	}
	return allow
}

// robotsMatch returns the length of pattern when it matches path from its
// start, else -1.
func robotsMatch(pattern, path string) int {
	anchored := strings.HasSuffix(pattern, "$")
	pat := strings.TrimSuffix(pattern, "$")
	parts := strings.Split(pat, "*")
	if !strings.HasPrefix(path, parts[0]) {
		return -1
	}
	pos := len(parts[0])
	for _, part := range parts[1:] {
		i := strings.Index(path[pos:], part)
		if i < 0 {
			return -1
		}
		pos += i + len(part)
	}
	if anchored {
		last := parts[len(parts)-1]
		if len(parts) == 1 {
			if pos != len(path) {
				return -1
			}
		} else if !strings.HasSuffix(path, last) {
			return -1
		}
	}
	return len(pattern)
}

// robotsCache holds each host's rules for a while.
type robotsCache struct {
	ttl   time.Duration
	agent string

	mu    sync.Mutex
	hosts map[string]robotsEntry
}

type robotsEntry struct {
	rules   robotsRules
	fetched time.Time
	wait    chan struct{} // closed once rules are set; shared by concurrent lookups
}

func newRobotsCache(agent string, ttl time.Duration) *robotsCache {
	return &robotsCache{agent: agent, ttl: ttl, hosts: map[string]robotsEntry{}}
}

// allowed fetches (once per host and ttl) and applies robots.txt. An
// unreachable robots.txt or one answering 4xx allows everything (RFC 9309
// §2.3.1.3); 5xx is treated as "disallow all" until the next refresh, as the
// RFC asks, but only for a short while so a flaky server does not hide a
// site's articles for hours.
func (c *robotsCache) allowed(ctx context.Context, get func(ctx context.Context, url string) (int, []byte, error), pageURL string) bool {
	u, err := url.Parse(pageURL)
	if err != nil || u.Host == "" {
		return true
	}
	key := u.Scheme + "://" + u.Host
	now := time.Now()
	c.mu.Lock()
	e, ok := c.hosts[key]
	if ok && (e.wait != nil || now.Sub(e.fetched) < c.ttl) {
		c.mu.Unlock()
		if e.wait != nil {
			select {
			case <-e.wait:
			case <-ctx.Done():
				return false
			}
			c.mu.Lock()
			e = c.hosts[key]
			c.mu.Unlock()
		}
		return e.rules.allowed(u.EscapedPath() + query(u))
	}
	wait := make(chan struct{})
	c.hosts[key] = robotsEntry{wait: wait}
	c.mu.Unlock()

	var rules robotsRules
	fetched := now
	status, body, err := get(ctx, key+"/robots.txt")
	if ctx.Err() != nil {
		// Cut by the caller, not the site: remember nothing.
		c.mu.Lock()
		delete(c.hosts, key)
		c.mu.Unlock()
		close(wait)
		return false
	}
	switch {
	case err != nil && status == 0:
		// unreachable: allow, and look again soon
		fetched = now.Add(-c.ttl + 5*time.Minute)
	case status >= 500:
		rules = robotsRules{disallow: []string{"/"}}
		fetched = now.Add(-c.ttl + 5*time.Minute)
	case status >= 200 && status < 300:
		rules = parseRobots(body, c.agent)
	}
	c.mu.Lock()
	c.hosts[key] = robotsEntry{rules: rules, fetched: fetched}
	c.mu.Unlock()
	close(wait)
	return rules.allowed(u.EscapedPath() + query(u))
}

func query(u *url.URL) string {
	if u.RawQuery == "" {
		return ""
	}
	return "?" + u.RawQuery
}

// productToken is the first word of a User-Agent, which robots.txt groups name.
func productToken(ua string) string {
	tok, _, _ := strings.Cut(ua, "/")
	tok, _, _ = strings.Cut(tok, " ")
	return tok
}

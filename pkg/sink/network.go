package sink

import (
	"cmp"
	"fmt"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/newswatch/newswatch/pkg/httpguard"
	"github.com/newswatch/newswatch/pkg/version"
)

// UserAgent is sent with every HTTP request of every sink.
var UserAgent = "newswatch-notifier/" + version.Version + " (+https://github.com/newswatch/newswatch)"

// Network is the network policy of one HTTP sink, inline in its config
// entry. By default a sink reaches public addresses only; the fetcher's
// fetcher.allow_private_networks does not apply to sinks.
type Network struct {
	// AllowPrivateNetworks lets the sink reach loopback, private (RFC
	// 1918, unique-local), CGNAT and other non-public addresses, except
	// link-local ones (169.254.0.0/16, fe80::/10) and cloud metadata
	// endpoints.
	AllowPrivateNetworks bool `yaml:"allow_private_networks"`
	// AllowNetworks are CIDRs (or single addresses) the sink may reach
	// whatever they hold; naming a link-local range here is the only way
	// to reach one.
	AllowNetworks []string `yaml:"allow_networks"`
	// AllowHosts are host names that may resolve to non-public addresses
	// (link-local and metadata excepted); ".svc.cluster.local" matches
	// every name below it.
	AllowHosts []string `yaml:"allow_hosts"`
}

// Policy checks n and turns it into the guarded client's policy, with
// refusals that name the sink and its keys.
func (n Network) Policy(sinkName string) (httpguard.NetworkPolicy, error) {
	p := httpguard.NetworkPolicy{
		AllowPrivate: n.AllowPrivateNetworks,
		Hint: fmt.Sprintf("set allow_private_networks: true on sink %q, or list the address in its allow_networks or the host name in its allow_hosts",
			sinkName),
		SensitiveHint: fmt.Sprintf("link-local and cloud metadata addresses are reached only when sink %q lists them in allow_networks (such as 169.254.10.0/24)",
			sinkName),
	}
	for i, s := range n.AllowNetworks {
		s = strings.TrimSpace(s)
		pfx, err := netip.ParsePrefix(s)
		if err != nil {
			a, aerr := netip.ParseAddr(s)
			if aerr != nil {
				return p, fmt.Errorf("sink %q: allow_networks[%d]: %q is neither a CIDR such as 10.20.0.0/16 nor an IP address", sinkName, i, s)
			}
			pfx = netip.PrefixFrom(a, a.BitLen())
		}
		p.Networks = append(p.Networks, pfx.Masked())
	}
	for i, h := range n.AllowHosts {
		h = strings.TrimSpace(h)
		if h == "" || h == "." || strings.ContainsAny(h, "/:@ *") {
			return p, fmt.Errorf("sink %q: allow_hosts[%d]: %q is not a host name; write alerts.internal, or .svc.cluster.local for every name below it (no scheme, port or wildcard)", sinkName, i, h)
		}
		p.Hosts = append(p.Hosts, h)
	}
	return p, nil
}

// NewHTTPClient returns the guarded HTTP client of one sink: it reaches only
// what the sink's network policy allows, never follows a redirect (a 3xx is
// a failure with reason status_3xx), sends UserAgent, and is bounded by the
// sink's own timeout (its timeout key, or def when that is 0) rather than
// any shared cap. A negative timeout is an error.
func NewHTTPClient(sinkName string, n Network, timeout, def time.Duration) (*http.Client, error) {
	if timeout < 0 {
		return nil, fmt.Errorf("sink %q: timeout must not be negative", sinkName)
	}
	timeout = cmp.Or(timeout, def)
	p, err := n.Policy(sinkName)
	if err != nil {
		return nil, err
	}
	connect := min(httpguard.DefaultConnectTimeout, timeout)
	c := httpguard.New(
		httpguard.WithNetworkPolicy(p),
		httpguard.WithFollowRedirects(false),
		httpguard.WithUserAgent(UserAgent),
		httpguard.WithTimeouts(connect, timeout, timeout),
	)
	return c.HTTPClient(), nil
}

// PlainHTTPClient is the client of a sink built without one: no address
// guard (library use and tests), but redirects are still not followed.
func PlainHTTPClient(timeout time.Duration) *http.Client {
	return &http.Client{
		Timeout:       timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

package httpguard

import (
	"net/netip"
	"strings"
)

// NetworkPolicy lets one client reach chosen non-public addresses, for a
// sink whose receiver lives on an internal network, while every other client
// of the process stays public-only. The link-local ranges (169.254.0.0/16,
// fe80::/10) and the cloud metadata endpoints are refused under AllowPrivate
// and Hosts: they are reached only through a Networks entry that covers them,
// that is when an operator names them.
type NetworkPolicy struct {
	// AllowPrivate allows loopback, private, unique-local, CGNAT and the
	// other non-public classes, except link-local and metadata addresses.
	AllowPrivate bool
	// Networks are allowed whatever their class; an address is matched
	// after unmapping IPv4-mapped IPv6.
	Networks []netip.Prefix
	// Hosts may resolve to non-public addresses other than link-local and
	// metadata ones. A name matches itself; an entry starting with "."
	// (".svc.cluster.local") matches every name below it. Case-insensitive.
	Hosts []string
	// Hint is the fix a refusal names, such as
	// `set allow_private_networks: true on sink "ops"`; the default names
	// fetcher.allow_private_networks.
	Hint string
	// SensitiveHint is the fix named when a link-local or metadata address
	// is refused although AllowPrivate or Hosts would admit the host.
	SensitiveHint string
}

// metadataAddrs are cloud metadata endpoints outside the link-local ranges.
var metadataAddrs = []netip.Prefix{
	netip.MustParsePrefix("fd00:ec2::254/128"),  // AWS IMDS over IPv6
	netip.MustParsePrefix("100.100.100.200/32"), // Alibaba Cloud metadata
}

// sensitiveClass names why a is refused even to a client allowed private
// networks, or returns "".
func sensitiveClass(a netip.Addr) string {
	u := a.WithZone("").Unmap()
	for _, p := range metadataAddrs {
		if p.Contains(u) {
			return "cloud metadata"
		}
	}
	// 169.254.169.254, the metadata endpoint of most clouds, is link-local;
	// so is the same address behind NAT64 or 6to4 ("link-local via NAT64").
	if c := addrClass(u); strings.HasPrefix(c, "link-local") {
		return c
	}
	if u.Is6() {
		b := u.As16()
		if nat64WellKnown.Contains(u) || sixToFour.Contains(u) {
			off := 12
			if sixToFour.Contains(u) {
				off = 2
			}
			v4 := netip.AddrFrom4([4]byte(b[off : off+4]))
			for _, p := range metadataAddrs {
				if p.Contains(v4) {
					return "cloud metadata"
				}
			}
		}
	}
	return ""
}

// allows reports whether p admits ip, reached through host.
func (p *NetworkPolicy) allows(host string, ip netip.Addr) (ok bool, sensitive string) {
	u := ip.WithZone("").Unmap()
	for _, n := range p.Networks {
		if n.Contains(u) {
			return true, ""
		}
	}
	if !p.AllowPrivate && !p.hostListed(host) {
		return false, ""
	}
	if s := sensitiveClass(ip); s != "" {
		return false, s
	}
	return true, ""
}

func (p *NetworkPolicy) hostListed(host string) bool {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	for _, h := range p.Hosts {
		h = strings.ToLower(strings.TrimSuffix(h, "."))
		if h == "" {
			continue
		}
		if host == h || (strings.HasPrefix(h, ".") && strings.HasSuffix(host, h)) {
			return true
		}
	}
	return false
}

// article is "a" or "an" for a class name, as spoken: "an unspecified",
// "an IETF", but "a unique local", "a 6to4".
func article(class string) string {
	if class == "" {
		return "a"
	}
	if strings.HasPrefix(class, "SRv6") {
		return "an"
	}
	switch class[0] {
	case 'a', 'e', 'i', 'o', 'A', 'E', 'I', 'O':
		return "an"
	case 'u', 'U':
		if strings.HasPrefix(strings.ToLower(class), "uni") {
			return "a"
		}
		return "an"
	}
	return "a"
}

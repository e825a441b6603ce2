package httpguard

import (
	"net"
	"net/netip"
)

// specialRange is an address block that must not be reached from a fetch of
// an outside URL. Sources: the IANA IPv4 and IPv6 Special-Purpose Address
// Registries, plus blocks that are private in practice (CGNAT, site-local).
type specialRange struct {
	prefix netip.Prefix
	class  string
}

func mustRanges(pairs ...string) []specialRange {
	out := make([]specialRange, 0, len(pairs)/2)
	for i := 0; i < len(pairs); i += 2 {
		out = append(out, specialRange{netip.MustParsePrefix(pairs[i]), pairs[i+1]})
	}
	return out
}

var special4 = mustRanges(
	"0.0.0.0/8", "unspecified",
	"10.0.0.0/8", "private",
	"100.64.0.0/10", "carrier-grade NAT",
	"127.0.0.0/8", "loopback",
	"169.254.0.0/16", "link-local", // includes the cloud metadata endpoint 169.254.169.254
	"172.16.0.0/12", "private",
	"192.0.0.0/24", "IETF protocol assignment",
	"192.0.2.0/24", "documentation",
	"192.88.99.0/24", "6to4 relay anycast",
	"192.168.0.0/16", "private",
	"198.18.0.0/15", "benchmarking",
	"198.51.100.0/24", "documentation",
	"203.0.113.0/24", "documentation",
	"224.0.0.0/4", "multicast",
	"240.0.0.0/4", "reserved", // includes the broadcast address 255.255.255.255
)

// special6 is consulted only for addresses inside 2000::/3; everything
// outside global unicast is refused as reserved or named in classify6.
var special6 = mustRanges(
	"2001::/23", "IETF protocol assignment", // Teredo, benchmarking, ORCHID
	"2001:db8::/32", "documentation",
	"3fff::/20", "documentation",
)

var (
	globalUnicast6 = netip.MustParsePrefix("2000::/3")
	nat64WellKnown = netip.MustParsePrefix("64:ff9b::/96")
	nat64Local     = netip.MustParsePrefix("64:ff9b:1::/48")
	sixToFour      = netip.MustParsePrefix("2002::/16")
	ipv4Compatible = netip.MustParsePrefix("::/96")
	discardOnly    = netip.MustParsePrefix("100::/64")
	srv6SIDs       = netip.MustParsePrefix("5f00::/16")
	uniqueLocal    = netip.MustParsePrefix("fc00::/7")
	linkLocal6     = netip.MustParsePrefix("fe80::/10")
	siteLocal6     = netip.MustParsePrefix("fec0::/10")
	multicast6     = netip.MustParsePrefix("ff00::/8")
)

// IsPublicAddr reports whether a is a publicly routable unicast address that
// a fetch of an outside URL may connect to. IPv4-mapped IPv6 addresses are
// judged by the IPv4 address they carry, and so are NAT64 (64:ff9b::/96) and
// 6to4 addresses, so that an IPv6-only host behind DNS64 can still reach
// public IPv4 sites but not private ones.
func IsPublicAddr(a netip.Addr) bool {
	return addrClass(a) == ""
}

// IsPublicIP is IsPublicAddr for a net.IP. An invalid IP is not public.
func IsPublicIP(ip net.IP) bool {
	a, ok := netip.AddrFromSlice(ip)
	if !ok {
		return false
	}
	return IsPublicAddr(a)
}

// addrClass names the special range a belongs to, for error messages, or
// returns "" for a public address.
func addrClass(a netip.Addr) string {
	if !a.IsValid() {
		return "invalid"
	}
	a = a.WithZone("").Unmap()
	if a.Is4() {
		for _, r := range special4 {
			if r.prefix.Contains(a) {
				return r.class
			}
		}
		return ""
	}
	return classify6(a)
}

func classify6(a netip.Addr) string {
	switch {
	case a == netip.IPv6Unspecified():
		return "unspecified"
	case a == netip.IPv6Loopback():
		return "loopback"
	case ipv4Compatible.Contains(a):
		return "IPv4-compatible (deprecated)"
	case nat64WellKnown.Contains(a):
		return embedded4(a, 12, "NAT64")
	case nat64Local.Contains(a):
		return "local-use NAT64"
	case discardOnly.Contains(a):
		return "discard-only"
	case uniqueLocal.Contains(a):
		return "unique local"
	case linkLocal6.Contains(a):
		return "link-local"
	case siteLocal6.Contains(a):
		return "site-local (deprecated)"
	case multicast6.Contains(a):
		return "multicast"
	case srv6SIDs.Contains(a):
		return "SRv6 segment identifier"
	case sixToFour.Contains(a):
		return embedded4(a, 2, "6to4")
	case !globalUnicast6.Contains(a):
		return "reserved"
	}
	for _, r := range special6 {
		if r.prefix.Contains(a) {
			return r.class
		}
	}
	return ""
}

// embedded4 judges a translated IPv6 address by the IPv4 address stored at
// byte offset off, so a NAT64 or 6to4 wrapping cannot smuggle in 10.0.0.1.
func embedded4(a netip.Addr, off int, via string) string {
	b := a.As16()
	v4 := netip.AddrFrom4([4]byte(b[off : off+4]))
	if c := addrClass(v4); c != "" {
		return c + " via " + via
	}
	return ""
}

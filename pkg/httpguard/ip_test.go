package httpguard

import (
	"net"
	"net/netip"
	"testing"
)

func TestIsPublicAddr(t *testing.T) {
	tests := []struct {
		name  string
		addr  string
		class string // "" means public
	}{
		{"google dns", "8.8.8.8", ""},
		{"cloudflare dns", "1.1.1.1", ""},
		{"just below 10/8", "9.255.255.255", ""},
		{"just above 10/8", "11.0.0.0", ""},
		{"this network", "0.0.0.0", "unspecified"},
		{"this network block", "0.1.2.3", "unspecified"},
		{"rfc1918 10", "10.0.0.1", "private"},
		{"rfc1918 10 top", "10.255.255.255", "private"},
		{"rfc1918 172.16 bottom", "172.16.0.0", "private"},
		{"rfc1918 172.31 top", "172.31.255.255", "private"},
		{"below 172.16/12", "172.15.255.255", ""},
		{"above 172.16/12", "172.32.0.0", ""},
		{"rfc1918 192.168", "192.168.1.1", "private"},
		{"below cgnat", "100.63.255.255", ""},
		{"cgnat bottom", "100.64.0.0", "carrier-grade NAT"},
		{"cgnat top", "100.127.255.255", "carrier-grade NAT"},
		{"above cgnat", "100.128.0.0", ""},
		{"loopback", "127.0.0.1", "loopback"},
		{"loopback block", "127.255.255.254", "loopback"},
		{"cloud metadata", "169.254.169.254", "link-local"},
		{"link-local", "169.254.0.1", "link-local"},
		{"ietf protocol assignments", "192.0.0.170", "IETF protocol assignment"},
		{"test-net-1", "192.0.2.1", "documentation"},
		{"6to4 relay", "192.88.99.1", "6to4 relay anycast"},
		{"benchmarking", "198.18.0.1", "benchmarking"},
		{"benchmarking top", "198.19.255.255", "benchmarking"},
		{"above benchmarking", "198.20.0.0", ""},
		{"test-net-2", "198.51.100.7", "documentation"},
		{"test-net-3", "203.0.113.9", "documentation"},
		{"multicast", "224.0.0.1", "multicast"},
		{"ssdp multicast", "239.255.255.250", "multicast"},
		{"reserved class e", "240.0.0.1", "reserved"},
		{"broadcast", "255.255.255.255", "reserved"},

		{"ipv6 public google", "2001:4860:4860::8888", ""},
		{"ipv6 public cloudflare", "2606:4700:4700::1111", ""},
		{"ipv6 unspecified", "::", "unspecified"},
		{"ipv6 loopback", "::1", "loopback"},
		{"ipv4-compatible", "::127.0.0.1", "IPv4-compatible (deprecated)"},
		{"mapped loopback", "::ffff:127.0.0.1", "loopback"},
		{"mapped metadata", "::ffff:169.254.169.254", "link-local"},
		{"mapped private", "::ffff:10.0.0.1", "private"},
		{"mapped cgnat", "::ffff:100.64.1.1", "carrier-grade NAT"},
		{"mapped public", "::ffff:8.8.8.8", ""},
		{"nat64 public", "64:ff9b::808:808", ""},
		{"nat64 of metadata", "64:ff9b::a9fe:a9fe", "link-local via NAT64"},
		{"nat64 of private", "64:ff9b::a00:1", "private via NAT64"},
		{"local-use nat64", "64:ff9b:1::1", "local-use NAT64"},
		{"discard-only", "100::1", "discard-only"},
		{"teredo", "2001::1", "IETF protocol assignment"},
		{"ietf block top", "2001:1ff::1", "IETF protocol assignment"},
		{"just above ietf block", "2001:200::1", ""},
		{"documentation", "2001:db8::1", "documentation"},
		{"documentation 3fff", "3fff::1", "documentation"},
		{"6to4 of public", "2002:808:808::1", ""},
		{"6to4 of private", "2002:c0a8:101::1", "private via 6to4"},
		{"srv6", "5f00::1", "SRv6 segment identifier"},
		{"unallocated outside 2000::/3", "4000::1", "reserved"},
		{"ula fc", "fc00::1", "unique local"},
		{"ula fd", "fd12:3456:789a::1", "unique local"},
		{"link-local v6", "fe80::1", "link-local"},
		{"link-local v6 with zone", "fe80::1%eth0", "link-local"},
		{"site-local", "fec0::1", "site-local (deprecated)"},
		{"multicast v6", "ff02::1", "multicast"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := netip.MustParseAddr(tt.addr)
			if got := addrClass(a); got != tt.class {
				t.Errorf("addrClass(%s) = %q, want %q", tt.addr, got, tt.class)
			}
			if got, want := IsPublicAddr(a), tt.class == ""; got != want {
				t.Errorf("IsPublicAddr(%s) = %v, want %v", tt.addr, got, want)
			}
			if a.Zone() == "" {
				if got, want := IsPublicIP(net.ParseIP(tt.addr)), tt.class == ""; got != want {
					t.Errorf("IsPublicIP(%s) = %v, want %v", tt.addr, got, want)
				}
			}
		})
	}
}

func TestIsPublicIPInvalid(t *testing.T) {
	tests := []struct {
		name string
		ip   net.IP
	}{
		{"nil", nil},
		{"three bytes", net.IP{1, 2, 3}},
		{"five bytes", net.IP{8, 8, 8, 8, 8}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if IsPublicIP(tt.ip) {
				t.Errorf("IsPublicIP(%v) = true, want false", tt.ip)
			}
		})
	}
	if IsPublicAddr(netip.Addr{}) {
		t.Error("IsPublicAddr(zero Addr) = true, want false")
	}
}

package httpguard

import (
	"errors"
	"net/http"
	"net/netip"
	"strings"
	"testing"
)

func TestRefusalGrammar(t *testing.T) {
	tests := []struct {
		addr string
		want string
	}{
		{"0.0.0.0", "0.0.0.0 is an unspecified address"},
		{"192.0.0.8", "is an IETF protocol assignment address"},
		{"10.0.0.1", "10.0.0.1 is a private address"},
		{"fd00::1", "is a unique local address"},
		{"::ffff:0:0", "is a"}, // mapped unspecified: judged as 0.0.0.0
		{"::1.2.3.4", "is an IPv4-compatible (deprecated) address"},
	}
	c := New()
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			ip := netip.MustParseAddr(tt.addr)
			err := c.checkAddr(tt.addr, ip)
			if !errors.Is(err, ErrPrivateNetworkHost) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("checkAddr(%s) = %v, want it to say %q", tt.addr, err, tt.want)
			}
		})
	}
}

func TestNetworkPolicy(t *testing.T) {
	tests := []struct {
		name    string
		policy  NetworkPolicy
		host    string
		addr    string
		allowed bool
		say     string // in the refusal
	}{
		{"default refuses loopback", NetworkPolicy{}, "127.0.0.1", "127.0.0.1", false, "fetcher.allow_private_networks"},
		{"private allows loopback", NetworkPolicy{AllowPrivate: true}, "127.0.0.1", "127.0.0.1", true, ""},
		{"private allows rfc1918", NetworkPolicy{AllowPrivate: true}, "hook.internal", "10.2.3.4", true, ""},
		{"private allows ula", NetworkPolicy{AllowPrivate: true}, "hook.internal", "fd12::1", true, ""},
		{"private refuses metadata", NetworkPolicy{AllowPrivate: true, SensitiveHint: "name it in allow_networks"}, "169.254.169.254", "169.254.169.254", false, "is a link-local address; name it in allow_networks"},
		{"private refuses mapped metadata", NetworkPolicy{AllowPrivate: true}, "x", "::ffff:169.254.169.254", false, "link-local"},
		{"private refuses nat64 metadata", NetworkPolicy{AllowPrivate: true}, "x", "64:ff9b::a9fe:a9fe", false, "link-local via NAT64"},
		{"private refuses ipv6 link-local", NetworkPolicy{AllowPrivate: true}, "x", "fe80::1", false, "link-local"},
		{"private refuses aws ipv6 metadata", NetworkPolicy{AllowPrivate: true}, "x", "fd00:ec2::254", false, "cloud metadata"},
		{"private refuses alibaba metadata", NetworkPolicy{AllowPrivate: true}, "x", "100.100.100.200", false, "cloud metadata"},
		{"network allows its range", NetworkPolicy{Networks: []netip.Prefix{netip.MustParsePrefix("10.20.0.0/16")}}, "x", "10.20.1.1", true, ""},
		{"network refuses outside it", NetworkPolicy{Networks: []netip.Prefix{netip.MustParsePrefix("10.20.0.0/16")}, Hint: "list it in allow_networks of sink \"ops\""}, "x", "10.21.1.1", false, "allow_networks of sink \"ops\""},
		{"named metadata is allowed", NetworkPolicy{Networks: []netip.Prefix{netip.MustParsePrefix("169.254.169.254/32")}}, "x", "169.254.169.254", true, ""},
		{"host allows its name", NetworkPolicy{Hosts: []string{"Hook.Internal"}}, "hook.internal", "10.2.3.4", true, ""},
		{"host suffix allows below it", NetworkPolicy{Hosts: []string{".svc.cluster.local"}}, "alerts.ops.svc.cluster.local", "10.96.0.10", true, ""},
		{"host suffix is not a substring match", NetworkPolicy{Hosts: []string{".svc.cluster.local"}}, "evilsvc.cluster.local", "10.96.0.10", false, "private"},
		{"host refuses other names", NetworkPolicy{Hosts: []string{"hook.internal"}}, "other.internal", "10.2.3.4", false, "private"},
		{"host refuses metadata", NetworkPolicy{Hosts: []string{"hook.internal"}}, "hook.internal", "169.254.169.254", false, "link-local"},
		{"public always allowed", NetworkPolicy{}, "example.org", "93.184.215.14", true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := New(WithNetworkPolicy(tt.policy))
			err := c.checkAddr(tt.host, netip.MustParseAddr(tt.addr))
			if tt.allowed {
				if err != nil {
					t.Errorf("refused: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrPrivateNetworkHost) {
				t.Fatalf("err = %v, want ErrPrivateNetworkHost", err)
			}
			if !strings.Contains(err.Error(), tt.say) {
				t.Errorf("error %q does not say %q", err, tt.say)
			}
		})
	}
}

// A client under a policy that allows private networks reaches a loopback
// server over a real connection; one without the policy does not.
func TestNetworkPolicyDial(t *testing.T) {
	srv := newCountingServer(t, okHandler("internal receiver"))
	allowed := New(WithNetworkPolicy(NetworkPolicy{AllowPrivate: true}))
	if _, err := allowed.Get(t.Context(), srv.URL, nil); err != nil {
		t.Fatalf("policy with AllowPrivate: %v", err)
	}
	byHost := New(WithNetworkPolicy(NetworkPolicy{Hosts: []string{"localhost"}}))
	if _, err := byHost.Get(t.Context(), "http://localhost:"+port(t, srv.Server)+"/", nil); err != nil {
		t.Fatalf("policy listing localhost: %v", err)
	}
	if _, err := New().Get(t.Context(), srv.URL, nil); !errors.Is(err, ErrPrivateNetworkHost) {
		t.Fatalf("default client: err = %v, want ErrPrivateNetworkHost", err)
	}
	if n := srv.hits.Load(); n != 2 {
		t.Errorf("server saw %d requests, want 2", n)
	}
}

// With redirects not followed, the 3xx comes back as it is and its target
// never sees a request.
func TestNoFollowReturnsRedirect(t *testing.T) {
	target := newCountingServer(t, okHandler("moved here"))
	origin := newCountingServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL+"/ok", http.StatusFound)
	}))
	c := New(WithNetworkPolicy(NetworkPolicy{AllowPrivate: true}), WithFollowRedirects(false))
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, origin.URL+"/hook", strings.NewReader("{}"))
	resp, err := c.HTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != target.URL+"/ok" {
		t.Errorf("got %d Location %q, want the 302 itself", resp.StatusCode, resp.Header.Get("Location"))
	}
	if n := target.hits.Load(); n != 0 {
		t.Errorf("redirect target saw %d requests, want 0", n)
	}
}

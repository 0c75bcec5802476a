package oauth

import (
	"net/netip"
	"testing"
)

// TestSourceAddress: which address a request is throttled under, from its
// peer, its X-Forwarded-For and the trusted proxies.
func TestSourceAddress(t *testing.T) {
	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8")}
	for _, c := range []struct {
		name         string
		peer         string
		forwardedFor []string
		trusted      []netip.Prefix
		want         string
	}{
		{"peer", "192.0.2.1:4000", nil, nil, "192.0.2.1"},
		{"header ignored without trusted proxies", "192.0.2.1:4000", []string{"198.51.100.1"}, nil, "192.0.2.1"},
		{"header ignored from an untrusted peer", "192.0.2.1:4000", []string{"198.51.100.1"}, proxies, "192.0.2.1"},
		{"trusted proxy", "10.1.2.3:4000", []string{"198.51.100.1"}, proxies, "198.51.100.1"},
		{"trusted proxy, no header", "10.1.2.3:4000", nil, proxies, "10.1.2.3"},
		{"forged entries left of the proxy's", "10.1.2.3:4000", []string{"203.0.113.9, 198.51.100.1"}, proxies, "198.51.100.1"},
		{"chain of trusted proxies", "10.1.2.3:4000", []string{"203.0.113.9, 198.51.100.1, 10.9.9.9"}, proxies, "198.51.100.1"},
		{"several header lines", "10.1.2.3:4000", []string{"203.0.113.9", "198.51.100.1, 10.9.9.9"}, proxies, "198.51.100.1"},
		{"entry with a port", "10.1.2.3:4000", []string{"198.51.100.1:5555"}, proxies, "198.51.100.1"},
		{"only trusted hops", "10.1.2.3:4000", []string{"10.4.4.4"}, proxies, "10.4.4.4"},
		{"malformed entry: the last trusted hop", "10.1.2.3:4000", []string{"unknown, 10.4.4.4"}, proxies, "10.4.4.4"},
		{"IPv6 cut to the /64", "[2001:db8:1:2:3:4:5:6]:4000", nil, nil, "2001:db8:1:2::/64"},
		{"IPv6 behind an IPv6 proxy", "[fd00::1]:4000", []string{"2001:db8:1:2::99"}, proxies, "2001:db8:1:2::/64"},
		{"IPv4-mapped peer", "[::ffff:192.0.2.1]:4000", nil, nil, "192.0.2.1"},
		{"not an IP peer", "@", nil, proxies, "@"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := sourceAddress(c.peer, c.forwardedFor, c.trusted); got != c.want {
				t.Errorf("sourceAddress(%q, %q) = %q, want %q", c.peer, c.forwardedFor, got, c.want)
			}
		})
	}
}

package loopback

import (
	"net/netip"
	"strings"
)

// IsHost reports whether host (a URL's host without port, IPv6 literals
// with or without brackets) is a loopback IP address or "localhost".
func IsHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	a, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(host, "["), "]"))
	return err == nil && a.Unmap().IsLoopback()
}

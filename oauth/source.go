package oauth

import (
	"net/http"
	"net/netip"
	"slices"
	"strings"
)

// sourceAddress is the address r comes from, as the throttles key it.
func (s *Server) sourceAddress(r *http.Request) string {
	return sourceAddress(r.RemoteAddr, r.Header.Values("X-Forwarded-For"), s.opts.TrustedProxies)
}

// sourceAddress is the peer's IP address or, when the peer is a trusted
// proxy, the address the proxies report in X-Forwarded-For: the rightmost
// entry that is not itself a trusted proxy. Each proxy appends the
// address it received the request from, so the entries left of that one
// were written by the sender, who may write anything, and are ignored.
// An IPv6 address is cut to its /64: one subscriber usually holds a whole
// /64 and could otherwise change address at every attempt.
func sourceAddress(remoteAddr string, forwardedFor []string, trusted []netip.Prefix) string {
	peer, err := netip.ParseAddrPort(remoteAddr)
	if err != nil {
		return remoteAddr // not an IP peer (a Unix socket): one source
	}
	addr := peer.Addr().Unmap().WithZone("")
	if isTrusted(addr, trusted) {
		var hops []string
		for _, v := range forwardedFor {
			hops = append(hops, strings.Split(v, ",")...)
		}
		for _, h := range slices.Backward(hops) {
			hop, ok := parseHop(h)
			if !ok {
				break // a broken proxy: keep the last trusted hop
			}
			addr = hop
			if !isTrusted(hop, trusted) {
				break
			}
		}
	}
	if addr.Is6() {
		return netip.PrefixFrom(addr, 64).Masked().String()
	}
	return addr.String()
}

func isTrusted(addr netip.Addr, trusted []netip.Prefix) bool {
	return slices.ContainsFunc(trusted, func(p netip.Prefix) bool { return p.Contains(addr) })
}

// parseHop reads one X-Forwarded-For entry: an IP address, which some
// proxies write with a port.
func parseHop(s string) (netip.Addr, bool) {
	s = strings.TrimSpace(s)
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap().WithZone(""), true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap().WithZone(""), true
	}
	return netip.Addr{}, false
}

package gateway

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// ClientAddr is the address of the client behind r, the one the gateway
// limits and logs by. It is the TCP peer, unless the peer is one of
// cfg.TrustedProxies: then it is the right-most X-Forwarded-For entry that
// is not itself a trusted proxy (each proxy appends the address it saw, so
// entries left of that one are the client's own word). An entry that does
// not parse ends the walk at the hop that passed it on.
func (g *Gateway) ClientAddr(r *http.Request) netip.Addr {
	peer := remoteAddr(r.RemoteAddr)
	if !g.trusted(peer) {
		return peer
	}
	hops := r.Header.Values("X-Forwarded-For")
	client := peer
	for i := len(hops) - 1; i >= 0; i-- {
		entries := strings.Split(hops[i], ",")
		for j := len(entries) - 1; j >= 0; j-- {
			a, ok := parseHop(entries[j])
			if !ok {
				return client
			}
			client = a
			if !g.trusted(a) {
				return a
			}
		}
	}
	return client
}

// trusted says whether a is one of the configured proxies.
func (g *Gateway) trusted(a netip.Addr) bool {
	for _, p := range g.cfg.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// remoteAddr parses net/http's RemoteAddr ("ip:port"); the zero Addr if it
// does not parse (it always does for TCP).
func remoteAddr(s string) netip.Addr {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap().WithZone("")
	}
	host, _, err := net.SplitHostPort(s)
	if err != nil {
		host = s
	}
	a, _ := netip.ParseAddr(host)
	return a.Unmap().WithZone("")
}

// parseHop reads one X-Forwarded-For entry: an address, with or without a
// port (some proxies add one).
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

// addrKey is what per-address limits count by: an IPv4 address, or an IPv6
// address's /64, which one subscriber usually holds whole.
func addrKey(a netip.Addr) netip.Prefix {
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p
	}
	return netip.PrefixFrom(a, a.BitLen())
}

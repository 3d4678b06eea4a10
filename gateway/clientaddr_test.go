package gateway

import (
	"net/http/httptest"
	"net/netip"
	"testing"
)

func TestClientAddr(t *testing.T) {
	proxies := []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("10.0.0.0/8")}
	tests := []struct {
		name, peer string
		xff        []string
		trusted    bool
		want       string
	}{
		{"no proxies: the header is ignored", "198.51.100.1:4000", []string{"203.0.113.1"}, false, "198.51.100.1"},
		{"untrusted peer: ignored", "198.51.100.1:4000", []string{"203.0.113.1"}, true, "198.51.100.1"},
		{"trusted peer, one hop", "127.0.0.1:4000", []string{"203.0.113.1"}, true, "203.0.113.1"},
		{"trusted peer, no header", "127.0.0.1:4000", nil, true, "127.0.0.1"},
		{"client-supplied entries left of the proxy's are ignored", "127.0.0.1:4000", []string{"192.0.2.66, 203.0.113.1"}, true, "203.0.113.1"},
		{"trusted hops are skipped", "127.0.0.1:4000", []string{"203.0.113.1, 10.0.0.7", "10.9.9.9"}, true, "203.0.113.1"},
		{"all hops trusted: the left-most", "127.0.0.1:4000", []string{"10.0.0.2, 10.0.0.7"}, true, "10.0.0.2"},
		{"garbage right of the client stops at the hop that passed it", "127.0.0.1:4000", []string{"203.0.113.1, nonsense"}, true, "127.0.0.1"},
		{"garbage left of the client does not matter", "127.0.0.1:4000", []string{"nonsense, 203.0.113.1"}, true, "203.0.113.1"},
		{"entries with ports", "127.0.0.1:4000", []string{"203.0.113.1:5555"}, true, "203.0.113.1"},
		{"IPv6 client", "127.0.0.1:4000", []string{"[2001:db8::1]:5555"}, true, "2001:db8::1"},
		{"IPv4-mapped peer", "[::ffff:127.0.0.1]:4000", []string{"203.0.113.1"}, true, "203.0.113.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := &Gateway{}
			if tt.trusted {
				g.cfg.TrustedProxies = proxies
			}
			r := httptest.NewRequest("GET", "/ws", nil)
			r.RemoteAddr = tt.peer
			for _, v := range tt.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if got := g.ClientAddr(r); got.String() != tt.want {
				t.Errorf("ClientAddr = %v, want %s", got, tt.want)
			}
		})
	}
}

func TestAddrKeyGroupsIPv6By64(t *testing.T) {
	a, b := netip.MustParseAddr("2001:db8:1:2::1"), netip.MustParseAddr("2001:db8:1:2:ffff::9")
	c := netip.MustParseAddr("2001:db8:1:3::1")
	if addrKey(a) != addrKey(b) || addrKey(a) == addrKey(c) {
		t.Errorf("keys %v %v %v: want one /64 per IPv6 subscriber", addrKey(a), addrKey(b), addrKey(c))
	}
	if k := addrKey(netip.MustParseAddr("203.0.113.1")); k.Bits() != 32 {
		t.Errorf("IPv4 key %v, want the address alone", k)
	}
}

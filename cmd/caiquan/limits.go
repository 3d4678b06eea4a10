package main

import (
	"net/netip"

	"github.com/caiquan/caiquan/config"
)

// fdHeadroom is what max_connections leaves of the open-file limit by
// default: the store, the cluster, logs and outgoing calls need files too.
const fdHeadroom = 256

// maxConnections is max_connections, or, when it is 0, the process's
// open-file limit (which Go raises to the hard limit at start) less
// fdHeadroom, and never less than half the limit.
func maxConnections(c config.Config) int {
	if c.MaxConnections > 0 {
		return c.MaxConnections
	}
	limit, ok := openFileLimit()
	if !ok {
		return 10000
	}
	const most = 1 << 22 // "unlimited" and other huge limits
	n := min(limit, most)
	return int(max(n-fdHeadroom, n/2, 1))
}

// trustedProxies parses trusted_proxies, which Validate has checked.
func trustedProxies(c config.Config) []netip.Prefix {
	var out []netip.Prefix
	for _, s := range c.TrustedProxies {
		if p, err := config.ParsePrefix(s); err == nil {
			out = append(out, p)
		}
	}
	return out
}

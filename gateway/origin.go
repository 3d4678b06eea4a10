package gateway

import (
	"net/http"
	"net/url"
	"strings"
)

// originAllowed decides whether a WebSocket upgrade may proceed. Browsers
// always send Origin; mini-programs and native apps usually send none.
func originAllowed(r *http.Request, allowed []string, allowNone bool) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return allowNone
	}
	for _, a := range allowed {
		if a == "*" || strings.EqualFold(a, origin) {
			return true
		}
	}
	// Same origin: the page was served by this host.
	u, err := url.Parse(origin)
	return err == nil && u.Host != "" && strings.EqualFold(u.Host, r.Host)
}

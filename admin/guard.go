package admin

import (
	"crypto/subtle"
	"mime"
	"net"
	"net/http"
	"strings"
)

// guard decides whether a request may reach the API. A web page the
// operator visits can make the browser send requests to this listener;
// what such a page cannot do is name this listener in Host (a DNS
// rebinding page's Host is its own name), send its own Origin as ours, set
// Content-Type application/json without a CORS preflight we never answer,
// or know the token.
type guard struct {
	token string
	ip    net.IP // the listener's address; unspecified for every interface
	port  string
}

func newGuard(token, addr string) guard {
	host, port, _ := net.SplitHostPort(addr)
	return guard{token: token, ip: net.ParseIP(host), port: port}
}

// check returns the refusal for r, or status 0 to let it through.
func (g guard) check(r *http.Request) (status int, code, message string) {
	if status, code, message = g.checkSite(r); status != 0 {
		return status, code, message
	}
	if !g.authorized(r) {
		return http.StatusUnauthorized, "unauthorized",
			"this admin API needs Authorization: Bearer <admin_token> (the server keeps a token it made in admin_token_file)"
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if err != nil || mt != "application/json" {
			return http.StatusUnsupportedMediaType, "unsupported_media_type",
				"a " + r.Method + " request must have Content-Type: application/json"
		}
	}
	return 0, "", ""
}

// checkSite refuses a request whose Host is not this listener or whose
// Origin is another site's. The console's files pass this check alone:
// they hold no data, and the API calls the page makes pass check.
func (g guard) checkSite(r *http.Request) (status int, code, message string) {
	if !g.hostAllowed(r.Host) {
		return http.StatusForbidden, "forbidden_host",
			"Host " + quote(r.Host) + " is not this admin listener's address; call it by IP address (or localhost) and port " + g.port
	}
	if o := r.Header.Get("Origin"); o != "" && !strings.EqualFold(o, "http://"+r.Host) {
		return http.StatusForbidden, "forbidden_origin",
			"Origin " + quote(o) + " is not this admin listener's own; pages of other origins may not use the admin API"
	}
	return 0, "", ""
}

// hostAllowed accepts the listener's own host:port: its IP address, any
// loopback address or localhost when it listens on loopback, and any IP
// address or localhost when it listens on every interface. A name other
// than localhost is refused: that is how DNS rebinding reaches us.
func (g guard) hostAllowed(hostport string) bool {
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		host, port = hostport, "80" // a Host without a port means port 80
	}
	if port != g.port || host == "" {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return g.ip.IsLoopback() || g.ip.IsUnspecified()
	}
	ip := net.ParseIP(host)
	switch {
	case ip == nil:
		return false
	case g.ip.IsUnspecified():
		return true
	case g.ip.IsLoopback():
		return ip.IsLoopback()
	default:
		return ip.Equal(g.ip)
	}
}

func (g guard) authorized(r *http.Request) bool {
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return ok && g.token != "" && subtle.ConstantTimeCompare([]byte(got), []byte(g.token)) == 1
}

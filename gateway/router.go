package gateway

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/caiquan/caiquan/actors"
	"github.com/caiquan/caiquan/messages"
	"github.com/caiquan/caiquan/metrics"
)

// ServeHTTP is the whole router. It matches r.URL.Path itself instead of
// using http.ServeMux, which cleans paths and would redirect the 2016
// client's `socket.io//` to a path the client does not follow.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	if overLimit(r) {
		// Accepted over max_connections: one answer, then the socket goes.
		w.Header().Set("Connection", "close")
		if path != "/healthz" {
			g.refuseFull(w, r)
			return
		}
	}
	switch {
	case path == "/healthz":
		g.serveHealth(w)
	case path == "/ws":
		g.serveOurs(w, r)
	case g.isSocketIOPath(path):
		g.serveSocketIO(w, r)
	case g.route(path) != nil:
		g.route(path).ServeHTTP(w, g.withClientAddr(r))
	case g.static != nil:
		g.static.ServeHTTP(w, r)
	default:
		writeJSON(w, http.StatusNotFound, apiError{Code: "not_found", Message: "no such path: " + path})
	}
}

// route finds the handler given with WithRoute for path: an exact match,
// or the longest route ending in "/" that path is below.
func (g *Gateway) route(path string) http.Handler {
	if h, ok := g.routes[path]; ok {
		return h
	}
	var best string
	for p := range g.routes {
		if strings.HasSuffix(p, "/") && strings.HasPrefix(path, p) && len(p) > len(best) {
			best = p
		}
	}
	return g.routes[best]
}

// isSocketIOPath accepts the prefix with or without its trailing slash and
// anything below it.
func (g *Gateway) isSocketIOPath(path string) bool {
	base := strings.TrimSuffix(g.cfg.SocketIOPrefix, "/")
	return path == base || strings.HasPrefix(path, base+"/")
}

func (g *Gateway) serveHealth(w http.ResponseWriter) {
	if g.draining.Load() {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "draining"})
		return
	}
	writeJSON(w, http.StatusOK, struct {
		Status string `json:"status"`
		Conns  int    `json:"conns"`
	}{"ok", g.OpenConns()})
}

// serveOurs is /ws. Replies go out in the kind of the client's last frame;
// before the first one, binary unless the query says format=json.
func (g *Gateway) serveOurs(w http.ResponseWriter, r *http.Request) {
	binaryFirst := r.URL.Query().Get("format") != "json"
	g.serveSocket(w, r, newOursWire(binaryFirst))
}

// serveSocketIO picks the Engine.IO version by the EIO query parameter and
// answers refusals the way an Engine.IO server does.
func (g *Gateway) serveSocketIO(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	version, transport, sid := q.Get("EIO"), q.Get("transport"), q.Get("sid")
	if version == "4" && sid != "" && g.pollSession(sid) == nil && g.forward(w, r, sid) {
		return
	}
	switch {
	case version != "3" && version != "4":
		writeJSON(w, http.StatusBadRequest, eioBadVersion)
	case transport == "polling" && version == "4":
		g.servePolling(w, r, sid)
	case transport != "websocket":
		writeJSON(w, http.StatusBadRequest, eioTransportUnknown)
	case sid != "" && version == "4":
		g.serveUpgrade(w, r, sid)
	case sid != "": // Engine.IO 3 has no polling sessions here
		writeJSON(w, http.StatusBadRequest, eioUnknownSID)
	case version == "3":
		g.serveSocket(w, r, newEIO3Wire())
	default:
		g.serveSocket(w, r, newEIO4Wire(newSID(), false, g.cfg.PingInterval, g.eio4PingTimeout, g.cfg.MaxFrameBytes))
	}
}

// serveSocket checks, upgrades, and starts the connection's reader goroutine.
func (g *Gateway) serveSocket(w http.ResponseWriter, r *http.Request, wire wire) {
	if g.draining.Load() {
		g.refused(metrics.RefusedDraining, "gateway: upgrade refused: draining", "remote", r.RemoteAddr)
		writeJSON(w, http.StatusServiceUnavailable, apiError{Code: messages.CodeDraining, Message: "the server is shutting down"})
		return
	}
	if g.refuseBusy(w, r) {
		return
	}
	if !originAllowed(r, g.cfg.AllowedOrigins, g.cfg.AllowNoOrigin) {
		g.refuseOrigin(w, r)
		return
	}
	addr := g.ClientAddr(r)
	if !g.reserveAddr(addr) {
		g.refuseAddr(w, addr)
		return
	}
	hj := &hijacker{ResponseWriter: w, maxMessage: g.cfg.MaxFrameBytes}
	ws, err := g.upgrader.Upgrade(hj, r, nil)
	if err != nil {
		g.releaseAddr(addr)
		return // the upgrader has answered
	}
	c := newConn(g, ws, hj.nc, wire)
	c.addr = addr
	c.token = r.URL.Query().Get("token")
	g.log.Debug("gateway: connection opened", actors.LogConn, c.id, "wire", wire.name(), "remote", addr.String())
	// The connection outlives this handler: net/http then drops its request
	// state and buffers, which would otherwise stay for the connection's life.
	go c.serve()
}

// refuseBusy answers 503 server_busy while the process is near its memory
// limit (WithAdmission); true when it did.
func (g *Gateway) refuseBusy(w http.ResponseWriter, r *http.Request) bool {
	if g.busy == nil || !g.busy() {
		return false
	}
	g.refused(metrics.RefusedMemory, "gateway: refused: near the memory limit", "remote", g.ClientAddr(r).String())
	w.Header().Set("Retry-After", "5")
	writeJSON(w, http.StatusServiceUnavailable, apiError{Code: messages.CodeServerBusy, Message: "the server is near its memory limit; try again in a moment"})
	return true
}

func (g *Gateway) refuseOrigin(w http.ResponseWriter, r *http.Request) {
	origin := r.Header.Get("Origin")
	if origin == "" {
		origin = "(none)"
	}
	g.refused(metrics.RefusedOrigin, "gateway: upgrade refused: origin not allowed", "origin", clip(origin), "remote", g.ClientAddr(r).String())
	writeJSON(w, http.StatusForbidden, apiError{Code: "origin_not_allowed", Message: "origin " + origin + " is not allowed"})
}

// apiError is the body of every HTTP refusal of ours.
type apiError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// engineIOError is Engine.IO's own refusal body, which clients parse.
type engineIOError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(body)
}

package gateway

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/http/httputil"
	"net/url"
)

// No sticky sessions in a cluster: a polling session's sid starts with a
// tag naming the node that holds it, and a request with a sid this node
// does not hold is passed to that node (the WebSocket of an upgrade too),
// so a load balancer may send any request anywhere.

// Peers tells the gateway about the other nodes of its cluster.
type Peers interface {
	// SelfTag is this node's NodeTag.
	SelfTag() string
	// HTTPAddr is the game HTTP address (host:port) of the current member
	// whose NodeTag is tag; false when there is none.
	HTTPAddr(tag string) (addr string, ok bool)
}

// WithPeers makes polling sids name this node and passes requests for
// other nodes' sids on to them.
func WithPeers(p Peers) Option { return func(g *Gateway) { g.peers = p } }

// nodeTagLen is the length of a NodeTag, the start of a clustered sid.
const nodeTagLen = 8

// NodeTag names a node (by its cluster address) in 8 URL-safe characters.
func NodeTag(clusterAddr string) string {
	sum := sha256.Sum256([]byte(clusterAddr))
	return base64.RawURLEncoding.EncodeToString(sum[:6])
}

// forwardedHeader marks a request one node passed to another; it is never
// passed on again, so nodes that disagree on the members cannot loop.
const forwardedHeader = "X-Caiquan-Forwarded"

// newPollSID makes a polling session's sid: with peers, this node's tag
// and then 20 random characters.
func (g *Gateway) newPollSID() string {
	if g.peers == nil {
		return newSID()
	}
	return g.peers.SelfTag() + newSID()
}

// forward passes a request for a sid held by another member to it; false
// when the sid names no other current member (the caller then answers
// "Session ID unknown"). Only members' addresses are ever dialled.
func (g *Gateway) forward(w http.ResponseWriter, r *http.Request, sid string) bool {
	if g.peers == nil || len(sid) != nodeTagLen+20 || r.Header.Get(forwardedHeader) != "" {
		return false
	}
	tag := sid[:nodeTagLen]
	if tag == g.peers.SelfTag() {
		return false
	}
	addr, ok := g.peers.HTTPAddr(tag)
	if !ok {
		return false
	}
	target := &url.URL{Scheme: "http", Host: addr}
	proxy := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.Out.Host = pr.In.Host // the owner's same-origin check sees the client's Host
			pr.SetXForwarded()
			pr.Out.Header.Set(forwardedHeader, "1")
		},
		ErrorHandler: func(w http.ResponseWriter, _ *http.Request, err error) {
			g.log.Warn("gateway: passing a polling request to its node", "node", addr, "err", err)
			writeJSON(w, http.StatusBadGateway, apiError{Code: "node_unreachable", Message: "the node holding this session did not answer"})
		},
	}
	proxy.ServeHTTP(w, r)
	return true
}

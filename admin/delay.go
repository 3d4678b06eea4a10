package admin

import (
	"net/http"
	"time"

	"github.com/caiquan/caiquan/actors"
)

// Delayer is what POST /delay needs of the actors: actors.Server has it.
// It acts on this node only; in a cluster, ask each node's admin API.
type Delayer interface {
	SetDelay(kind string, by, span time.Duration) error
	Delays() []actors.Delay
}

// DelayRequest is the body of POST /delay: messages from other actors to
// this node's actors of Kind wait By (a Go duration; "0s" ends the delay)
// for For.
type DelayRequest struct {
	Kind string `json:"kind"`
	By   string `json:"by"`
	For  string `json:"for,omitempty"`
}

// DelayStatus answers /delay: the delays in force on this node.
type DelayStatus struct {
	Delays []actors.Delay `json:"delays"`
}

func (s *Server) delayer(w http.ResponseWriter) (Delayer, bool) {
	d, ok := s.actors.(Delayer)
	if !ok {
		writeError(w, http.StatusNotImplemented, "no_delay", "this server cannot delay actors' messages")
	}
	return d, ok
}

func (s *Server) handleDelay(w http.ResponseWriter, r *http.Request) {
	d, ok := s.delayer(w)
	if !ok {
		return
	}
	var req DelayRequest
	if err := decode(r, &req); err != nil {
		writeError(w, http.StatusBadRequest, "bad_request", err.Error())
		return
	}
	if !knownKind(req.Kind) {
		writeError(w, http.StatusBadRequest, "bad_kind", "unknown actor kind "+quote(req.Kind))
		return
	}
	by, err := time.ParseDuration(req.By)
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad_request", "by: "+err.Error())
		return
	}
	var span time.Duration
	if req.For != "" {
		if span, err = time.ParseDuration(req.For); err != nil {
			writeError(w, http.StatusBadRequest, "bad_request", "for: "+err.Error())
			return
		}
	}
	if err := d.SetDelay(req.Kind, by, span); err != nil {
		writeError(w, http.StatusBadRequest, "bad_request", err.Error())
		return
	}
	s.log.Warn("admin: actor delay", "kind", req.Kind, "by", by, "for", span)
	writeJSON(w, http.StatusOK, DelayStatus{Delays: d.Delays()})
}

func (s *Server) handleDelayStatus(w http.ResponseWriter, _ *http.Request) {
	if d, ok := s.delayer(w); ok {
		writeJSON(w, http.StatusOK, DelayStatus{Delays: d.Delays()})
	}
}

// Delay sets or, with By "0s", ends a delay on the client's node.
func (c *Client) Delay(req DelayRequest) (DelayStatus, error) {
	var out DelayStatus
	return out, c.do(http.MethodPost, "/delay", req, &out)
}

// Delays lists the delays in force on the client's node.
func (c *Client) Delays() (DelayStatus, error) {
	var out DelayStatus
	return out, c.do(http.MethodGet, "/delay", nil, &out)
}

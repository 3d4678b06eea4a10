package admin

import (
	"errors"
	"net/http"
	"time"

	"github.com/caiquan/caiquan/actors"
)

// Delayer is what POST /delay needs of the actors: actors.Server has it.
// It acts on this node only; in a cluster, ask each node's admin API.
type Delayer interface {
	SetDelay(spec actors.DelaySpec) error
	Delays() []actors.Delay
}

// DelayRequest is the body of POST /delay: messages from other actors to
// this node's actors of Kind wait By (a Go duration), and the fraction
// Drop (0 to 1) of them is dropped, for For; by "0s" with no drop ends
// it. Seed repeats the drop decisions (0: the server picks one).
type DelayRequest struct {
	Kind string  `json:"kind"`
	By   string  `json:"by"`
	For  string  `json:"for,omitempty"`
	Drop float64 `json:"drop,omitempty"`
	Seed uint64  `json:"seed,omitempty"`
}

// spec checks req and makes it the actors' spec; the error names the field.
func (req DelayRequest) spec() (actors.DelaySpec, error) {
	spec := actors.DelaySpec{Kind: req.Kind, Drop: req.Drop, Seed: req.Seed}
	if !knownKind(req.Kind) {
		return spec, errors.New("kind: unknown actor kind " + quote(req.Kind))
	}
	var err error
	if req.By == "" {
		req.By = "0s"
	}
	if spec.By, err = time.ParseDuration(req.By); err != nil {
		return spec, errors.New("by: " + err.Error())
	}
	if req.For != "" {
		if spec.For, err = time.ParseDuration(req.For); err != nil {
			return spec, errors.New("for: " + err.Error())
		}
	}
	return spec, actors.CheckDelay(spec)
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
	spec, err := req.spec()
	if err != nil {
		code := "bad_request"
		if !knownKind(req.Kind) {
			code = "bad_kind"
		}
		writeError(w, http.StatusBadRequest, code, err.Error())
		return
	}
	if err := d.SetDelay(spec); err != nil {
		writeError(w, http.StatusBadRequest, "bad_request", err.Error())
		return
	}
	s.log.Warn("admin: actor delay", "kind", spec.Kind, "by", spec.By, "drop", spec.Drop, "for", spec.For)
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

package admin

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/caiquan/caiquan/actors"
)

// Actors is what the admin API needs of the game's actors.
type Actors interface {
	List(kinds ...string) []actors.ActorInfo
	// Kill kills an actor on node (its ActorInfo.Node; "" is this node,
	// or any node for one named by kind and id).
	Kill(node, pid, kind, id, mode string) (actors.ActorInfo, error)
}

// Server serves the admin API.
type Server struct {
	actors Actors
	guard  guard
	log    *slog.Logger
	chaos  *chaosRunner
	mux    *http.ServeMux
	// checkpoints makes store checkpoints; nil when the store has none.
	checkpoints Checkpointer
	// players changes players; nil when not given.
	players Players
}

// New makes the admin API for the listener at addr (host:port, as bound).
// Every request must carry "Authorization: Bearer <token>", name addr in
// Host, come from no other Origin, and, unless it is a GET, have a JSON
// body. An empty token lets nothing through.
func New(a Actors, token, addr string, log *slog.Logger) *Server {
	s := &Server{actors: a, guard: newGuard(token, addr), log: log, chaos: newChaosRunner(a, log), mux: http.NewServeMux()}
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	s.mux.HandleFunc("GET /actors", s.handleActors)
	s.mux.HandleFunc("POST /kill", s.handleKill)
	s.mux.HandleFunc("POST /chaos", s.handleChaosStart)
	s.mux.HandleFunc("GET /chaos", s.handleChaosStatus)
	s.mux.HandleFunc("DELETE /chaos", s.handleChaosStop)
	s.mux.HandleFunc("POST /store/checkpoint", s.handleCheckpoint)
	s.mux.HandleFunc("POST /delay", s.handleDelay)
	s.mux.HandleFunc("GET /delay", s.handleDelayStatus)
	s.mux.HandleFunc("POST /players/{uid}/{op}", s.handlePlayer)
	return s
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if isConsole(r) {
		s.serveConsole(w, r)
		return
	}
	// Answers are data for the console's script or the CLI: never a
	// document to render, sniff or keep.
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
	w.Header().Set("Cache-Control", "no-store")
	if status, code, msg := s.guard.check(r); status != 0 {
		if status == http.StatusUnauthorized {
			w.Header().Set("WWW-Authenticate", `Bearer realm="caiquan-admin"`)
		}
		writeError(w, status, code, msg)
		return
	}
	s.mux.ServeHTTP(w, r)
}

// Close stops a chaos run in progress.
func (s *Server) Close() { s.chaos.stop() }

func (s *Server) handleActors(w http.ResponseWriter, r *http.Request) {
	kinds, err := parseKinds(r.URL.Query().Get("kind"))
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad_kind", err.Error())
		return
	}
	writeJSON(w, http.StatusOK, ActorList{Actors: s.actors.List(kinds...)})
}

func (s *Server) handleKill(w http.ResponseWriter, r *http.Request) {
	var req KillRequest
	if err := decode(r, &req); err != nil {
		writeError(w, http.StatusBadRequest, "bad_request", err.Error())
		return
	}
	if req.PID == "" && (req.Kind == "" || req.ID == "") {
		writeError(w, http.StatusBadRequest, "bad_request", "name the actor by pid, or by kind and id")
		return
	}
	if req.Mode == "" {
		req.Mode = actors.KillStop
	}
	info, err := s.actors.Kill(req.Node, req.PID, req.Kind, req.ID, req.Mode)
	switch {
	case errors.Is(err, actors.ErrNotFound):
		writeError(w, http.StatusNotFound, "not_found", "no such live actor")
	case err != nil:
		writeError(w, http.StatusBadRequest, "bad_request", err.Error())
	default:
		s.log.Warn("admin: actor killed", append([]any{"kind", info.Kind, "id", info.ID, "pid", info.PID, "node", info.Node, "mode", req.Mode},
			actors.ActorAttrs(info.Kind, info.ID)...)...)
		writeJSON(w, http.StatusOK, KillResult{Killed: info, Mode: req.Mode})
	}
}

func (s *Server) handleChaosStart(w http.ResponseWriter, r *http.Request) {
	var req ChaosRequest
	if err := decode(r, &req); err != nil {
		writeError(w, http.StatusBadRequest, "bad_request", err.Error())
		return
	}
	spec, err := req.spec()
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad_request", err.Error())
		return
	}
	if err := s.chaos.start(spec); errors.Is(err, errNoDelay) {
		writeError(w, http.StatusNotImplemented, "no_delay", err.Error())
		return
	} else if err != nil {
		writeError(w, http.StatusConflict, "chaos_running", err.Error())
		return
	}
	writeJSON(w, http.StatusAccepted, s.chaos.status())
}

func (s *Server) handleChaosStatus(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, s.chaos.status())
}

func (s *Server) handleChaosStop(w http.ResponseWriter, _ *http.Request) {
	s.chaos.stop()
	writeJSON(w, http.StatusOK, s.chaos.status())
}

func decode(r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 1<<16))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return errors.New("the body must be a JSON object of the documented fields: " + err.Error())
	}
	return nil
}

func parseKinds(raw string) ([]string, error) {
	if raw == "" {
		return nil, nil
	}
	var kinds []string
	for _, k := range strings.Split(raw, ",") {
		if !knownKind(k) {
			return nil, errors.New("unknown actor kind " + quote(k) + "; kinds are " + strings.Join(actors.Kinds, ", "))
		}
		kinds = append(kinds, k)
	}
	return kinds, nil
}

func knownKind(k string) bool {
	for _, known := range actors.Kinds {
		if k == known {
			return true
		}
	}
	return false
}

func quote(s string) string { b, _ := json.Marshal(s); return string(b) }

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, code, message string) {
	writeJSON(w, status, APIError{Code: code, Message: message})
}

package admin

import (
	"errors"
	"net/http"
	"net/url"
	"unicode/utf8"

	"github.com/caiquan/caiquan/actors"
)

// Players is what the player routes need: a change made by the player's
// own actor (actors.Server), so a live session sees it and the actor's
// cached record cannot write over it.
type Players interface {
	PlayerOp(uid, op, uname string) (kicked bool, err error)
}

// PlayerRequest is the body of POST /players/{uid}/{op}: uname for
// rename, nothing ({}) for the others.
type PlayerRequest struct {
	Uname string `json:"uname,omitempty"`
}

// PlayerResult answers POST /players/{uid}/{op}. Kicked: a live session of
// the player was closed (ban).
type PlayerResult struct {
	UID    string `json:"uid"`
	Op     string `json:"op"`
	Uname  string `json:"uname,omitempty"`
	Kicked bool   `json:"kicked"`
}

// The operations of POST /players/{uid}/{op}.
var playerOps = map[string]string{
	"rename": actors.OpRename,
	"reset":  actors.OpReset,
	"ban":    actors.OpBan,
	"unban":  actors.OpUnban,
}

const (
	maxUID   = 64
	maxUname = 256
)

// HandlePlayers serves POST /players/{uid}/{op} with p.
func (s *Server) HandlePlayers(p Players) { s.players = p }

func (s *Server) handlePlayer(w http.ResponseWriter, r *http.Request) {
	if s.players == nil {
		writeError(w, http.StatusNotFound, "not_supported", "this server's admin API has no player routes")
		return
	}
	uid, opName := r.PathValue("uid"), r.PathValue("op")
	op, ok := playerOps[opName]
	if !ok {
		writeError(w, http.StatusNotFound, "unknown_op", "no player operation "+quote(opName)+"; they are rename, reset, ban and unban")
		return
	}
	if err := checkUID(uid); err != nil {
		writeError(w, http.StatusBadRequest, "bad_uid", err.Error())
		return
	}
	var req PlayerRequest
	if err := decode(r, &req); err != nil {
		writeError(w, http.StatusBadRequest, "bad_request", err.Error())
		return
	}
	switch {
	case op == actors.OpRename && (req.Uname == "" || len(req.Uname) > maxUname || !utf8.ValidString(req.Uname)):
		writeError(w, http.StatusBadRequest, "bad_request", "rename needs {\"uname\": …}: 1 to 256 bytes of UTF-8")
		return
	case op != actors.OpRename && req.Uname != "":
		writeError(w, http.StatusBadRequest, "bad_request", "only rename takes a uname")
		return
	}
	kicked, err := s.players.PlayerOp(uid, op, req.Uname)
	if err != nil {
		writeError(w, http.StatusServiceUnavailable, "player_unavailable", err.Error())
		return
	}
	s.log.Warn("admin: player changed", "uid", uid, "op", op, "uname", req.Uname, "kicked", kicked)
	writeJSON(w, http.StatusOK, PlayerResult{UID: uid, Op: opName, Uname: req.Uname, Kicked: kicked})
}

// checkUID accepts what a player's uid may be (actors' safe alphabet).
func checkUID(uid string) error {
	if uid == "" || len(uid) > maxUID {
		return errors.New("a uid is 1 to 64 characters")
	}
	for _, c := range uid {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return errors.New("a uid holds only letters, digits, '-', '_' and '.'")
		}
	}
	return nil
}

// Player makes op (rename, reset, ban, unban) on uid; uname is for rename.
func (c *Client) Player(uid, op, uname string) (PlayerResult, error) {
	var out PlayerResult
	err := c.do(http.MethodPost, "/players/"+url.PathEscape(uid)+"/"+url.PathEscape(op), PlayerRequest{Uname: uname}, &out)
	return out, err
}

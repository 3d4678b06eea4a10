package admin

import (
	"errors"
	"net/http"
	"regexp"
)

// Checkpointer makes a consistent copy of the player store, online, into a
// directory named name beside it, and returns its path.
type Checkpointer interface {
	Checkpoint(name string) (path string, err error)
}

// ErrCheckpointExists is a Checkpointer's answer for a name already used.
var ErrCheckpointExists = errors.New("a checkpoint of that name exists")

// CheckpointRequest is the body of POST /store/checkpoint.
type CheckpointRequest struct {
	// Name names the checkpoint's directory: letters, digits, '.', '_'
	// and '-', not starting with '.', at most 64. It never names a path:
	// where checkpoints go is the server's setting.
	Name string `json:"name"`
}

// CheckpointResult is its answer.
type CheckpointResult struct {
	Name string `json:"name"`
	Path string `json:"path"`
}

var checkpointName = regexp.MustCompile(`^[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}$`)

// HandleCheckpoints serves POST /store/checkpoint with c; without it the
// route answers that the store keeps no checkpoints.
func (s *Server) HandleCheckpoints(c Checkpointer) { s.checkpoints = c }

func (s *Server) handleCheckpoint(w http.ResponseWriter, r *http.Request) {
	if s.checkpoints == nil {
		writeError(w, http.StatusConflict, "not_supported", "checkpoints are of store pebble; this server's store is another")
		return
	}
	var req CheckpointRequest
	if err := decode(r, &req); err != nil {
		writeError(w, http.StatusBadRequest, "bad_request", err.Error())
		return
	}
	if !checkpointName.MatchString(req.Name) {
		writeError(w, http.StatusBadRequest, "bad_name", "name must be 1 to 64 letters, digits, '.', '_' or '-', not starting with '.', got "+quote(req.Name))
		return
	}
	path, err := s.checkpoints.Checkpoint(req.Name)
	switch {
	case errors.Is(err, ErrCheckpointExists):
		writeError(w, http.StatusConflict, "exists", "a checkpoint named "+quote(req.Name)+" exists already; choose another name")
	case err != nil:
		s.log.Error("admin: checkpoint failed", "name", req.Name, "err", err)
		writeError(w, http.StatusInternalServerError, "checkpoint_failed", err.Error())
	default:
		s.log.Info("admin: store checkpoint written", "name", req.Name, "path", path)
		writeJSON(w, http.StatusOK, CheckpointResult{Name: req.Name, Path: path})
	}
}

// Checkpoint asks the server for a store checkpoint.
func (c *Client) Checkpoint(name string) (CheckpointResult, error) {
	var out CheckpointResult
	err := c.do(http.MethodPost, "/store/checkpoint", CheckpointRequest{Name: name}, &out)
	return out, err
}

package leaderboard

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/caiquan/caiquan"
)

type brokenBoard struct{}

func (brokenBoard) Top(int) ([]caiquan.RankedPlayer, error) { return nil, errors.New("db down") }
func (brokenBoard) Around(string, int) ([]caiquan.RankedPlayer, error) {
	return nil, errors.New("db down")
}

// A store that fails is a 503 with a sentence, never a crash or a 200.
func TestStoreFailureIs503(t *testing.T) {
	h := Handler(brokenBoard{}, nil)
	for _, path := range []string{"/leaderboard", "/leaderboard/a"} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		if rec.Code != 503 || !strings.Contains(rec.Body.String(), `"store_unavailable"`) {
			t.Errorf("GET %s = %d %s", path, rec.Code, rec.Body)
		}
	}
}

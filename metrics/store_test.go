package metrics

import (
	"errors"
	"fmt"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/caiquan/caiquan"
	"github.com/caiquan/caiquan/store/memory"
)

// failing is a store whose every call answers err.
type failing struct{ err error }

func (f failing) Load(string) (caiquan.PlayerRecord, error)          { return caiquan.PlayerRecord{}, f.err }
func (f failing) Save(string, caiquan.PlayerRecord) error            { return f.err }
func (f failing) Top(int) ([]caiquan.RankedPlayer, error)            { return nil, f.err }
func (f failing) Around(string, int) ([]caiquan.RankedPlayer, error) { return nil, f.err }
func (f failing) Expire(time.Time) (int, error)                      { return 0, f.err }
func (f failing) PutAvatar(string, caiquan.Avatar) error             { return f.err }
func (f failing) Avatar(string) (caiquan.Avatar, error)              { return caiquan.Avatar{}, f.err }
func (f failing) Delete(string) error                                { return f.err }

func page(t *testing.T, m *Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Endpoint("").ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	return string(body)
}

func value(t *testing.T, text, series string) string {
	t.Helper()
	for _, line := range strings.Split(text, "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			return v
		}
	}
	return "(none)"
}

func callAll(s caiquan.Store) {
	s.Load("u")
	s.Save("u", caiquan.PlayerRecord{})
	s.Top(3)
	s.Around("u", 1)
	s.Expire(time.Now())
	p := s.(caiquan.Players) // the measured store keeps avatars when its store does
	p.PutAvatar("u", caiquan.Avatar{})
	p.Avatar("u.png")
	p.Delete("u")
}

// Store times every call by op and counts failures by op; "no such
// player" is an answer and a stale save is counted apart.
func TestStoreMeasures(t *testing.T) {
	for _, tc := range []struct {
		err            error
		errors, stales string
	}{
		{errors.New("disk on fire"), "1", "0"},
		{fmt.Errorf("wrapped: %w", caiquan.ErrNoPlayer), "0", "0"},
		{caiquan.ErrStale, "0", "8"}, // every op answered stale
		{nil, "0", "0"},
	} {
		m := New()
		callAll(m.Store(failing{tc.err}))
		text := page(t, m)
		for _, op := range StoreOps {
			if got := value(t, text, `caiquan_store_operation_seconds_count{op="`+op+`"}`); got != "1" {
				t.Errorf("%v: %s timed %s times, want 1", tc.err, op, got)
			}
			if got := value(t, text, `caiquan_store_errors_total{op="`+op+`"}`); got != tc.errors {
				t.Errorf("%v: %s errors %s, want %s", tc.err, op, got, tc.errors)
			}
		}
		if got := value(t, text, "caiquan_store_stale_saves_total"); got != tc.stales {
			t.Errorf("%v: stale saves %s, want %s", tc.err, got, tc.stales)
		}
	}

	// A real store's answers pass through unchanged.
	m := New()
	s := m.Store(memory.New())
	if err := s.Save("ann", caiquan.PlayerRecord{Rounds: 1}); err != nil {
		t.Fatal(err)
	}
	if rec, err := s.Load("ann"); err != nil || rec.Rounds != 1 {
		t.Fatalf("Load through Store: %+v %v", rec, err)
	}
	if err := s.Save("ann", caiquan.PlayerRecord{}); !errors.Is(err, caiquan.ErrStale) {
		t.Fatalf("a stale Save through Store: %v", err)
	}
	if _, err := s.Around("nobody", 1); !errors.Is(err, caiquan.ErrNoPlayer) {
		t.Fatalf("Around an unknown player through Store: %v", err)
	}
}

// The cluster gauges read the node at each scrape; a single node is a
// cluster of one that never fences.
func TestClusterGauges(t *testing.T) {
	m := New()
	text := page(t, m)
	if got := value(t, text, "caiquan_cluster_members"); got != "1" {
		t.Errorf("single node: members %s, want 1", got)
	}
	if got := value(t, text, "caiquan_cluster_fenced"); got != "0" {
		t.Errorf("single node: fenced %s, want 0", got)
	}
	members, fenced := 3, false
	m.ObserveCluster(ClusterState{Members: func() int { return members }, Fenced: func() bool { return fenced }})
	text = page(t, m)
	if value(t, text, "caiquan_cluster_members") != "3" || value(t, text, "caiquan_cluster_fenced") != "0" {
		t.Errorf("three members: %s, fenced %s", value(t, text, "caiquan_cluster_members"), value(t, text, "caiquan_cluster_fenced"))
	}
	members, fenced = 2, true
	text = page(t, m)
	if value(t, text, "caiquan_cluster_members") != "2" || value(t, text, "caiquan_cluster_fenced") != "1" {
		t.Errorf("fenced: members %s, fenced %s", value(t, text, "caiquan_cluster_members"), value(t, text, "caiquan_cluster_fenced"))
	}
}

// build_info has one series, the last one set.
func TestBuildInfo(t *testing.T) {
	m := New()
	m.SetBuildInfo("v0.1.0", "abc", "go1.23")
	m.SetBuildInfo("v0.2.0", "def+modified", "go1.24")
	text := page(t, m)
	if got := value(t, text, `caiquan_build_info{commit="def+modified",go="go1.24",version="v0.2.0"}`); got != "1" {
		t.Errorf("build_info: %s", got)
	}
	if n := strings.Count(text, "\ncaiquan_build_info{"); n != 1 {
		t.Errorf("%d build_info series, want 1", n)
	}
}

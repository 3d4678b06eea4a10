package metrics

import (
	"errors"
	"time"

	"github.com/caiquan/caiquan"
)

// Operations of caiquan.Store, the op label of the store's series.
const (
	OpLoad   = "load"
	OpSave   = "save"
	OpTop    = "top"
	OpAround = "around"
	OpExpire = "expire"
)

// StoreOps lists every op label value.
var StoreOps = []string{OpLoad, OpSave, OpTop, OpAround, OpExpire}

// Store measures every call to s: its duration by operation, and its
// failures. ErrNoPlayer is an answer, not a failure; ErrStale is counted
// apart (two writers of one record), not as an error.
func (m *Metrics) Store(s caiquan.Store) caiquan.Store { return &measuredStore{s: s, m: m} }

type measuredStore struct {
	s caiquan.Store
	m *Metrics
}

var _ caiquan.Store = (*measuredStore)(nil)

// done records one call to op that began at start and ended with err.
func (ms *measuredStore) done(op string, start time.Time, err error) {
	ms.m.StoreSeconds.WithLabelValues(op).Observe(time.Since(start).Seconds())
	switch {
	case err == nil, errors.Is(err, caiquan.ErrNoPlayer):
	case errors.Is(err, caiquan.ErrStale):
		ms.m.StoreStaleSaves.Inc()
	default:
		ms.m.StoreErrors.WithLabelValues(op).Inc()
	}
}

func (ms *measuredStore) Load(uid string) (caiquan.PlayerRecord, error) {
	start := time.Now()
	rec, err := ms.s.Load(uid)
	ms.done(OpLoad, start, err)
	return rec, err
}

func (ms *measuredStore) Save(uid string, rec caiquan.PlayerRecord) error {
	start := time.Now()
	err := ms.s.Save(uid, rec)
	ms.done(OpSave, start, err)
	return err
}

func (ms *measuredStore) Top(n int) ([]caiquan.RankedPlayer, error) {
	start := time.Now()
	top, err := ms.s.Top(n)
	ms.done(OpTop, start, err)
	return top, err
}

func (ms *measuredStore) Around(uid string, k int) ([]caiquan.RankedPlayer, error) {
	start := time.Now()
	lines, err := ms.s.Around(uid, k)
	ms.done(OpAround, start, err)
	return lines, err
}

func (ms *measuredStore) Expire(before time.Time) (int, error) {
	start := time.Now()
	n, err := ms.s.Expire(before)
	ms.done(OpExpire, start, err)
	return n, err
}

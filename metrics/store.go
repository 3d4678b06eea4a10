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
	// Of caiquan.Players.
	OpPutAvatar = "put_avatar"
	OpAvatar    = "avatar"
	OpDelete    = "delete"
)

// StoreOps lists every op label value.
var StoreOps = []string{OpLoad, OpSave, OpTop, OpAround, OpExpire, OpPutAvatar, OpAvatar, OpDelete}

// Store measures every call to s: its duration by operation, and its
// failures. ErrNoPlayer and ErrNoAvatar are answers, not failures;
// ErrStale is counted apart (two writers of one record), not as an error.
// The store it returns is a caiquan.Players too, when s is one.
func (m *Metrics) Store(s caiquan.Store) caiquan.Store {
	ms := &measuredStore{s: s, m: m}
	if p, ok := s.(caiquan.Players); ok {
		return &measuredPlayers{measuredStore: ms, p: p}
	}
	return ms
}

// measuredPlayers is a measured store whose store keeps avatars too.
type measuredPlayers struct {
	*measuredStore
	p caiquan.Players
}

var _ caiquan.Players = (*measuredPlayers)(nil)

func (mp *measuredPlayers) PutAvatar(uid string, a caiquan.Avatar) error {
	start := time.Now()
	err := mp.p.PutAvatar(uid, a)
	mp.done(OpPutAvatar, start, err)
	return err
}

func (mp *measuredPlayers) Avatar(name string) (caiquan.Avatar, error) {
	start := time.Now()
	a, err := mp.p.Avatar(name)
	mp.done(OpAvatar, start, err)
	return a, err
}

func (mp *measuredPlayers) Delete(uid string) error {
	start := time.Now()
	err := mp.p.Delete(uid)
	mp.done(OpDelete, start, err)
	return err
}

type measuredStore struct {
	s caiquan.Store
	m *Metrics
}

var _ caiquan.Store = (*measuredStore)(nil)

// done records one call to op that began at start and ended with err.
func (ms *measuredStore) done(op string, start time.Time, err error) {
	ms.m.StoreSeconds.WithLabelValues(op).Observe(time.Since(start).Seconds())
	switch {
	case err == nil, errors.Is(err, caiquan.ErrNoPlayer), errors.Is(err, caiquan.ErrNoAvatar):
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

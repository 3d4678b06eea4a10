// Package memory is a caiquan.Store held in the process: gone when it ends.
package memory

import (
	"sort"
	"sync"
	"time"

	"github.com/caiquan/caiquan"
)

// Store keeps records as long as the process lives; for tests and
// `store: memory`.
type Store struct {
	mu      sync.Mutex
	records map[string]caiquan.PlayerRecord
	avatars map[string][]byte // by name
	named   map[string]string // uid -> its avatar's name
}

var _ caiquan.Players = (*Store)(nil)

func New() *Store {
	return &Store{records: make(map[string]caiquan.PlayerRecord), avatars: make(map[string][]byte), named: make(map[string]string)}
}

func (m *Store) PutAvatar(uid string, a caiquan.Avatar) error {
	data := append([]byte(nil), a.Data...)
	m.mu.Lock()
	defer m.mu.Unlock()
	if old, ok := m.named[uid]; ok {
		delete(m.avatars, old)
	}
	m.avatars[a.Name] = data
	m.named[uid] = a.Name
	return nil
}

func (m *Store) Avatar(name string) (caiquan.Avatar, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	data, ok := m.avatars[name]
	if !ok {
		return caiquan.Avatar{}, caiquan.ErrNoAvatar
	}
	return caiquan.Avatar{Name: name, Data: data}, nil
}

func (m *Store) Delete(uid string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.deleteLocked(uid)
	return nil
}

func (m *Store) deleteLocked(uid string) {
	delete(m.records, uid)
	if name, ok := m.named[uid]; ok {
		delete(m.avatars, name)
		delete(m.named, uid)
	}
}

func (m *Store) Load(uid string) (caiquan.PlayerRecord, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	rec := m.records[uid]
	rec.Recent = append([]caiquan.AppliedRound(nil), rec.Recent...)
	return rec, nil
}

func (m *Store) Save(uid string, rec caiquan.PlayerRecord) error {
	rec.Recent = append([]caiquan.AppliedRound(nil), rec.Recent...)
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.records[uid].Writes != rec.Writes {
		return caiquan.ErrStale
	}
	rec.Writes++
	m.records[uid] = rec
	return nil
}

// ranked is every player on the leaderboard, in order, without ranks.
func (m *Store) ranked() []caiquan.RankedPlayer {
	m.mu.Lock()
	out := make([]caiquan.RankedPlayer, 0, len(m.records))
	for uid, rec := range m.records {
		if rec.Rounds > 0 {
			out = append(out, caiquan.RankedPlayer{UID: uid, Uname: rec.Uname, Uavatar: rec.Uavatar, Standing: rec.Standing})
		}
	}
	m.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return caiquan.Less(out[i], out[j]) })
	return out
}

func (m *Store) Expire(before time.Time) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for uid, rec := range m.records {
		if caiquan.IsGuest(uid) && !rec.LastSeen.IsZero() && rec.LastSeen.Before(before) {
			m.deleteLocked(uid)
			n++
		}
	}
	return n, nil
}

func (m *Store) Top(n int) ([]caiquan.RankedPlayer, error) {
	var r caiquan.Ranker
	var out []caiquan.RankedPlayer
	for _, p := range m.ranked() {
		if len(out) == n {
			break
		}
		out = append(out, r.Next(p))
	}
	return out, nil
}

func (m *Store) Around(uid string, k int) ([]caiquan.RankedPlayer, error) {
	w := caiquan.NewWindow(uid, k)
	for _, p := range m.ranked() {
		if w.Add(p) {
			break
		}
	}
	return w.Result()
}

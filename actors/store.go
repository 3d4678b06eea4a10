package actors

import (
	"sync"

	"github.com/caiquan/caiquan/rules"
)

// recentRounds is how many applied round ids a player remembers, so that a
// retried settlement is answered from memory instead of applied again.
const recentRounds = 32

// AppliedRound is one round's effect on one player.
type AppliedRound struct {
	RoundID string
	rules.Outcome
}

// PlayerRecord is what survives a player actor: its standing and the rounds
// it applied last.
type PlayerRecord struct {
	rules.Standing
	Rounds int
	Recent []AppliedRound
}

// Store keeps player records. A player actor reads its record when it starts
// and writes it before it confirms a round, so a restarted actor neither
// forgets a score nor applies one twice.
type Store interface {
	Load(uid string) (PlayerRecord, error)
	Save(uid string, rec PlayerRecord) error
}

// MemoryStore is the single-node store: records live as long as the process.
type MemoryStore struct {
	mu      sync.Mutex
	records map[string]PlayerRecord
}

func NewMemoryStore() *MemoryStore {
	return &MemoryStore{records: make(map[string]PlayerRecord)}
}

func (m *MemoryStore) Load(uid string) (PlayerRecord, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	rec := m.records[uid]
	rec.Recent = append([]AppliedRound(nil), rec.Recent...)
	return rec, nil
}

func (m *MemoryStore) Save(uid string, rec PlayerRecord) error {
	rec.Recent = append([]AppliedRound(nil), rec.Recent...)
	m.mu.Lock()
	m.records[uid] = rec
	m.mu.Unlock()
	return nil
}

package actors

import (
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/caiquan/caiquan"
	"github.com/caiquan/caiquan/store/memory"
)

// Sessions and players share one Props per kind: the inventory still lists
// each under its own id, with its restarts and its mailbox.
func TestInventoryListsSharedKinds(t *testing.T) {
	srv, system := newTestServer(t, testSettings())
	connect(t, srv, "a")
	connect(t, srv, "b")
	lookup := func(kind, id string) (ActorInfo, bool) {
		for _, a := range srv.Inventory().List(kind) {
			if a.ID == id {
				return a, true
			}
		}
		return ActorInfo{}, false
	}
	find := func(kind, id string) ActorInfo {
		t.Helper()
		a, ok := lookup(kind, id)
		if !ok {
			t.Fatalf("no %s %s in %v", kind, id, srv.Inventory().List())
		}
		return a
	}
	for _, uid := range []string{"a", "b"} {
		for _, kind := range []string{KindSession, KindPlayer} {
			if a := find(kind, uid); a.Restarts != 0 || a.PID == "" || a.Started.IsZero() {
				t.Fatalf("%s %s: %+v", kind, uid, a)
			}
		}
	}

	before := find(KindPlayer, "a")
	kill(t, srv, KindPlayer, "a", KillPanic)
	eventually(t, "player a restarted", func() bool { return find(KindPlayer, "a").Restarts == 1 })
	if after := find(KindPlayer, "a"); after.PID != before.PID || !after.Started.Equal(before.Started) {
		t.Fatalf("after a restart %+v, before %+v", after, before)
	}
	if find(KindPlayer, "b").Restarts != 0 {
		t.Fatal("player b counted a's restart")
	}

	// The mailbox's length: a player whose store blocks holds what is sent
	// to it meanwhile.
	store := &blockingStore{Store: memory.New(), release: make(chan struct{})}
	pid := spawnPlayer(system.Root, srv.d, "blocked", store, &playerKeep{})
	defer close(store.release)
	for range 3 {
		system.Root.Send(pid, &actor.ReceiveTimeout{})
	}
	eventually(t, "three messages waiting", func() bool {
		a, _ := lookup(KindPlayer, "blocked")
		return a.Mailbox == 3
	})
}

// blockingStore's Load waits until release is closed.
type blockingStore struct {
	caiquan.Store
	release chan struct{}
}

func (s *blockingStore) Load(uid string) (caiquan.PlayerRecord, error) {
	select {
	case <-s.release:
	case <-time.After(10 * time.Second):
	}
	return s.Store.Load(uid)
}

// A session that ends is no longer counted online, without being watched.
func TestDirectoryCountsSessionsThatEnd(t *testing.T) {
	srv, _ := newTestServer(t, testSettings())
	a := connect(t, srv, "a")
	connect(t, srv, "b")
	online := func() int {
		n, err := srv.Online()
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := online(); n != 2 {
		t.Fatalf("%d online, want 2", n)
	}
	a.s.Closed("gone")
	eventually(t, "one online", func() bool { return online() == 1 })
	connect(t, srv, "c")
	eventually(t, "two online", func() bool { return online() == 2 })
}

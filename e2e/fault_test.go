//go:build !race

package e2e

import (
	"testing"
	"time"

	"github.com/caiquan/caiquan/internal/chaos"
	"github.com/caiquan/caiquan/internal/history"
	"github.com/caiquan/caiquan/internal/multihost"
	"github.com/caiquan/caiquan/internal/testing/testserver"
)

// These tests run three nodes, etcd and PostgreSQL each in a network
// namespace of its own (internal/multihost), 40 players that record what
// they see, one fault, and then the checker (internal/history): the
// verdict is the test's. docs/chaos.md says what the checker holds the
// server to.

// faultEnv starts the lab, the cluster and the players, and lets them
// play a few rounds before the fault.
func faultEnv(t *testing.T, etcdMembers int) *chaos.Env {
	t.Helper()
	e, err := chaos.Start(chaos.Config{
		Bin: testserver.Binary(t), Dir: t.TempDir(), Players: 40, Every: -1,
		EtcdMembers: etcdMembers, Kinds: chaos.AllKinds, Seed: uint64(time.Now().UnixNano()),
		Log: testLog{t},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			for _, line := range e.Highlights(40) {
				t.Log(line)
			}
		}
		if err := e.Close(); err != nil {
			t.Errorf("close the lab: %v", err)
		}
	})
	e.Rest(4 * time.Second)
	if e.Rounds() == 0 {
		t.Fatal("no round ended before the fault")
	}
	return e
}

// verdict lets the players play on after the fault, stops them, and fails
// the test for every anomaly the checker finds.
func verdict(t *testing.T, e *chaos.Env, after time.Duration) history.Report {
	t.Helper()
	e.Rest(after)
	res, err := e.Finish()
	if err != nil {
		t.Fatal(err)
	}
	rep := res.Report
	t.Logf("%s; %d rounds checked, %d anomalies", chaos.FaultsLine(res.Faults), rep.Rounds, len(rep.Anomalies))
	if rep.Rounds < 40 {
		t.Errorf("only %d rounds checked", rep.Rounds)
	}
	for i, a := range rep.Anomalies {
		if i == 30 {
			t.Errorf("... and %d more", len(rep.Anomalies)-i)
			break
		}
		t.Errorf("%v", a)
	}
	return rep
}

type testLog struct{ t *testing.T }

func (l testLog) Write(p []byte) (int, error) { l.t.Logf("%s", p); return len(p), nil }

// TestFaultPartitionLobby: the member that holds the lobby is cut
// off from the other nodes (both still see etcd and PostgreSQL) for 4 s.
func TestFaultPartitionLobby(t *testing.T) {
	e := faultEnv(t, 1)
	lobby := e.LobbyNode()
	if lobby < 0 {
		t.Fatal("no node holds the lobby")
	}
	if err := e.PartitionNode(lobby, 4*time.Second, false, false); err != nil {
		t.Fatal(err)
	}
	verdict(t, e, 10*time.Second)
}

// TestFaultPartitionEtcdMember: one of three etcd members is cut
// off from the other two for 6 s; the nodes still reach all three.
func TestFaultPartitionEtcdMember(t *testing.T) {
	e := faultEnv(t, 3)
	if err := e.PartitionEtcdMember(0, 6*time.Second); err != nil {
		t.Fatal(err)
	}
	verdict(t, e, 10*time.Second)
}

// TestFaultPause: a node that is not the lobby's stops (SIGSTOP)
// for 1 s, 3 s (the etcd lease) and 10 s.
func TestFaultPause(t *testing.T) {
	for _, d := range []time.Duration{time.Second, 3 * time.Second, 10 * time.Second} {
		t.Run(d.String(), func(t *testing.T) {
			e := faultEnv(t, 1)
			node := (e.LobbyNode() + 1) % 3
			if err := e.PauseNode(node, d); err != nil {
				t.Fatal(err)
			}
			verdict(t, e, d+8*time.Second)
		})
	}
}

// TestFaultDelay: 200 ms on every member link of every node (each
// chunk held back on the way to and from each member) for 8 s: every
// settlement crosses a slow link.
func TestFaultDelay(t *testing.T) {
	e := faultEnv(t, 1)
	for i := range 3 {
		// One fault per node, all at once.
		if err := e.DelayNode(i, 200*time.Millisecond, 8*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	verdict(t, e, 12*time.Second)
}

// TestFaultDrop: every member link loses packets for 8 s, as TCP shows it
// (internal/multihost.Loss): a fifth of the chunks stall 200 ms (/stall),
// and besides one in two hundred resets its connection (/reset).
func TestFaultDrop(t *testing.T) {
	for _, tc := range []struct {
		name  string
		reset float64
	}{{"stall", 0}, {"reset", 0.005}} {
		t.Run(tc.name, func(t *testing.T) {
			e := faultEnv(t, 1)
			for i := range 3 {
				loss := multihost.Loss{Stall: 0.2, StallFor: 200 * time.Millisecond, Reset: tc.reset, Seed: uint64(i + 1)}
				if err := e.DropNode(i, loss, 8*time.Second); err != nil {
					t.Fatal(err)
				}
			}
			verdict(t, e, 12*time.Second)
		})
	}
}

// TestFaultDelayActors: inside every node, the messages to its rooms, then
// to its player actors (the room-to-player path at settlement), wait
// 200 ms, 8 s each (the admin API's delay).
func TestFaultDelayActors(t *testing.T) {
	for _, kind := range []string{"room", "player"} {
		t.Run(kind, func(t *testing.T) {
			e := faultEnv(t, 1)
			for i := range 3 {
				if err := e.DelayActors(i, kind, 200*time.Millisecond, 8*time.Second); err != nil {
					t.Fatal(err)
				}
			}
			verdict(t, e, 12*time.Second)
		})
	}
}

//go:build !race

package cluster

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/caiquan/caiquan/internal/testing/etcdtest"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// sink spawns an actor on n that hands on every protobuf message it gets.
func sink(t *testing.T, n *Node) (*actor.PID, chan any) {
	t.Helper()
	got := make(chan any, 16)
	pid, err := n.system.Root.SpawnNamed(actor.PropsFromFunc(func(ctx actor.Context) {
		switch msg := ctx.Message().(type) {
		case *wrapperspb.StringValue, *wrapperspb.Int32Value:
			got <- msg
		}
	}), "sink")
	if err != nil {
		t.Fatal(err)
	}
	return pid, got
}

func next(t *testing.T, ch chan any) any {
	t.Helper()
	select {
	case m := <-ch:
		return m
	case <-time.After(10 * time.Second):
		t.Fatal("no message in 10 s")
		return nil
	}
}

// A member withholds from a member of an older vocabulary the message
// types that vocabulary lacks (a release that does not know a type panics
// on it), and sends them to members that speak them. Here strings stand
// for a type of vocabulary 2 and integers for one of vocabulary 1.
func TestMessagesAnOlderMemberLacksAreWithheld(t *testing.T) {
	e := etcdtest.Start(t)
	of := func(msg any) int {
		if _, ok := msg.(*wrapperspb.StringValue); ok {
			return 2
		}
		return 1
	}
	var mu sync.Mutex
	var withheld []string
	sender := joinTest(t, Config{Provider: ProviderEtcd, EtcdEndpoints: []string{e.Endpoint}, Vocabulary: 2, VocabularyOf: of,
		Withheld: func(name string) { mu.Lock(); withheld = append(withheld, name); mu.Unlock() }})
	old := joinTest(t, Config{Provider: ProviderEtcd, EtcdEndpoints: []string{e.Endpoint}})
	peer := joinTest(t, Config{Provider: ProviderEtcd, EtcdEndpoints: []string{e.Endpoint}, Vocabulary: 2, VocabularyOf: of})
	waitMembers(t, sender, sender.Address(), old.Address(), peer.Address())
	if v := sender.VocabularyAt(old.Address()); v != 1 {
		t.Errorf("the old member's vocabulary is %d, want 1", v)
	}
	if v := sender.VocabularyAt(peer.Address()); v != 2 {
		t.Errorf("the new member's vocabulary is %d, want 2", v)
	}
	if v := sender.VocabularyAt("127.0.0.1:1"); v != 2 {
		t.Errorf("an address no member has yet: vocabulary %d, want its own, 2", v)
	}

	oldSink, oldGot := sink(t, old)
	peerSink, peerGot := sink(t, peer)
	root := sender.system.Root
	for _, to := range []*actor.PID{oldSink, peerSink} {
		root.Send(to, wrapperspb.String("new"))
		root.Send(to, wrapperspb.Int32(1))
	}
	// One sender's messages to one actor keep their order: the old member
	// gets the integer first only if the string was not sent.
	if m, ok := next(t, oldGot).(*wrapperspb.Int32Value); !ok {
		t.Errorf("the old member got %v first, want the integer alone", m)
	}
	if m, ok := next(t, peerGot).(*wrapperspb.StringValue); !ok || m.Value != "new" {
		t.Errorf("the new member got %v first, want the string", m)
	}
	if m, ok := next(t, peerGot).(*wrapperspb.Int32Value); !ok {
		t.Errorf("the new member got %v second, want the integer", m)
	}
	mu.Lock()
	if len(withheld) != 1 || withheld[0] != "google.protobuf.StringValue" {
		t.Errorf("withheld %v, want one google.protobuf.StringValue", withheld)
	}
	mu.Unlock()

	// A member that left the list (a node that drains leaves it first and
	// still serves its sessions) keeps its vocabulary.
	oldAddr := old.Address()
	old.Stop(context.Background())
	waitMembers(t, sender, sender.Address(), peer.Address())
	if v := sender.VocabularyAt(oldAddr); v != 1 {
		t.Errorf("the old member, gone from the list: vocabulary %d, want 1 still", v)
	}
}

package cluster

import (
	"maps"
	"strconv"
	"strings"

	"github.com/asynkron/protoactor-go/actor"
	pcluster "github.com/asynkron/protoactor-go/cluster"
	"google.golang.org/protobuf/proto"
)

// A member says which message types it speaks by the grain kind it
// registers, vocabularyKindPrefix and a number: the member list carries
// kinds to every member, old releases included, which ignore kinds they do
// not host. No grain of the kind is ever made. A member that registers none
// speaks vocabulary 1 (the release before vocabularies).
const vocabularyKindPrefix = "caiquan-vocabulary-"

func vocabularyKind(v int) *pcluster.Kind {
	return pcluster.NewKind(vocabularyKindPrefix+strconv.Itoa(v), actor.PropsFromFunc(func(actor.Context) {}))
}

// vocabularyOfKinds is the vocabulary a member's kinds say it speaks.
func vocabularyOfKinds(kinds []string) int {
	v := 1
	for _, k := range kinds {
		if n, err := strconv.Atoi(strings.TrimPrefix(k, vocabularyKindPrefix)); err == nil && strings.HasPrefix(k, vocabularyKindPrefix) && n > v {
			v = n
		}
	}
	return v
}

// VocabularyAt is the vocabulary of the member at addr as this member's
// member list had it. A member that left the list is remembered: a node
// that drains leaves the list first and serves its sessions for a while
// after, and one of an older release would die of a new type. An address
// never seen is taken to speak this member's own vocabulary: a member that
// just joined sends to the others (a session's PID in a join, a resume)
// before their member lists have it, and withholding from it would break
// its players' rounds and resumes at every join; in an upgrade the new
// members are of the newer release.
func (n *Node) VocabularyAt(addr string) int {
	if p := n.vocabs.Load(); p != nil {
		if v, ok := (*p)[addr]; ok {
			return v
		}
	}
	return n.cfg.vocabulary()
}

func (c Config) vocabulary() int { return max(c.Vocabulary, 1) }

func (n *Node) setVocabularies(members []*pcluster.Member) {
	var vs map[string]int
	if p := n.vocabs.Load(); p != nil {
		vs = maps.Clone(*p) // one entry per address ever seen
	} else {
		vs = make(map[string]int, len(members))
	}
	for _, m := range members {
		vs[m.Address()] = vocabularyOfKinds(m.Kinds)
	}
	n.vocabs.Store(&vs)
}

// gateRemote puts a check in front of the remote's sends: a message of a
// type the receiving member's vocabulary lacks is withheld, not sent. It
// must run before the remote starts: the process registry asks its
// address resolvers in order, and the remote's own (registered when it
// starts) answers for every address, so this one comes first and wraps
// what the ones after it give.
func (n *Node) gateRemote() {
	if n.cfg.vocabulary() == 1 || n.cfg.VocabularyOf == nil {
		return
	}
	reg := n.system.ProcessRegistry
	ours := len(reg.RemoteHandlers)
	reg.RegisterAddressResolver(func(pid *actor.PID) (actor.Process, bool) {
		for _, resolve := range reg.RemoteHandlers[ours+1:] {
			if p, ok := resolve(pid); ok {
				return gatedProcess{Process: p, n: n}, true
			}
		}
		return nil, false
	})
}

// gatedProcess is a remote actor's process that withholds the messages
// its member cannot read.
type gatedProcess struct {
	actor.Process
	n *Node
}

func (g gatedProcess) SendUserMessage(pid *actor.PID, message any) {
	n := g.n
	if peer := n.VocabularyAt(pid.Address); peer < n.cfg.vocabulary() {
		_, msg, _ := actor.UnwrapEnvelope(message)
		if n.cfg.VocabularyOf(msg) > peer {
			n.withhold(pid, msg, peer)
			return
		}
	}
	g.Process.SendUserMessage(pid, message)
}

func (n *Node) withhold(pid *actor.PID, msg any, peer int) {
	name := "?"
	if m, ok := msg.(proto.Message); ok {
		name = string(m.ProtoReflect().Descriptor().FullName())
	}
	n.log.Debug("cluster: withheld a message its member's release does not know",
		"type", name, "to", pid.String(), "member_vocabulary", peer)
	if n.cfg.Withheld != nil {
		n.cfg.Withheld(name)
	}
}

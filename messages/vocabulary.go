package messages

import (
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Vocabulary is the number of the set of message types this release
// speaks between members. A member of an older release takes a type it does
// not know for a broken stream and panics (protoactor's remote,
// proto_serializer.go), so in a cluster of mixed releases, mid-upgrade, a
// member sends a type only to members whose vocabulary has it (package
// cluster withholds the rest).
//
// Adding a message type: give it this number in vocabularySince; when the
// release that added it has shipped, the next one to add a type raises
// Vocabulary and lists its types under the new number.
const Vocabulary = 2

// vocabularySince names every type added after vocabulary 1 (the types of
// release 267a622, listed in testdata/vocabulary-1.txt) with the vocabulary
// that added it.
var vocabularySince = map[protoreflect.FullName]int{
	"caiquan.v1.Resume": 2,

	"caiquan.internal.v1.Seated":        2,
	"caiquan.internal.v1.Free":          2,
	"caiquan.internal.v1.JoinHeld":      2,
	"caiquan.internal.v1.SeatOffer":     2,
	"caiquan.internal.v1.RoundSettling": 2,
	"caiquan.internal.v1.PlayerOp":      2,
	"caiquan.internal.v1.PlayerOpDone":  2,
	"caiquan.internal.v1.AbortRound":    2,
	"caiquan.internal.v1.RoundRefused":  2,
	"caiquan.internal.v1.ResultQuery":   2,
	"caiquan.internal.v1.RoundResult":   2,
	"caiquan.internal.v1.AbortRetry":    2,
	"caiquan.internal.v1.PipeSend":      2,
	"caiquan.internal.v1.PipeAcked":     2,
	"caiquan.internal.v1.PipeVerdict":   2,
	"caiquan.internal.v1.PipeClose":     2,
	"caiquan.internal.v1.PipeConnected": 2,
	"caiquan.internal.v1.ResumeRequest": 2,
	"caiquan.internal.v1.ResumeAnswer":  2,
	"caiquan.internal.v1.ResumeExpired": 2,
	"caiquan.internal.v1.ResumeTimeout": 2,
	// Sent only within a node (actors/relay.go); listed as every type is.
	"caiquan.internal.v1.RelayedMovement": 2,
}

// VocabularyOf is the vocabulary a member must speak to take msg: 1 for
// every type of the first release and for what is not a protobuf message
// (the actor library's own types, which every release knows).
func VocabularyOf(msg any) int {
	m, ok := msg.(proto.Message)
	if !ok {
		return 1
	}
	if v, ok := vocabularySince[m.ProtoReflect().Descriptor().FullName()]; ok {
		return v
	}
	return 1
}

package cluster

import (
	"fmt"

	"github.com/asynkron/protoactor-go/actor"
	pcluster "github.com/asynkron/protoactor-go/cluster"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// PingKind is a tiny grain kind for health checks and tests. Asked with a
// wrapperspb.StringValue, it answers "IDENTITY@ADDRESS #N": where it was
// activated and how many pings this activation has had (a re-activation
// starts again at 1). Its messages are well-known protobuf types, which
// every member has registered.
const PingKind = "caiquan.ping"

// PingKindDef is the kind to pass in Config.Kinds.
func PingKindDef() *pcluster.Kind {
	return pcluster.NewKind(PingKind, actor.PropsFromProducer(func() actor.Actor { return &pingGrain{} }))
}

type pingGrain struct {
	identity string
	pings    int
}

func (g *pingGrain) Receive(ctx actor.Context) {
	switch msg := ctx.Message().(type) {
	case *pcluster.ClusterInit:
		g.identity = msg.Identity.Identity
	case *wrapperspb.StringValue:
		g.pings++
		ctx.Respond(wrapperspb.String(fmt.Sprintf("%s@%s #%d", g.identity, ctx.ActorSystem().Address(), g.pings)))
	}
}

// Kind is protoactor's grain kind, so that callers need not import it.
type Kind = pcluster.Kind

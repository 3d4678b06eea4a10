package cluster

import (
	"net"
	"strconv"
	"strings"

	"github.com/asynkron/protoactor-go/actor"
	pcluster "github.com/asynkron/protoactor-go/cluster"
)

// A member says where its game HTTP listener is through its member list
// entry, which every provider already spreads: it hosts a grain kind named
// httpKindPrefix+PORT, on the host the others reach it by. No grain of
// that kind is ever asked for. The gateway uses it to pass a long-polling
// request to the node that holds its session.
const httpKindPrefix = "caiquan.http:"

// HTTPKindDef is the kind to pass in Config.Kinds for an HTTP listener on
// port.
func HTTPKindDef(port int) *Kind {
	return pcluster.NewKind(httpKindPrefix+strconv.Itoa(port),
		actor.PropsFromFunc(func(actor.Context) {}))
}

// HTTPAddr is the host:port of m's game HTTP listener: the host of its
// cluster address and the port its HTTP kind names; false when it
// published none.
func (m Member) HTTPAddr() (string, bool) {
	host, _, err := net.SplitHostPort(m.Address)
	if err != nil {
		return "", false
	}
	for _, k := range m.Kinds {
		if p, ok := strings.CutPrefix(k, httpKindPrefix); ok {
			if port, err := strconv.Atoi(p); err == nil && port > 0 && port < 1<<16 {
				return net.JoinHostPort(host, p), true
			}
		}
	}
	return "", false
}

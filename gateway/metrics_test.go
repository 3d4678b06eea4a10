package gateway

import (
	"slices"
	"testing"
)

// TestProtocolsNameEveryWire: a wire whose name is not in Protocols would
// have no zero series in caiquan_connections.
func TestProtocolsNameEveryWire(t *testing.T) {
	for _, w := range []wire{&oursWire{}, &eio3Wire{}, &eio4Wire{}, &upgradeWire{}} {
		if !slices.Contains(Protocols, w.name()) {
			t.Errorf("%T is named %q, which is not in Protocols %v", w, w.name(), Protocols)
		}
	}
}

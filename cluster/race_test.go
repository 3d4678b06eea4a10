//go:build race

package cluster

import "testing"

// TestProcessesRunWithoutRace says where the rest went: the tests that run
// protoactor's cluster layer are built without -race (it races on its
// own), and `make test-cluster` runs them.
func TestProcessesRunWithoutRace(t *testing.T) {
	t.Skip("cluster process tests are built without -race; make test-cluster runs them")
}

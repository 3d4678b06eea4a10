package actors

import (
	"os"
	"strings"
	"testing"
)

// TestProtoactorPinned fails when go.mod moves protoactor-go: read the new
// version's actor/mailbox.go and actor/props.go against mailbox.go and
// dispatcher.go, then change protoactorVersion.
func TestProtoactorPinned(t *testing.T) {
	mod, err := os.ReadFile("../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	want := "github.com/asynkron/protoactor-go " + protoactorVersion
	if !strings.Contains(string(mod), want) {
		t.Fatalf("go.mod no longer requires %s: check mailbox.go and dispatcher.go against the new version", want)
	}
}

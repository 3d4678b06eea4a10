package actors

import (
	"strings"
	"testing"

	"github.com/caiquan/caiquan/messages"
)

func versionedHello(uid string, v uint32) *messages.Envelope {
	return &messages.Envelope{Body: &messages.Envelope_Hello{Hello: &messages.Hello{
		User: &messages.User{Uid: uid}, Protocol: v,
	}}}
}

// A hello naming a version below the oldest accepted one gets
// upgrade_required, and the connection stays open for another hello; no
// version at all (the 2016 client) and newer versions are accepted.
func TestHelloProtocolVersion(t *testing.T) {
	s := testSettings()
	s.MinProtocol = 3
	srv, _ := newTestServer(t, s)

	c := &client{t: t, conn: newFakeConn(), uid: "old"}
	c.s = srv.OpenSession(c.conn)
	for _, v := range []uint32{1, 2} {
		c.send(versionedHello("old", v))
		msg := c.expect("error:" + messages.CodeUpgradeRequired).GetError().Message
		if !strings.Contains(msg, "3 to") {
			t.Errorf("version %d: the sentence does not name the accepted versions: %q", v, msg)
		}
	}
	if closed, _ := c.conn.closeCode(); closed {
		t.Fatal("upgrade_required closed the connection")
	}
	c.send(versionedHello("old", 3))
	c.expect("hi")

	for i, v := range []uint32{0, 4, 1 << 31} {
		c := &client{t: t, conn: newFakeConn(), uid: "v" + string(rune('a'+i))}
		c.s = srv.OpenSession(c.conn)
		c.send(versionedHello(c.uid, v))
		c.expect("hi")
	}
}

func TestProtocolRefused(t *testing.T) {
	for _, tc := range []struct {
		v, min uint32
		want   bool
	}{
		{0, 1, false}, {0, 9, false}, {1, 1, false}, {2, 1, false}, {1, 2, true}, {8, 9, true},
	} {
		if got := protocolRefused(tc.v, tc.min); got != tc.want {
			t.Errorf("protocolRefused(%d, %d) = %v, want %v", tc.v, tc.min, got, tc.want)
		}
	}
	if MinProtocolVersion > ProtocolVersion {
		t.Fatal("this release would refuse its own version")
	}
}

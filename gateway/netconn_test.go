package gateway

import (
	"bytes"
	"net"
	"testing"
)

// countingConn records each Write on the socket.
type countingConn struct {
	net.Conn
	writes [][]byte
}

func (c *countingConn) Write(p []byte) (int, error) {
	c.writes = append(c.writes, bytes.Clone(p))
	return len(p), nil
}

func TestNetConnHoldsWritesUntilFlush(t *testing.T) {
	cc := &countingConn{}
	nc := &netConn{Conn: cc, fd: -1}
	nc.Write([]byte("a"))
	if len(cc.writes) != 1 {
		t.Fatalf("%d writes; want one: not held, a write goes through", len(cc.writes))
	}
	nc.hold()
	nc.Write([]byte("bc"))
	nc.Write([]byte("d"))
	if len(cc.writes) != 1 {
		t.Fatalf("%d writes while held; want none more", len(cc.writes)-1)
	}
	if err := nc.flush(); err != nil {
		t.Fatal(err)
	}
	if len(cc.writes) != 2 || string(cc.writes[1]) != "bcd" {
		t.Fatalf("writes %q; want the held frames in one", cc.writes)
	}
	nc.flush() // nothing held: no write
	big := make([]byte, maxHeld)
	nc.hold()
	nc.Write([]byte("e"))
	nc.Write(big) // would pass maxHeld: what is held goes first
	nc.flush()
	if len(cc.writes) != 4 || string(cc.writes[2]) != "e" || len(cc.writes[3]) != maxHeld {
		t.Fatalf("%d writes; want the held byte, then the big frame", len(cc.writes))
	}
}

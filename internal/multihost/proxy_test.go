package multihost

import (
	"bufio"
	"io"
	"net"
	"testing"
	"time"
)

// echo serves lines back on a loopback port.
func echo(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { defer c.Close(); io.Copy(c, c) }()
		}
	}()
	return ln.Addr().String()
}

// roundTrip sends a line through c and times its echo.
func roundTrip(t *testing.T, c net.Conn, r *bufio.Reader) time.Duration {
	t.Helper()
	start := time.Now()
	if _, err := c.Write([]byte("ping\n")); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	line, err := r.ReadString('\n')
	if err != nil || line != "ping\n" {
		t.Fatalf("echo: %q, %v", line, err)
	}
	return time.Since(start)
}

// TestProxyDelays: the proxy forwards both ways; a delay holds back each
// direction, so a round trip takes at least twice the delay; a peer delay
// applies only to connections from that address; zero turns it off.
func TestProxyDelays(t *testing.T) {
	p, err := NewProxy("127.0.0.1:0", echo(t))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	c, err := net.Dial("tcp", p.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r := bufio.NewReader(c)
	if d := roundTrip(t, c, r); d > 150*time.Millisecond {
		t.Errorf("round trip without delay took %v", d)
	}
	p.SetDelay(100 * time.Millisecond)
	if d := roundTrip(t, c, r); d < 200*time.Millisecond {
		t.Errorf("round trip with 100 ms each way took %v", d)
	}
	p.SetDelay(0)
	p.SetPeerDelay("10.0.0.1", time.Second) // another address: no effect here
	if d := roundTrip(t, c, r); d > 150*time.Millisecond {
		t.Errorf("a delay for another peer slowed this one: %v", d)
	}
	p.SetPeerDelay("127.0.0.1", 100*time.Millisecond)
	if d := roundTrip(t, c, r); d < 200*time.Millisecond {
		t.Errorf("round trip with a peer delay of 100 ms took %v", d)
	}
	p.Close()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := r.ReadString('\n'); err == nil {
		t.Error("the connection survived the proxy's Close")
	}
}

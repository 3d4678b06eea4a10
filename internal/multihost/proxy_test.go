package multihost

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
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

// message is the i-th message of a test stream: its number and bytes
// that depend on it, so that a corrupted or reordered stream shows.
func message(i int) []byte {
	b := []byte(fmt.Sprintf("%06d:", i))
	for j := range 500 {
		b = append(b, byte('a'+(i+j)%26))
	}
	return append(b, '\n')
}

// exchange sends message i through c and reads it back whole, or fails.
func exchange(c net.Conn, r *bufio.Reader, i int) (time.Duration, error) {
	start := time.Now()
	want := message(i)
	if _, err := c.Write(want); err != nil {
		return 0, err
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	got, err := r.ReadBytes('\n')
	if err != nil {
		return 0, err
	}
	if !bytes.Equal(got, want) {
		return 0, fmt.Errorf("message %d came back as %.20q...", i, got)
	}
	return time.Since(start), nil
}

// TestProxyLossStalls: with a stall probability of 0.25, about a quarter
// of the chunks pause for the stall's length, each one a slow round trip;
// every message comes back whole and in order, and a bulk stream through
// a lossy proxy arrives byte for byte. A loss for another peer does
// nothing here, and a zero Loss ends it.
func TestProxyLossStalls(t *testing.T) {
	const stallFor = 30 * time.Millisecond
	p, err := NewProxy("127.0.0.1:0", echo(t))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	p.SetPeerLoss("10.0.0.1", Loss{Reset: 1})
	p.SetLoss(Loss{Stall: 0.25, StallFor: stallFor, Seed: 1})
	c, err := net.Dial("tcp", p.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r := bufio.NewReader(c)
	slow := 0
	const trips = 200
	for i := range trips {
		d, err := exchange(c, r, i)
		if err != nil {
			t.Fatalf("round trip %d: %v", i, err)
		}
		if d >= stallFor {
			slow++
		}
	}
	chunks, stalls, resets := p.Counts()
	if resets != 0 {
		t.Errorf("%d resets with no reset probability", resets)
	}
	if chunks < 2*trips {
		t.Fatalf("only %d chunks for %d round trips", chunks, trips)
	}
	if rate := float64(stalls) / float64(chunks); rate < 0.15 || rate > 0.35 {
		t.Errorf("%d stalls in %d chunks (%.2f), want about 0.25", stalls, chunks, rate)
	}
	// A round trip with a stalled chunk takes the stall at least; one may
	// hold both of its chunks' stalls.
	if int64(slow) < stalls/2 {
		t.Errorf("%d slow round trips for %d stalls", slow, stalls)
	}

	// A stream of 4 MB through the lossy proxy comes back intact.
	p.SetLoss(Loss{Stall: 0.2, StallFor: 2 * time.Millisecond, Seed: 2})
	bulk := make([]byte, 4<<20)
	for i := range bulk {
		bulk[i] = byte(i*7 + i>>13)
	}
	b, err := net.Dial("tcp", p.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	go func() { b.Write(bulk) }()
	b.SetReadDeadline(time.Now().Add(30 * time.Second))
	back := make([]byte, len(bulk))
	if _, err := io.ReadFull(b, back); err != nil {
		t.Fatalf("reading the stream back: %v", err)
	}
	if !bytes.Equal(back, bulk) {
		t.Fatal("the stream came back changed")
	}

	p.SetLoss(Loss{})
	_, before, _ := p.Counts()
	for i := range 50 {
		if _, err := exchange(c, r, trips+i); err != nil {
			t.Fatal(err)
		}
	}
	if _, after, _ := p.Counts(); after != before {
		t.Errorf("%d stalls after the loss ended", after-before)
	}
}

// TestProxyLossResets: with a reset probability of 0.02 a client that
// talks until its connection breaks and then dials again sees exactly the
// resets the proxy counts, at about that rate per chunk, as connection
// errors; every message it got back was whole.
func TestProxyLossResets(t *testing.T) {
	p, err := NewProxy("127.0.0.1:0", echo(t))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	p.SetLoss(Loss{Reset: 0.02, Seed: 3})
	broken, i := 0, 0
	for i < 1000 {
		c, err := net.Dial("tcp", p.Addr)
		if err != nil {
			t.Fatal(err)
		}
		r := bufio.NewReader(c)
		for ; i < 1000; i++ {
			if _, err := exchange(c, r, i); err != nil {
				if strings.Contains(err.Error(), "came back as") || errors.Is(err, os.ErrDeadlineExceeded) {
					t.Fatalf("message %d: %v", i, err)
				}
				broken++
				break
			}
		}
		c.Close()
	}
	chunks, stalls, resets := p.Counts()
	if stalls != 0 {
		t.Errorf("%d stalls with no stall probability", stalls)
	}
	if int64(broken) != resets {
		t.Errorf("the client saw %d connections break, the proxy reset %d", broken, resets)
	}
	if rate := float64(resets) / float64(chunks); rate < 0.008 || rate > 0.04 {
		t.Errorf("%d resets in %d chunks (%.3f), want about 0.02", resets, chunks, rate)
	}
}

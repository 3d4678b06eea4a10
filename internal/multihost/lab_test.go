package multihost

import (
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"
)

func newLab(t *testing.T) *Lab {
	t.Helper()
	l, err := New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := l.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return l
}

// listenIn opens a TCP listener on h's address, inside h's namespace, that
// accepts and holds connections.
func listenIn(t *testing.T, h *Host) string {
	t.Helper()
	var ln net.Listener
	if err := h.Do(func() (err error) { ln, err = net.Listen("tcp", h.IP+":9000"); return err }); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	return ln.Addr().String()
}

// reach dials addr from h until it answers, for up to 5 s: a new link
// may take a moment (neighbour discovery) before its first connection.
func reach(h *Host, addr string) error {
	var err error
	for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		if err = dialFrom(h, addr); err == nil {
			return nil
		}
	}
	return err
}

func dialFrom(h *Host, addr string) error {
	do := func() error {
		c, err := net.DialTimeout("tcp", addr, 500*time.Millisecond)
		if err == nil {
			c.Close()
		}
		return err
	}
	if h == nil {
		return do()
	}
	return h.Do(do)
}

// TestLabCutAndHeal: hosts reach each other and the root namespace over
// the bridge; a cut stops one direction's connections, healing restores
// them; Close leaves no namespace or link of the lab behind.
func TestLabCutAndHeal(t *testing.T) {
	l := newLab(t)
	a, err := l.AddHost("a")
	if err != nil {
		t.Fatal(err)
	}
	b, err := l.AddHost("b")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(a.IP, "10.77.") || a.IP == b.IP {
		t.Fatalf("addresses %s and %s", a.IP, b.IP)
	}
	addr := listenIn(t, a)
	if err := reach(b, addr); err != nil {
		t.Fatalf("b to a before the cut: %v", err)
	}
	if err := reach(nil, addr); err != nil {
		t.Fatalf("the root namespace to a: %v", err)
	}
	if err := dialFrom(a, "127.0.0.1:1"); err == nil {
		t.Fatal("a's loopback answered on port 1: is a in its own namespace?")
	}
	if err := b.Cut(a.IP); err != nil {
		t.Fatal(err)
	}
	if err := dialFrom(b, addr); err == nil {
		t.Fatal("b reached a through the cut")
	}
	if err := dialFrom(nil, addr); err != nil {
		t.Fatalf("the cut of b stopped the root namespace too: %v", err)
	}
	if err := b.Heal(a.IP); err != nil {
		t.Fatal(err)
	}
	if err := reach(b, addr); err != nil {
		t.Fatalf("b to a after healing: %v", err)
	}

	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	ns, _ := exec.Command("ip", "netns", "list").Output()
	links, _ := exec.Command("ip", "-o", "link", "show").Output()
	if strings.Contains(string(ns)+string(links), "cq"+l.ID) {
		t.Fatalf("after Close:\n%s\n%s", ns, links)
	}
}

// TestSweepRemovesDeadLabs: a lab whose owner died is removed by the next
// New.
func TestSweepRemovesDeadLabs(t *testing.T) {
	l := newLab(t)
	if _, err := l.AddHost("x"); err != nil {
		t.Fatal(err)
	}
	// A pid that does not run: the lab's owner is gone.
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	if err := writeOwner(l, dead.Process.Pid); err != nil {
		t.Fatal(err)
	}
	newLab(t)
	ns, _ := exec.Command("ip", "netns", "list").Output()
	if strings.Contains(string(ns), "cq"+l.ID) {
		t.Fatalf("the dead lab's namespace is still there:\n%s", ns)
	}
}

package multihost

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// base is the /16 every lab takes one /24 of.
const base = "10.77."

// stateDir holds one file per live lab naming its owner's pid, so that a
// later lab removes what a killed harness left behind.
const stateDir = "/run/caiquan-multihost"

// Lab is a bridge in the root namespace and hosts (network namespaces)
// joined to it by veth pairs, all with names of this lab's id.
type Lab struct {
	// ID is in every name the lab makes: namespaces, links, its state file.
	ID string
	// Gateway is the bridge's address: the root namespace's in the lab.
	Gateway string
	// Dir holds the lab's files (logs, data); the caller owns it.
	Dir string

	subnet string // "10.77.N."
	mu     sync.Mutex
	hosts  []*Host
	procs  []*Proc
	later  []func() // run by Close, last added first
	closed bool
}

// Host is one network namespace with one address in the lab.
type Host struct {
	Name string // short, as given to AddHost
	NS   string // the namespace's name
	IP   string

	lab  *Lab
	link string // the veth end in the root namespace, on the bridge
}

// New makes a lab: it picks a free 10.77.N.0/24, makes the bridge, and
// first removes labs whose harness died without cleaning up. Close
// removes everything it made.
func New(dir string) (*Lab, error) {
	if os.Geteuid() != 0 {
		return nil, errors.New("multihost: network namespaces need root")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		return nil, fmt.Errorf("multihost: the ip command (iproute2) is needed: %w", err)
	}
	Sweep()
	id := make([]byte, 3)
	rand.Read(id)
	l := &Lab{ID: hex.EncodeToString(id), Dir: dir}
	if err := os.MkdirAll(stateDir, 0o755); err != nil {
		return nil, fmt.Errorf("multihost: %w", err)
	}
	if err := writeOwner(l, os.Getpid()); err != nil {
		return nil, fmt.Errorf("multihost: %w", err)
	}
	n, err := freeSubnet()
	if err != nil {
		l.Close()
		return nil, err
	}
	l.subnet = base + strconv.Itoa(n) + "."
	l.Gateway = l.subnet + "1"
	br := l.bridge()
	for _, args := range [][]string{
		{"link", "add", br, "type", "bridge", "forward_delay", "0"},
		{"addr", "add", l.Gateway + "/24", "dev", br},
		{"link", "set", br, "up"},
	} {
		if err := run("ip", args...); err != nil {
			l.Close()
			return nil, err
		}
	}
	return l, nil
}

func (l *Lab) bridge() string    { return "cq" + l.ID + "br" }
func (l *Lab) stateFile() string { return filepath.Join(stateDir, l.ID) }

// Subnet is the lab's network, "10.77.N.0/24".
func (l *Lab) Subnet() string { return l.subnet + "0/24" }

// AddHost makes a namespace with loopback up and one address on the bridge.
func (l *Lab) AddHost(name string) (*Host, error) {
	l.mu.Lock()
	idx := len(l.hosts)
	if l.closed || idx >= 200 {
		l.mu.Unlock()
		return nil, errors.New("multihost: lab closed or full")
	}
	h := &Host{Name: name, NS: fmt.Sprintf("cq%s-%d-%s", l.ID, idx, name), IP: l.subnet + strconv.Itoa(10+idx),
		lab: l, link: fmt.Sprintf("cq%sh%d", l.ID, idx)}
	l.hosts = append(l.hosts, h)
	l.mu.Unlock()
	inner := fmt.Sprintf("cq%sn%d", l.ID, idx)
	steps := [][]string{
		{"netns", "add", h.NS},
		{"link", "add", h.link, "type", "veth", "peer", "name", inner},
		{"link", "set", inner, "netns", h.NS},
		{"link", "set", h.link, "master", l.bridge(), "up"},
		{"-n", h.NS, "link", "set", "lo", "up"},
		{"-n", h.NS, "link", "set", inner, "name", "eth0"},
		{"-n", h.NS, "addr", "add", h.IP + "/24", "dev", "eth0"},
		{"-n", h.NS, "link", "set", "eth0", "up"},
	}
	for _, args := range steps {
		if err := run("ip", args...); err != nil {
			return nil, err
		}
	}
	return h, nil
}

// Hosts lists the hosts in the order they were added.
func (l *Lab) Hosts() []*Host {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]*Host(nil), l.hosts...)
}

// Cut drops everything h sends to the addresses, with a blackhole route
// per address in h's namespace. Cut both ways for a partition.
func (h *Host) Cut(ips ...string) error {
	for _, ip := range ips {
		if err := run("ip", "-n", h.NS, "route", "replace", "blackhole", ip+"/32"); err != nil {
			return err
		}
	}
	return nil
}

// Heal removes Cut's routes to the addresses.
func (h *Host) Heal(ips ...string) error {
	var errs []error
	for _, ip := range ips {
		if err := quiet(run("ip", "-n", h.NS, "route", "del", "blackhole", ip+"/32")); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Side is one side of a partition: hosts and the addresses that reach
// them (a host's own, and a proxy's in front of it).
type Side struct {
	Hosts []*Host
	IPs   []string
}

// Partition cuts every host of a off from every address of b and every
// host of b off from every address of a.
func Partition(a, b Side) error {
	for _, x := range a.Hosts {
		if err := x.Cut(b.IPs...); err != nil {
			return err
		}
	}
	for _, y := range b.Hosts {
		if err := y.Cut(a.IPs...); err != nil {
			return err
		}
	}
	return nil
}

// HealPartition undoes Partition.
func HealPartition(a, b Side) error {
	var errs []error
	for _, x := range a.Hosts {
		errs = append(errs, x.Heal(b.IPs...))
	}
	for _, y := range b.Hosts {
		errs = append(errs, y.Heal(a.IPs...))
	}
	return errors.Join(errs...)
}

// Command is name run inside h's namespace.
func (h *Host) Command(name string, args ...string) *exec.Cmd {
	return exec.Command("ip", append([]string{"netns", "exec", h.NS, name}, args...)...)
}

// Close stops every process the lab started and removes its namespaces,
// links and bridge. It is safe to call more than once.
func (l *Lab) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	procs, hosts, later := l.procs, l.hosts, l.later
	l.mu.Unlock()
	for _, p := range procs {
		p.Kill()
	}
	for i := len(later) - 1; i >= 0; i-- {
		later[i]()
	}
	var errs []error
	for _, h := range hosts {
		// Processes still in the namespace (a daemon's children) would
		// keep it, and its address, alive.
		killIn(h.NS)
		// Deleting the namespace deletes its veth end, and so the pair.
		errs = append(errs, quiet(run("ip", "netns", "del", h.NS)))
		errs = append(errs, quiet(run("ip", "link", "del", h.link)))
	}
	errs = append(errs, quiet(run("ip", "link", "del", l.bridge())))
	os.Remove(l.stateFile())
	return errors.Join(errs...)
}

// onClose has Close run f.
func (l *Lab) onClose(f func()) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.later = append(l.later, f)
}

// Sweep removes the namespaces and links of labs whose harness process is
// gone (killed before its Close ran).
func Sweep() {
	entries, _ := os.ReadDir(stateDir)
	for _, e := range entries {
		b, _ := os.ReadFile(filepath.Join(stateDir, e.Name()))
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err == nil && syscall.Kill(pid, 0) == nil {
			continue // its owner still runs
		}
		id := e.Name()
		out, _ := exec.Command("ip", "netns", "list").Output()
		for _, line := range strings.Split(string(out), "\n") {
			if ns, _, _ := strings.Cut(line, " "); strings.HasPrefix(ns, "cq"+id+"-") {
				killIn(ns)
				run("ip", "netns", "del", ns)
			}
		}
		out, _ = exec.Command("ip", "-o", "link", "show").Output()
		for _, line := range strings.Split(string(out), "\n") {
			f := strings.Fields(line)
			if len(f) > 1 {
				name, _, _ := strings.Cut(strings.TrimSuffix(f[1], ":"), "@")
				if strings.HasPrefix(name, "cq"+id) {
					run("ip", "link", "del", name)
				}
			}
		}
		os.Remove(filepath.Join(stateDir, id))
	}
}

// killIn kills every process in namespace ns.
func killIn(ns string) {
	out, _ := exec.Command("ip", "netns", "pids", ns).Output()
	for _, f := range strings.Fields(string(out)) {
		// Never this process: a thread of it may be inside for a moment (Do).
		if pid, err := strconv.Atoi(f); err == nil && pid != os.Getpid() {
			syscall.Kill(pid, syscall.SIGCONT) // a stopped process dies only once it runs
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

// freeSubnet picks a random 10.77.N.0/24 that no address or route of the
// root namespace uses.
func freeSubnet() (int, error) {
	addrs, _ := net.InterfaceAddrs()
	routes, _ := exec.Command("ip", "route", "show").Output()
	used := map[int]bool{}
	for _, a := range addrs {
		markUsed(used, a.String())
	}
	for _, line := range strings.Split(string(routes), "\n") {
		markUsed(used, line)
	}
	for range 64 {
		n, _ := rand.Int(rand.Reader, big.NewInt(250))
		if c := int(n.Int64()) + 1; !used[c] {
			return c, nil
		}
	}
	return 0, errors.New("multihost: no free 10.77.N.0/24")
}

func markUsed(used map[int]bool, s string) {
	for _, f := range strings.Fields(s) {
		if rest, ok := strings.CutPrefix(f, base); ok {
			n, _, _ := strings.Cut(rest, ".")
			if v, err := strconv.Atoi(n); err == nil {
				used[v] = true
			}
		}
	}
}

func run(name string, args ...string) error {
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("multihost: %s %s: %v: %s", name, strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	return nil
}

// quiet drops the error of removing what is already gone.
func quiet(err error) error {
	if err != nil && (strings.Contains(err.Error(), "Cannot find device") || strings.Contains(err.Error(), "No such file") ||
		strings.Contains(err.Error(), "No such process")) {
		return nil
	}
	return err
}

// Do runs f on an OS thread that has entered h's network namespace, so
// that sockets f makes (listeners, dials) belong to h. The thread goes
// back to its own namespace afterwards, or, if it cannot, ends with its
// goroutine instead of returning to Go's pool.
func (h *Host) Do(f func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		home, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			errc <- fmt.Errorf("multihost: this thread's namespace: %w", err)
			return
		}
		defer unix.Close(home)
		fd, err := unix.Open(filepath.Join("/run/netns", h.NS), unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			errc <- fmt.Errorf("multihost: open namespace %s: %w", h.NS, err)
			return
		}
		defer unix.Close(fd)
		if err := unix.Setns(fd, unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("multihost: enter namespace %s: %w", h.NS, err)
			return
		}
		errc <- f()
		if unix.Setns(home, unix.CLONE_NEWNET) == nil {
			runtime.UnlockOSThread()
		}
	}()
	return <-errc
}

// writeOwner names pid as the owner of l in its state file.
func writeOwner(l *Lab, pid int) error {
	return os.WriteFile(l.stateFile(), []byte(strconv.Itoa(pid)), 0o644)
}

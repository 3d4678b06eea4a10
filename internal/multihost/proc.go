package multihost

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Proc is a process the lab started in a host's namespace. `ip netns exec`
// execs the program itself, so the pid is the program's: signals (SIGSTOP
// for a pause) reach it directly.
type Proc struct {
	Host *Host
	Name string

	cmd     *exec.Cmd
	out     *lines
	logPath string
	exited  chan struct{}
	err     error
}

// Start runs name with args in h's namespace; its output goes to a log
// file in the lab's folder and is kept for WaitLine.
func (h *Host) Start(label, name string, args ...string) (*Proc, error) {
	l := h.lab
	p := &Proc{Host: h, Name: label, cmd: h.Command(name, args...), out: &lines{},
		logPath: filepath.Join(l.Dir, fmt.Sprintf("%s-%s.log", h.Name, label)), exited: make(chan struct{})}
	f, err := os.OpenFile(p.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("multihost: %w", err)
	}
	p.out.file = f
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		f.Close()
		return nil, errors.New("multihost: lab closed")
	}
	if err := p.cmd.Start(); err != nil {
		l.mu.Unlock()
		f.Close()
		return nil, fmt.Errorf("multihost: start %s in %s: %w", name, h.NS, err)
	}
	l.procs = append(l.procs, p)
	l.mu.Unlock()
	go func() {
		p.err = p.cmd.Wait()
		f.Close()
		close(p.exited)
	}()
	return p, nil
}

// WaitLine waits until the output has a line that starts with prefix and
// returns the rest of it.
func (p *Proc) WaitLine(prefix string, timeout time.Duration) (string, error) {
	end := time.Now().Add(timeout)
	for {
		if rest, ok := p.out.find(prefix); ok {
			return rest, nil
		}
		select {
		case <-p.exited:
			if rest, ok := p.out.find(prefix); ok {
				return rest, nil
			}
			return "", fmt.Errorf("multihost: %s on %s exited (%v) before printing %q; log %s:\n%s", p.Name, p.Host.Name, p.err, prefix, p.logPath, p.Tail(4096))
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(end) {
			return "", fmt.Errorf("multihost: %s on %s printed no %q within %v; log %s:\n%s", p.Name, p.Host.Name, prefix, timeout, p.logPath, p.Tail(4096))
		}
	}
}

// Output is everything the process printed so far.
func (p *Proc) Output() string { return p.out.String() }

// Tail is the last n bytes of the output.
func (p *Proc) Tail(n int) string {
	s := p.out.String()
	if len(s) > n {
		s = "…" + s[len(s)-n:]
	}
	return s
}

// Pid is the process id.
func (p *Proc) Pid() int { return p.cmd.Process.Pid }

// Signal sends sig unless the process has exited.
func (p *Proc) Signal(sig syscall.Signal) error {
	select {
	case <-p.exited:
		return errors.New("multihost: process exited")
	default:
	}
	return p.cmd.Process.Signal(sig)
}

// Alive reports whether the process still runs.
func (p *Proc) Alive() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// Exited is closed when the process has ended.
func (p *Proc) Exited() <-chan struct{} { return p.exited }

// ExitCode is the exit code once exited; -1 for a signal.
func (p *Proc) ExitCode() int {
	<-p.exited
	if p.cmd.ProcessState == nil {
		return -1
	}
	return p.cmd.ProcessState.ExitCode()
}

// Kill ends the process at once (a stopped one too) and waits for it.
func (p *Proc) Kill() {
	if p.Alive() {
		p.cmd.Process.Signal(syscall.SIGKILL)
		p.cmd.Process.Signal(syscall.SIGCONT)
	}
	<-p.exited
}

// Stop sends SIGTERM and waits up to timeout, then kills.
func (p *Proc) Stop(timeout time.Duration) {
	if !p.Alive() {
		return
	}
	p.cmd.Process.Signal(syscall.SIGCONT)
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(timeout):
		p.Kill()
	}
}

// lines keeps a process's output and copies it to its log file.
type lines struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	file *os.File
}

// maxKept bounds what a process's output keeps in memory; the file has all.
const maxKept = 1 << 20

func (l *lines) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.file.Write(b)
	if l.buf.Len() < maxKept {
		l.buf.Write(b)
	}
	return len(b), nil
}

func (l *lines) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func (l *lines) find(prefix string) (string, bool) {
	for _, line := range strings.Split(l.String(), "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), prefix); ok {
			return rest, true
		}
	}
	return "", false
}

package gateway

import (
	"log/slog"
	"sync"
	"syscall"
)

// parker waits for input on parked connections: one epoll instance, one
// goroutine, one entry per connection (one-shot, re-armed by each park).
type parker struct {
	epfd  int
	mu    sync.Mutex
	conns []*conn // by file descriptor: small numbers, densely used
}

var (
	parkerOnce sync.Once
	parkerInst *parker
)

// theParker is the process's parker, started on first use; nil if epoll
// is unavailable.
func theParker() *parker {
	parkerOnce.Do(func() {
		fd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
		if err != nil {
			slog.Warn("gateway: no epoll; idle connections keep a goroutine", "err", err)
			return
		}
		parkerInst = &parker{epfd: fd}
		go parkerInst.run()
	})
	return parkerInst
}

func (p *parker) run() {
	var evs [256]syscall.EpollEvent
	for {
		n, err := syscall.EpollWait(p.epfd, evs[:], -1)
		if err != nil {
			continue // EINTR
		}
		for i := range n {
			p.mu.Lock()
			var c *conn
			if fd := int(evs[i].Fd); fd < len(p.conns) {
				c = p.conns[fd]
			}
			p.mu.Unlock()
			if c != nil {
				c.unpark() // a stale event only wakes a reader early
			}
		}
	}
}

// add enters c; the descriptor stays c's until the reader ends (forget).
func (p *parker) add(c *conn) {
	p.mu.Lock()
	fd := int(c.nc.fd)
	if fd >= len(p.conns) {
		p.conns = append(p.conns, make([]*conn, fd+1-len(p.conns))...)
	}
	p.conns[fd] = c
	p.mu.Unlock()
}

// arm starts the one-shot wait for nc's socket; first adds it to the set.
// Once armed, another reader may start at once, so arm reads nothing a
// reader writes. Inside RawConn.Control the descriptor cannot be closed
// and reused meanwhile.
func (p *parker) arm(nc *netConn, first bool) error {
	op := syscall.EPOLL_CTL_MOD
	if first {
		op = syscall.EPOLL_CTL_ADD
	}
	var err error
	cerr := nc.raw.Control(func(fd uintptr) {
		ev := syscall.EpollEvent{
			Events: syscall.EPOLLIN | syscall.EPOLLRDHUP | syscall.EPOLLONESHOT,
			Fd:     int32(fd),
		}
		err = syscall.EpollCtl(p.epfd, op, int(fd), &ev)
	})
	if cerr != nil {
		return cerr
	}
	return err
}

// forget drops c once its reader has ended; closing the socket removes it
// from the epoll set.
func (p *parker) forget(c *conn) {
	p.mu.Lock()
	if fd := int(c.nc.fd); fd < len(p.conns) && p.conns[fd] == c {
		p.conns[fd] = nil
	}
	p.mu.Unlock()
}

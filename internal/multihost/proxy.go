package multihost

import (
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Proxy forwards TCP from its address to a target and can hold every chunk
// back for a while, in both directions: the delay the kernel's netem would
// give, which this machine's kernel lacks. A lab runs one per node in
// front of the node's member port, and the node advertises the proxy's
// address, so that every member-to-member connection passes one.
type Proxy struct {
	Addr   string // where it listens (host:port)
	target string
	ln     net.Listener

	delay  atomic.Int64 // for every connection, nanoseconds
	mu     sync.Mutex
	byPeer map[string]int64 // extra delay for connections from an address
	conns  map[net.Conn]bool
	closed bool
}

// NewProxy listens on addr (in the root namespace) and forwards to target.
func NewProxy(addr, target string) (*Proxy, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	p := &Proxy{Addr: ln.Addr().String(), target: target, ln: ln, byPeer: map[string]int64{}, conns: map[net.Conn]bool{}}
	go p.serve()
	return p, nil
}

// SetDelay holds every chunk of every connection back by d (0: none).
func (p *Proxy) SetDelay(d time.Duration) { p.delay.Store(int64(d)) }

// SetPeerDelay holds back the chunks of connections from ip by d.
func (p *Proxy) SetPeerDelay(ip string, d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if d == 0 {
		delete(p.byPeer, ip)
	} else {
		p.byPeer[ip] = int64(d)
	}
}

func (p *Proxy) delayFor(ip string) time.Duration {
	p.mu.Lock()
	extra := p.byPeer[ip]
	p.mu.Unlock()
	return time.Duration(max(p.delay.Load(), extra))
}

// Close stops listening and drops every connection.
func (p *Proxy) Close() error {
	p.mu.Lock()
	p.closed = true
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	return p.ln.Close()
}

func (p *Proxy) track(c net.Conn, on bool) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if on && p.closed {
		return false
	}
	if on {
		p.conns[c] = true
	} else {
		delete(p.conns, c)
	}
	return true
}

func (p *Proxy) serve() {
	for {
		in, err := p.ln.Accept()
		if err != nil {
			return
		}
		go p.forward(in)
	}
}

func (p *Proxy) forward(in net.Conn) {
	out, err := net.DialTimeout("tcp", p.target, 3*time.Second)
	if err != nil {
		in.Close()
		return
	}
	if !p.track(in, true) || !p.track(out, true) {
		in.Close()
		out.Close()
		return
	}
	defer p.track(in, false)
	defer p.track(out, false)
	ip, _, _ := net.SplitHostPort(in.RemoteAddr().String())
	delay := func() time.Duration { return p.delayFor(ip) }
	done := make(chan struct{}, 2)
	go func() { pump(out, in, delay); done <- struct{}{} }()
	go func() { pump(in, out, delay); done <- struct{}{} }()
	<-done
	in.Close()
	out.Close()
	<-done
}

// chunk is data read at a time.
type chunk struct {
	at   time.Time
	data []byte
}

// pump copies src to dst, each chunk written no sooner than delay() after
// it was read; the reader does not wait for the writer, so a delay adds
// latency without cutting throughput.
func pump(dst, src net.Conn, delay func() time.Duration) {
	q := make(chan chunk, 1024)
	go func() {
		defer close(q)
		for {
			buf := make([]byte, 32<<10)
			n, err := src.Read(buf)
			if n > 0 {
				q <- chunk{at: time.Now(), data: buf[:n]}
			}
			if err != nil {
				return
			}
		}
	}()
	for c := range q { // the reader closes q when src ends
		if wait := time.Until(c.at.Add(delay())); wait > 0 {
			time.Sleep(wait)
		}
		if _, err := dst.Write(c.data); err != nil {
			src.Close()
			for range q {
			}
			return
		}
	}
	if tc, ok := dst.(*net.TCPConn); ok {
		tc.CloseWrite()
	}
}

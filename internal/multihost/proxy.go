package multihost

import (
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Proxy forwards TCP from its address to a target and can hold every chunk
// back for a while, in both directions: the delay the kernel's netem would
// give, which this machine's kernel lacks. It can also make the link
// lossy (SetLoss). A lab runs one per node in front of the node's member
// port, and the node advertises the proxy's address, so that every
// member-to-member connection passes one.
type Proxy struct {
	Addr   string // where it listens (host:port)
	target string
	ln     net.Listener

	delay  atomic.Int64 // for every connection, nanoseconds
	mu     sync.Mutex
	byPeer map[string]int64 // extra delay for connections from an address
	loss   *lossState       // for every connection; nil: none
	lossBy map[string]*lossState
	conns  map[net.Conn]bool
	closed bool

	chunks, stalls, resets atomic.Int64
}

// Loss is packet loss as TCP over a lossy link shows it to the two ends:
// a proxy of a stream cannot lose a packet, but TCP hides a lost segment
// by sending it again after a retransmission timeout, so the ends see the
// stream stop for that long and then go on, in order and intact. With
// probability Stall a chunk (and so everything after it on its
// connection) waits StallFor more, as if its segment were lost once. With
// probability Reset a chunk is not delivered and the connection is reset
// both ways instead, as when retransmissions give up. Seed repeats the
// sequence of decisions (the chunks they meet depend on timing).
type Loss struct {
	Stall    float64
	StallFor time.Duration
	Reset    float64
	Seed     uint64
}

type lossState struct {
	Loss
	rng *rand.Rand
}

func newLoss(l Loss) *lossState {
	if l.Stall <= 0 && l.Reset <= 0 {
		return nil
	}
	return &lossState{Loss: l, rng: rand.New(rand.NewPCG(l.Seed, 0x1055))}
}

// SetLoss makes every connection lossy (a zero Loss: not).
func (p *Proxy) SetLoss(l Loss) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.loss = newLoss(l)
}

// SetPeerLoss makes the connections from ip lossy (a zero Loss: not).
func (p *Proxy) SetPeerLoss(ip string, l Loss) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if st := newLoss(l); st != nil {
		p.lossBy[ip] = st
	} else {
		delete(p.lossBy, ip)
	}
}

// Counts are the chunks the proxy forwarded (or reset on), the stalls and
// the resets it made.
func (p *Proxy) Counts() (chunks, stalls, resets int64) {
	return p.chunks.Load(), p.stalls.Load(), p.resets.Load()
}

// lose decides the fate of one chunk of a connection from ip: how long it
// stalls, or whether it resets the connection. The peer's loss, if any,
// decides; else the proxy's.
func (p *Proxy) lose(ip string) (stall time.Duration, reset bool) {
	p.chunks.Add(1)
	p.mu.Lock()
	defer p.mu.Unlock()
	l := p.lossBy[ip]
	if l == nil {
		l = p.loss
	}
	if l == nil {
		return 0, false
	}
	if l.Reset > 0 && l.rng.Float64() < l.Reset {
		p.resets.Add(1)
		return 0, true
	}
	if l.Stall > 0 && l.rng.Float64() < l.Stall {
		p.stalls.Add(1)
		return l.StallFor, false
	}
	return 0, false
}

// NewProxy listens on addr (in the root namespace) and forwards to target.
func NewProxy(addr, target string) (*Proxy, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	p := &Proxy{Addr: ln.Addr().String(), target: target, ln: ln, byPeer: map[string]int64{}, lossBy: map[string]*lossState{}, conns: map[net.Conn]bool{}}
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
	link := link{delay: func() time.Duration { return p.delayFor(ip) }, lose: func() (time.Duration, bool) { return p.lose(ip) }}
	done := make(chan struct{}, 2)
	go func() { pump(out, in, link); done <- struct{}{} }()
	go func() { pump(in, out, link); done <- struct{}{} }()
	<-done
	in.Close()
	out.Close()
	<-done
}

// link is what a connection's path does to its chunks.
type link struct {
	delay func() time.Duration
	lose  func() (stall time.Duration, reset bool)
}

// reset closes c with a TCP reset rather than a FIN, as a link that gave
// up on a connection leaves it.
func reset(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	c.Close()
}

// chunk is data read at a time.
type chunk struct {
	at   time.Time
	data []byte
}

// pump copies src to dst, each chunk written no sooner than delay() after
// it was read; the reader does not wait for the writer, so a delay adds
// latency without cutting throughput. A stall holds back the chunk and,
// since chunks are written in order, every one after it; a reset ends
// both connections with a TCP reset and the chunk is never written.
func pump(dst, src net.Conn, l link) {
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
		stall, rst := l.lose()
		if rst {
			reset(dst)
			reset(src)
			for range q {
			}
			return
		}
		if wait := time.Until(c.at.Add(l.delay())); wait > 0 {
			time.Sleep(wait)
		}
		time.Sleep(stall)
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

package gateway

import "time"

// Parking: an idle connection has no goroutine. When the reader has read
// all there is, it hands the socket to the parker (one epoll instance and
// one goroutine for the process, park_linux.go) and returns; input, the
// read deadline or Close start a new reader (unpark). Without a parker the
// reader waits itself, in a shallow call (netConn.waitReadable).
//
// A reader parks only after parkAfter without input: a player in a round
// sends every few seconds, and a reader that waits on in the runtime's
// poller answers it without starting a goroutine (or growing a stack) per
// message. Parking costs that, and is worth it for connections that idle.
//
// Besides the stack each waiting goroutine would hold (2 to 8 KiB), the
// runtime starts new goroutines at the average stack depth it saw at the
// last collection: thousands of shallow waiting readers would make every
// actor's mailbox goroutine start small and grow on each run.

// parkAfter is how long a reader waits for input itself before it parks.
const parkAfter = 5 * time.Second

// park hands the wait for input to the parker. False: the caller waits.
func (c *conn) park() bool {
	p := theParker()
	if p == nil || c.nc.fd < 0 {
		return false
	}
	first := !c.watched
	if first {
		p.add(c)
		c.watched = true // if the first arm fails, later ones fail too: the reader waits itself
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return false
	}
	c.nc.dropReadBuffer() // the next reader takes one back (awaitInput)
	c.parked = true
	c.armTickLocked() // to unpark at the read deadline
	c.mu.Unlock()
	// From here an unpark may start another reader: touch nothing of the reader's.
	if p.arm(c.nc, first) == nil {
		return true
	}
	c.mu.Lock()
	resumed := !c.parked // an unpark raced us: its reader reads
	c.parked = false
	c.mu.Unlock()
	if !resumed {
		c.nc.restoreReadBuffer()
	}
	return resumed
}

// unpark starts a reader if the connection is parked.
func (c *conn) unpark() {
	c.mu.Lock()
	was := c.parked
	c.parked = false
	c.mu.Unlock()
	if was {
		workerPool.Go(c.awaitInput)
	}
}

package bolt

import (
	"errors"
	"sync"

	bbolt "go.etcd.io/bbolt"

	"github.com/caiquan/caiquan/actors"
)

// maxGroup bounds how many saves share one transaction.
const maxGroup = 1024

var errClosed = errors.New("bolt: the store is closed")

// committer is a group commit: one goroutine writes saves, and every save
// that arrives while a transaction commits (and fsyncs) waits to share the
// next one. Under load the groups grow with the commit time, so the fsyncs
// per second stay few however many players settle; alone, a save commits at
// once. (bbolt's own Batch closes a group after a fixed delay, so at a few
// thousand saves a second its groups queue up behind each other's fsyncs.)
type committer struct {
	db   *bbolt.DB
	reqs chan saveReq
	done chan struct{}

	mu     sync.RWMutex // held for reading while sending to reqs
	closed bool
}

type saveReq struct {
	uid  string
	rec  actors.PlayerRecord
	data []byte
	err  chan error
}

func startCommitter(db *bbolt.DB) *committer {
	c := &committer{db: db, reqs: make(chan saveReq, maxGroup), done: make(chan struct{})}
	go c.run()
	return c
}

func (c *committer) save(r saveReq) error {
	r.err = make(chan error, 1)
	c.mu.RLock()
	if c.closed {
		c.mu.RUnlock()
		return errClosed
	}
	c.reqs <- r
	c.mu.RUnlock()
	return <-r.err
}

func (c *committer) run() {
	defer close(c.done)
	for first := range c.reqs {
		group := append(make([]saveReq, 0, 16), first)
	more:
		for len(group) < maxGroup {
			select {
			case r, ok := <-c.reqs:
				if !ok {
					break more
				}
				group = append(group, r)
			default:
				break more
			}
		}
		c.commit(group)
	}
}

// commit writes a group in one transaction, in arrival order (two saves of
// one uid keep their order). If the transaction fails, each save is tried
// alone, so one bad record fails only its own save.
func (c *committer) commit(group []saveReq) {
	err := c.db.Update(func(tx *bbolt.Tx) error {
		for _, r := range group {
			if err := put(tx, r); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil && len(group) > 1 {
		for _, r := range group {
			r.err <- c.db.Update(func(tx *bbolt.Tx) error { return put(tx, r) })
		}
		return
	}
	for _, r := range group {
		r.err <- err
	}
}

// close lets the saves already sent finish, and refuses new ones.
func (c *committer) close() {
	c.mu.Lock()
	if !c.closed {
		c.closed = true
		close(c.reqs)
	}
	c.mu.Unlock()
	<-c.done
}

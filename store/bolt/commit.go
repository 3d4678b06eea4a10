package bolt

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/caiquan/caiquan"
	bbolt "go.etcd.io/bbolt"
)

// maxGroup bounds how many saves share one journal batch.
const maxGroup = 1024

// Flush policy: bbolt gets the journal's saves once the segment holds
// flushBytes, or flushEvery after the first save it has not got, or when a
// leaderboard read or Close asks. Longer means fewer, larger bbolt
// transactions, and more journal to replay after a crash. A flush writes
// each uid once however often it saved, so with thousands of players every
// flush rewrites about every page: at 10 s, its writes and fsyncs slowed
// the journal's own fsyncs (which every settlement waits for) from under a
// millisecond to 100 ms and more, six times a minute. Even paced (below), a
// flush of 10,000 players still slowed journal fsyncs to about 40 ms for a
// second, and it costs the same whether it comes every minute or every
// five. The journal's memory is one record per uid either way; a crash
// leaves at most flushBytes to replay at Open (about 4 s; 64 MiB took 1 s).
const (
	flushBytes = 256 << 20
	flushEvery = 5 * time.Minute
	flushCheck = time.Second
)

// batchGap is the shortest time from one journal batch to the next: a save
// that finds the last batch younger waits for the rest of it, with the saves
// that come meanwhile. At 10,000 players a batch went out every 0.9 ms with
// 2 to 3 saves, and its fsync alone took half of that; two milliseconds
// apart, a batch holds about 7, and the server used 0.81 cores instead of
// 0.94 for the same rounds. A save waits at most this much longer.
const batchGap = 2 * time.Millisecond

// writesCacheSize bounds the committer's memory of each uid's Writes.
const writesCacheSize = 1 << 18

var errClosed = errors.New("bolt: the store is closed")

// committer is a group commit over the journal: one goroutine takes every
// save that arrived while the last batch was written and fsynced, checks
// each against the Writes it replaces, and writes them as the next batch.
// Under load the groups grow with the fsync time and batchGap, so the
// fsyncs per second stay few however many players settle; alone, a save
// commits at once unless a batch went out less than batchGap before.
//
// Saves the journal holds and bbolt does not yet are kept in memory for
// Load: pending (the open segment) and flushing (sealed segments that a
// flush is writing to bbolt). Only the run goroutine writes either map;
// view guards them against Load.
type committer struct {
	db       *bbolt.DB
	prefix   string
	reqs     chan saveReq
	flushes  chan flushAsk
	done     chan struct{}
	closeErr error

	mu     sync.RWMutex // held for reading while sending to reqs or flushes
	closed bool

	// hurry: someone waits for the running flush, so it does not pace
	// itself (see writeRecords).
	hurry atomic.Bool

	// Owned by the run goroutine.
	j         *journal
	buf       []byte
	writes    map[string]int64 // each uid's Writes as the journal has it
	broken    error            // the journal can take no more saves
	since     time.Time        // when pending got its first save
	sealed    []uint64         // segments whose saves are in flushing
	flushDone chan error       // non-nil while a flush runs
	covered   []chan error     // asked for the flush that runs
	waiting   []chan error     // asked for the next flush
	// waitingHurried: one of waiting is not paced.
	waitingHurried bool
	flushAgain     bool
	lastBatch      time.Time // when the last group was taken
	// A group's saves, those that passed, and their entries: kept from
	// group to group (and emptied after each), not made per group.
	group    []saveReq
	accepted []saveReq
	entries  []journalEntry

	view     sync.Mutex
	pending  map[string]caiquan.PlayerRecord
	flushing map[string]caiquan.PlayerRecord
}

type saveReq struct {
	uid string
	rec caiquan.PlayerRecord
	err chan error
}

func startCommitter(db *bbolt.DB, prefix string, j *journal) *committer {
	c := &committer{
		db: db, prefix: prefix, j: j,
		reqs:    make(chan saveReq, maxGroup),
		flushes: make(chan flushAsk),
		done:    make(chan struct{}),
		writes:  make(map[string]int64),
		pending: make(map[string]caiquan.PlayerRecord),
	}
	go c.run()
	return c
}

// answers keeps the channels saves are answered on: one made per save was
// 3 % of the bytes the server allocated in play.
var answers = sync.Pool{New: func() any { return make(chan error, 1) }}

func (c *committer) save(r saveReq) error {
	r.err = answers.Get().(chan error)
	err := c.ask(func() { c.reqs <- r }, r.err)
	answers.Put(r.err) // empty: each save is answered once, and ask took it
	return err
}

// flushAsk asks for a flush and waits for it on done. A paced ask (only
// tests and benchmarks make one) does not hurry the flush, as the journal's own
// flushes by age or size are not hurried.
type flushAsk struct {
	done  chan error
	paced bool
}

// flush returns once bbolt holds every save acknowledged before it.
func (c *committer) flush() error { return c.flushWith(false) }

func (c *committer) flushWith(paced bool) error {
	done := make(chan error, 1)
	return c.ask(func() { c.flushes <- flushAsk{done: done, paced: paced} }, done)
}

// ask sends a request to the run goroutine unless the store is closed,
// and waits for its answer.
func (c *committer) ask(send func(), answer chan error) error {
	c.mu.RLock()
	if c.closed {
		c.mu.RUnlock()
		return errClosed
	}
	send()
	c.mu.RUnlock()
	return <-answer
}

// load returns the record of uid the journal holds, if bbolt may not have it.
func (c *committer) load(uid string) (caiquan.PlayerRecord, bool) {
	c.view.Lock()
	defer c.view.Unlock()
	rec, ok := c.pending[uid]
	if !ok {
		rec, ok = c.flushing[uid]
	}
	if ok {
		rec.Recent = append([]caiquan.AppliedRound(nil), rec.Recent...)
	}
	return rec, ok
}

func (c *committer) run() {
	defer close(c.done)
	tick := time.NewTicker(flushCheck)
	defer tick.Stop()
	for {
		select {
		case first, ok := <-c.reqs:
			if !ok {
				c.closeErr = c.finish()
				return
			}
			c.awaitGap()
			c.commit(c.gather(first))
			clear(c.group)
			clear(c.accepted)
			clear(c.entries)
			if c.j.size >= flushBytes {
				c.startFlush()
			}
		case w := <-c.flushes:
			if !w.paced {
				// It waits for the flush that runs, if one does, then the next.
				c.hurry.Store(true)
				c.waitingHurried = true
			}
			c.waiting = append(c.waiting, w.done)
			c.startFlush()
		case err := <-c.flushDone:
			c.flushEnded(err)
		case <-tick.C:
			due := len(c.pending) > 0 && time.Since(c.since) >= flushEvery
			if c.flushDone == nil && (due || c.flushing != nil) {
				c.startFlush() // flushing left over means the last flush failed: again
			}
		}
	}
}

// awaitGap waits until batchGap has passed since the last group was taken.
func (c *committer) awaitGap() {
	if wait := batchGap - time.Since(c.lastBatch); wait > 0 {
		time.Sleep(wait)
	}
	c.lastBatch = time.Now()
}

func (c *committer) gather(first saveReq) []saveReq {
	group := append(c.group[:0], first)
	defer func() { c.group = group }()
	for len(group) < maxGroup {
		select {
		case r, ok := <-c.reqs:
			if !ok {
				return group
			}
			group = append(group, r)
		default:
			return group
		}
	}
	return group
}

// commit checks a group's saves in arrival order (two saves of one uid keep
// their order), writes those that pass as one batch, and answers each.
func (c *committer) commit(group []saveReq) {
	if c.broken != nil {
		for _, r := range group {
			r.err <- c.broken
		}
		return
	}
	accepted, entries := c.accepted[:0], c.entries[:0]
	defer func() { c.accepted, c.entries = accepted, entries }()
	for _, r := range group {
		cur, err := c.currentWrites(r.uid)
		if err != nil {
			r.err <- err
			continue
		}
		if cur != r.rec.Writes {
			r.err <- caiquan.ErrStale
			continue
		}
		stored := r.rec
		stored.Writes++
		c.writes[r.uid] = stored.Writes
		accepted = append(accepted, r)
		entries = append(entries, journalEntry{uid: r.uid, rec: stored})
	}
	if len(entries) == 0 {
		return
	}
	c.buf = appendBatch(c.buf[:0], entries)
	usable, err := c.j.write(c.buf)
	if err != nil {
		if !usable {
			c.broken = err
		}
		for _, r := range accepted {
			delete(c.writes, r.uid) // read again from what is stored
			r.err <- err
		}
		return
	}
	c.view.Lock()
	if len(c.pending) == 0 {
		c.since = time.Now()
	}
	for _, e := range entries {
		c.pending[e.uid] = e.rec
	}
	c.view.Unlock()
	for _, r := range accepted {
		r.err <- nil
	}
	if len(c.writes) > writesCacheSize {
		clear(c.writes)
	}
}

// currentWrites is the Writes of the record a save of uid must replace.
func (c *committer) currentWrites(uid string) (int64, error) {
	if w, ok := c.writes[uid]; ok {
		return w, nil
	}
	if rec, ok := c.pending[uid]; ok {
		return rec.Writes, nil
	}
	if rec, ok := c.flushing[uid]; ok {
		return rec.Writes, nil
	}
	var rec caiquan.PlayerRecord
	err := c.db.View(func(tx *bbolt.Tx) error {
		var err error
		rec, _, err = get(tx, uid)
		return err
	})
	return rec.Writes, err
}

// startFlush seals the open segment and writes what the journal holds to
// bbolt in the background; saves go on into a new segment meanwhile.
func (c *committer) startFlush() {
	if c.flushDone != nil {
		c.flushAgain = true
		return
	}
	c.covered, c.waiting = c.waiting, nil
	c.hurry.Store(c.waitingHurried)
	c.waitingHurried = false
	if len(c.pending) == 0 && c.flushing == nil {
		c.flushEnded(nil)
		return
	}
	if len(c.pending) > 0 {
		next, err := startSegment(c.prefix, c.j.seq+1)
		if err != nil {
			c.flushEnded(err)
			return
		}
		c.j.close()
		c.sealed = append(c.sealed, c.j.seq)
		c.j = next
		c.view.Lock()
		if c.flushing == nil {
			c.flushing = c.pending
		} else { // a failed flush's saves, and the newer ones over them
			for uid, rec := range c.pending {
				c.flushing[uid] = rec
			}
		}
		c.pending = make(map[string]caiquan.PlayerRecord)
		c.view.Unlock()
	}
	done := make(chan error, 1)
	c.flushDone = done
	go func(records map[string]caiquan.PlayerRecord, sealed []uint64) {
		err := writeRecords(c.db, records, &c.hurry)
		if err == nil {
			// Here, not in run, which every save waits for: unlinking a
			// segment took 44 ms in play10k (on a disk mounted with
			// discard), a stall of every settlement.
			err = removeSegments(c.prefix, sealed)
		}
		done <- err
	}(c.flushing, slices.Clone(c.sealed))
}

// flushEnded forgets the segments bbolt now holds (the flush removed them),
// answers whoever waited for this flush, and starts the next one if it was
// asked for meanwhile. After a failed flush, flushing stays for the next.
func (c *committer) flushEnded(err error) {
	c.flushDone = nil
	if err == nil && len(c.sealed) > 0 {
		c.sealed = nil
		c.view.Lock()
		c.flushing = nil
		c.view.Unlock()
	}
	for _, w := range c.covered {
		w <- err
	}
	c.covered = nil
	if c.flushAgain || len(c.waiting) > 0 {
		c.flushAgain = false
		c.startFlush()
	}
}

// flushChunk is how many records one bbolt transaction takes in a flush.
// bbolt holds every page a transaction touches in memory until it commits;
// smaller transactions, in key order, touch each page about as often and
// keep the peak (and the resident memory it leaves) small.
const flushChunk = 1024

// flushPause is how long a paced flush rests after each transaction, in
// multiples of the transaction's time.
//
// A flush of 10,000 players' records takes about half a second of CPU
// (BenchmarkSaveDuringFlush), on top of a server and a load tool that fill
// two cores to about two thirds: flat out, it delayed a second of rounds in
// play10k, as a collection does. Resting three times as long as it works,
// it takes at most a quarter of a core, for four times as long. Nobody
// waits for a flush by the journal's age or size; a leaderboard read or
// Close waits, and hurries it.
const flushPause = 3

// writeRecords writes records to bbolt in key order, flushChunk per
// transaction. Between two transactions it pauses (flushPause) unless hurry
// is true; with a nil hurry (Open's replay, which everything waits for) it
// never does. A pause already begun is slept out. A write cut short is
// simply done again: putNewer skips what bbolt has.
func writeRecords(db *bbolt.DB, records map[string]caiquan.PlayerRecord, hurry *atomic.Bool) error {
	uids := make([]string, 0, len(records))
	for uid := range records {
		uids = append(uids, uid)
	}
	slices.Sort(uids)
	for len(uids) > 0 {
		chunk := uids[:min(flushChunk, len(uids))]
		uids = uids[len(chunk):]
		start := time.Now()
		err := db.Update(func(tx *bbolt.Tx) error {
			for _, uid := range chunk {
				if err := putNewer(tx, uid, records[uid]); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		if len(uids) > 0 && hurry != nil && !hurry.Load() {
			time.Sleep(flushPause * time.Since(start))
		}
	}
	return nil
}

// finish waits for a running flush, then flushes the rest, so a closed
// store leaves no journal behind.
func (c *committer) finish() error {
	c.hurry.Store(true)
	c.waitingHurried = true // for a flush asked for meanwhile, started below
	for c.flushDone != nil {
		c.flushEnded(<-c.flushDone)
	}
	last := make(chan error, 1)
	c.waiting = append(c.waiting, last)
	c.waitingHurried = true
	c.startFlush()
	for c.flushDone != nil {
		c.flushEnded(<-c.flushDone)
	}
	err := <-last
	if cerr := c.j.close(); err == nil && cerr != nil {
		err = fmt.Errorf("bolt: journal: %w", cerr)
	}
	if err == nil {
		err = removeSegments(c.prefix, []uint64{c.j.seq})
	}
	return err
}

// close lets the saves already sent finish, writes them all to bbolt, and
// refuses new saves.
func (c *committer) close() error {
	c.hurry.Store(true) // a flush that runs is waited for now
	c.mu.Lock()
	if !c.closed {
		c.closed = true
		close(c.reqs)
	}
	c.mu.Unlock()
	<-c.done
	return c.closeErr
}

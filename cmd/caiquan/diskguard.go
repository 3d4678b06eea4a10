package main

import (
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/caiquan/caiquan/actors"
	"github.com/caiquan/caiquan/metrics"
)

// Pebble v2.1.7 ends the process when a WAL write or sync fails ("fatal
// commit error"), as it does on a full disk. The guard keeps the server
// from getting there: below store_min_free_mib of free space it seats no
// new rounds, and it deletes a ballast file it made at start, so the
// rounds in progress have room for their saves. Once there is room for
// the ballast again above the threshold, it remakes it and seats again.

const (
	// diskCheckEvery is how often the guard looks at the free space.
	diskCheckEvery = time.Second
	// diskLogEvery bounds how often it repeats that space is low.
	diskLogEvery = time.Minute
	ballastName  = "caiquan-ballast"
)

type diskGuard struct {
	dir     string // the store's directory
	min     uint64 // bytes
	ballast int64  // bytes
	srv     *actors.Server
	m       *metrics.Metrics
	log     *slog.Logger
	free    func(dir string) (uint64, error)

	low     bool
	lastLog time.Time
	stop    chan struct{}
	done    chan struct{}
}

// startDiskGuard makes the ballast (half of minMiB) and starts watching.
func startDiskGuard(dir string, minMiB int, srv *actors.Server, m *metrics.Metrics, log *slog.Logger) (*diskGuard, error) {
	g := &diskGuard{dir: dir, min: uint64(minMiB) << 20, ballast: max(int64(minMiB)<<19, 1<<20), srv: srv, m: m, log: log,
		free: freeBytes, stop: make(chan struct{}), done: make(chan struct{})}
	if err := g.makeBallast(); errors.Is(err, syscall.ENOSPC) {
		// Start held rather than not at all: check sees the space is low.
		log.Warn("store: no room for the disk-space ballast", "dir", dir, "err", err)
	} else if err != nil {
		return nil, err
	}
	g.check(time.Now())
	go g.run()
	return g, nil
}

func (g *diskGuard) run() {
	defer close(g.done)
	t := time.NewTicker(diskCheckEvery)
	defer t.Stop()
	for {
		select {
		case <-g.stop:
			return
		case now := <-t.C:
			g.check(now)
		}
	}
}

func (g *diskGuard) close() {
	close(g.stop)
	<-g.done
}

func (g *diskGuard) check(now time.Time) {
	free, err := g.free(g.dir)
	if err != nil {
		if now.Sub(g.lastLog) >= diskLogEvery {
			g.lastLog = now
			g.log.Warn("store: cannot read the free disk space", "dir", g.dir, "err", err)
		}
		return
	}
	switch {
	case !g.low && free < g.min:
		g.low = true
		g.srv.HoldSeating("the server is low on disk space")
		g.m.StoreLowSpace.Set(1)
		released := os.Remove(g.path()) == nil
		g.lastLog = now
		g.log.Error("store: low on disk space: no new rounds are seated until space is freed",
			"dir", g.dir, "free_mib", free>>20, "store_min_free_mib", g.min>>20, "ballast_released", released)
	case g.low && free >= g.min+uint64(g.ballast):
		if err := g.makeBallast(); err != nil {
			return // tried again next time
		}
		if free, err = g.free(g.dir); err != nil || free < g.min {
			return
		}
		g.low = false
		g.srv.ResumeSeating()
		g.m.StoreLowSpace.Set(0)
		g.log.Info("store: disk space is back: seating new rounds again", "dir", g.dir, "free_mib", free>>20)
	case g.low && now.Sub(g.lastLog) >= diskLogEvery:
		g.lastLog = now
		g.log.Warn("store: still low on disk space: no new rounds are seated", "dir", g.dir, "free_mib", free>>20,
			"store_min_free_mib", g.min>>20)
	}
}

func (g *diskGuard) path() string { return filepath.Join(g.dir, ballastName) }

// makeBallast reserves its space with fallocate (a sparse file would
// reserve nothing); a ballast there already is kept.
func (g *diskGuard) makeBallast() error {
	if st, err := os.Stat(g.path()); err == nil && st.Size() == g.ballast {
		return nil
	}
	f, err := os.OpenFile(g.path(), os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	err = syscall.Fallocate(int(f.Fd()), 0, 0, g.ballast)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(g.path())
		return errors.Join(errors.New("store: making the disk-space ballast "+g.path()), err)
	}
	return nil
}

func freeBytes(dir string) (uint64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, err
	}
	return st.Bavail * uint64(st.Bsize), nil
}

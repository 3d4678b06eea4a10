package cluster

import (
	"context"
	"fmt"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

const (
	// pauseTick is how often the pause watch looks at the clock.
	pauseTick = 100 * time.Millisecond
	// etcdProbeEvery and etcdProbeTimeout pace the check of our own key.
	etcdProbeEvery   = 250 * time.Millisecond
	etcdProbeTimeout = time.Second
)

// watchPauses fences this member after a stall longer than the pause
// limit: a stopped process (SIGSTOP, a frozen VM, a long swap) cannot know
// what the others decided meanwhile. The monotonic clock keeps running
// while the process is stopped, so the gap between two ticks shows it.
func (n *Node) watchPauses() {
	defer n.wg.Done()
	limit := n.cfg.pauseLimit()
	t := time.NewTicker(pauseTick)
	defer t.Stop()
	last := time.Now()
	n.lastTick.Store(last.UnixNano())
	for {
		select {
		case <-n.stop:
			return
		case now := <-t.C:
			if gap := now.Sub(last); gap > limit {
				n.Fence(fmt.Sprintf("this process stalled for %v, longer than %v: the others may have dropped it", gap.Round(time.Millisecond), limit))
			}
			// After the fence: MaySeat reads this tick as "awake".
			last = now
			n.lastTick.Store(now.UnixNano())
		}
	}
}

// startEtcdWatch remembers the revision at which our member key was made
// and checks it from then on: a key that is gone, or that was made again
// (the library's keep-alive re-registers after its lease expired,
// etcd_provider.go:175-188), means the others saw us leave and blocked us
// for good (member_list.go:143-145). So does losing etcd for longer than
// the lease: we can no longer know whether it expired.
func (n *Node) startEtcdWatch(ctx context.Context) error {
	n.memberKey = etcdBaseKey + "/" + n.cfg.Name + "/" + n.cfg.Name + "@" + n.system.ID
	resp, err := n.etcd.Get(ctx, n.memberKey)
	if err != nil {
		return fmt.Errorf("cluster: read this member's key from etcd: %w", err)
	}
	if len(resp.Kvs) == 0 {
		return fmt.Errorf("%w (%s)", errNotMember, n.memberKey)
	}
	created := resp.Kvs[0].CreateRevision
	n.wg.Add(1)
	go n.probeEtcd(created)
	return nil
}

func (n *Node) probeEtcd(created int64) {
	defer n.wg.Done()
	t := time.NewTicker(etcdProbeEvery)
	defer t.Stop()
	lastContact := time.Now()
	for {
		select {
		case <-n.stop:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), etcdProbeTimeout)
		resp, err := n.etcd.Get(ctx, n.memberKey, clientv3.WithSerializable())
		cancel()
		if n.stopping.Load() {
			return
		}
		switch {
		case err != nil:
			if since := time.Since(lastContact); since > etcdLeaseTTL {
				n.Fence(fmt.Sprintf("no answer from etcd for %v, longer than the %v membership lease: %v", since.Round(time.Millisecond), etcdLeaseTTL, err))
			}
			continue
		case len(resp.Kvs) == 0:
			n.Fence(fmt.Sprintf("etcd no longer lists this member (%s): its lease expired and the others dropped it", n.memberKey))
		case resp.Kvs[0].CreateRevision != created:
			n.Fence(fmt.Sprintf("etcd lists this member under a new registration (revision %d, was %d): its lease expired and the others dropped it", resp.Kvs[0].CreateRevision, created))
		}
		lastContact = time.Now()
	}
}

package main

import (
	"math/bits"
	"sync/atomic"
	"time"
)

// hist is a lock-free log-linear histogram of durations, HDR-style: exact
// below 256 µs, then 128 buckets per power of two, so a percentile is off by
// less than 0.8 %. Negative values (a result that arrives before the
// deadline as the client computed it) have their own buckets. Its size is
// fixed, whatever the number of samples.
type hist struct {
	pos, neg [histBuckets]atomic.Uint64
	n        atomic.Uint64
	max      atomic.Int64 // µs
}

const (
	subBits     = 7
	subCount    = 1 << subBits // buckets per power of two
	linearLimit = 2 * subCount // exact below this many µs
	histBuckets = linearLimit + 40*subCount
)

func bucketOf(us uint64) int {
	if us < linearLimit {
		return int(us)
	}
	e := bits.Len64(us) - (subBits + 1)
	i := linearLimit + (e-1)*subCount + int(us>>e) - subCount
	return min(i, histBuckets-1)
}

// bucketValue is the middle of bucket i, in µs.
func bucketValue(i int) uint64 {
	if i < linearLimit {
		return uint64(i)
	}
	e := (i-linearLimit)/subCount + 1
	m := uint64((i-linearLimit)%subCount + subCount)
	return m<<e + (1<<e)/2
}

func (h *hist) record(d time.Duration) {
	us := d.Microseconds()
	if us < 0 {
		h.neg[bucketOf(uint64(-us))].Add(1)
	} else {
		h.pos[bucketOf(uint64(us))].Add(1)
	}
	h.n.Add(1)
	for {
		old := h.max.Load()
		if us <= old || h.max.CompareAndSwap(old, us) {
			break
		}
	}
}

// quantile is the q-th quantile (0 < q ≤ 1); zero when empty.
func (h *hist) quantile(q float64) time.Duration {
	n := h.n.Load()
	if n == 0 {
		return 0
	}
	rank := uint64(q*float64(n) + 0.5)
	rank = max(rank, 1)
	var seen uint64
	for i := histBuckets - 1; i >= 0; i-- {
		if seen += h.neg[i].Load(); seen >= rank {
			return -time.Duration(bucketValue(i)) * time.Microsecond
		}
	}
	for i := range histBuckets {
		if seen += h.pos[i].Load(); seen >= rank {
			return time.Duration(bucketValue(i)) * time.Microsecond
		}
	}
	return time.Duration(h.max.Load()) * time.Microsecond
}

// counts copies the buckets, for quantiles over a window (see since).
func (h *hist) counts() *histCounts {
	c := &histCounts{}
	for i := range histBuckets {
		c.pos[i], c.neg[i] = h.pos[i].Load(), h.neg[i].Load()
	}
	return c
}

type histCounts struct{ pos, neg [histBuckets]uint64 }

// countSince is how many samples were recorded between the snapshot prev
// and the snapshot now.
func countSince(now, prev *histCounts) uint64 {
	var n uint64
	for i := range histBuckets {
		n += now.pos[i] - prev.pos[i] + now.neg[i] - prev.neg[i]
	}
	return n
}

// quantileSince is the q-th quantile of what was recorded between the
// snapshot prev and the snapshot now.
func quantileSince(now, prev *histCounts, q float64) time.Duration {
	n := countSince(now, prev)
	if n == 0 {
		return 0
	}
	rank := max(uint64(q*float64(n)+0.5), 1)
	var seen uint64
	for i := histBuckets - 1; i >= 0; i-- {
		if seen += now.neg[i] - prev.neg[i]; seen >= rank {
			return -time.Duration(bucketValue(i)) * time.Microsecond
		}
	}
	for i := range histBuckets {
		if seen += now.pos[i] - prev.pos[i]; seen >= rank {
			return time.Duration(bucketValue(i)) * time.Microsecond
		}
	}
	return 0
}

// dist is a histogram's summary in the report, in milliseconds.
type dist struct {
	Count uint64  `json:"count"`
	P50   float64 `json:"p50_ms"`
	P99   float64 `json:"p99_ms"`
	Max   float64 `json:"max_ms"`
}

func (h *hist) summary() dist {
	n := h.n.Load()
	if n == 0 {
		return dist{}
	}
	return dist{Count: n, P50: ms(h.quantile(0.50)), P99: ms(h.quantile(0.99)), Max: ms(time.Duration(h.max.Load()) * time.Microsecond)}
}

// distSince summarizes what was recorded between the snapshots prev and
// now; its max is the middle of the highest bucket, within 0.8 %.
func distSince(now, prev *histCounts) dist {
	n := countSince(now, prev)
	if n == 0 {
		return dist{}
	}
	return dist{Count: n, P50: ms(quantileSince(now, prev, 0.50)), P99: ms(quantileSince(now, prev, 0.99)),
		Max: ms(quantileSince(now, prev, 1))}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

package rules

import "testing"

// BenchmarkSettle scores a room of the default size and a full one.
func BenchmarkSettle(b *testing.B) {
	for _, n := range []int{2, 16} {
		prev := make([]Standing, n)
		hands := make([]Hand, n)
		for i := range n {
			prev[i] = Standing{Total: int32(10 * i), Streak: int32(i % 4)}
			hands[i] = Hand(i % 4) // None included
		}
		b.Run(map[int]string{2: "seats=2", 16: "seats=16"}[n], func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				Settle(prev, hands)
			}
		})
	}
}

//go:build !linux

package memguard

// residentBytes is unknown here: the Go runtime's own figure stands alone.
func residentBytes() uint64 { return 0 }

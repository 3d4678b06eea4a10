//go:build !linux

package gateway

// parker is Linux only (epoll); elsewhere readers wait themselves.
type parker struct{}

func theParker() *parker                 { return nil }
func (*parker) add(*conn)                {}
func (*parker) arm(*netConn, bool) error { return nil }
func (*parker) forget(*conn)             {}

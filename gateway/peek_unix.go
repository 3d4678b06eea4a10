//go:build unix

package gateway

import "syscall"

const canPeek = true

// peekWouldBlock says whether the socket has nothing to read yet.
func peekWouldBlock(fd uintptr) bool {
	var b [1]byte
	_, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
	return err == syscall.EAGAIN || err == syscall.EWOULDBLOCK
}

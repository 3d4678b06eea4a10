//go:build !unix

package gateway

const canPeek = false

func peekWouldBlock(uintptr) bool { return false }

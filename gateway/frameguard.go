package gateway

import (
	"errors"
	"fmt"
	"io"
)

// errFrameTooBig is what the reader gets once a client's message is over
// the limit. It is sticky: nothing of that message reaches gorilla.
var errFrameTooBig = errors.New("gateway: message over the frame limit")

// errControlTooBig is errFrameTooBig for a control frame over the 125
// bytes RFC 6455 allows them (gorilla would answer 1002 and reset).
var errControlTooBig = fmt.Errorf("%w: a control frame over %d bytes", errFrameTooBig, maxControlPayload)

const maxControlPayload = 125

// drainMax bounds what the close of an oversized message discards while
// it waits for the client's close frame (besides the close grace).
const drainMax = 64 << 20

// frameGuard sits between the socket and the read buffer gorilla reads
// through, and follows the client's frames as their bytes arrive: it
// learns a message's size from its frame headers, before any of its
// payload is read. gorilla v1.5.3's own read limit acts only once the
// frame is being read, sends its 1009 without a reason and leaves the
// rest unread, so closing the socket resets it and the client sees 1006;
// here the reader instead gets errFrameTooBig at the header, the close
// path sends 1009 with a reason, and drain discards the rest, frame by
// frame, until the client's close frame.
//
// A header is parsed a byte at a time, so it may be split across reads.
// Reader role only; 40 bytes, as every connection has one (netConn
// passes the socket in rather than keep it twice).
type frameGuard struct {
	hdrN   uint8  // header bytes seen of the frame being parsed; 0 between
	hdrLen uint8  // the header's whole length, known from its second byte
	ext    uint8  // bytes of extended payload length after the second
	b0     byte   // FIN, RSV and opcode
	limit  uint32 // the largest message, in payload bytes
	plen   uint64 // the payload length being read from the header
	left   uint64 // payload bytes still to come of the current frame
	msg    uint64 // payload bytes of the current data message so far

	tooBig    bool // a message went over the limit: reads fail from there
	control   bool // the frame that did was a control frame
	closeSeen bool // the client's close frame has come whole
}

const (
	opContinuation = 0x0
	opText         = 0x1
	opBinary       = 0x2
	opClose        = 0x8
)

// read reads from src into p, handing on only what may go to gorilla.
func (f *frameGuard) read(src io.Reader, p []byte) (int, error) {
	if f.tooBig {
		return 0, f.err()
	}
	n, err := src.Read(p)
	if at := f.scan(p[:n]); at >= 0 {
		return at, f.err()
	}
	return n, err
}

func (f *frameGuard) err() error {
	if f.control {
		return errControlTooBig
	}
	return errFrameTooBig
}

// scan follows p's frames. It returns the offset in p before which the
// bytes may be handed on, when a header in p puts a message over the
// limit, and -1 otherwise. Bytes of a header begun in an earlier read
// have been handed on; that header is left incomplete for gorilla, which
// then stops at the error.
func (f *frameGuard) scan(p []byte) int {
	at := -1
	start := 0 // where the header being parsed began in p
	for i := 0; i < len(p); {
		if f.left > 0 {
			n := uint64(len(p) - i)
			if n > f.left {
				n = f.left
			}
			i += int(n)
			f.left -= n
			if f.left == 0 && f.b0&0x0f == opClose {
				f.closeSeen = true
			}
			continue
		}
		if f.hdrN == 0 {
			start = i
		}
		b := p[i]
		i++
		switch f.hdrN {
		case 0:
			f.b0, f.plen, f.hdrLen = b, 0, 2 // until the second byte tells
		case 1:
			switch l := b & 0x7f; l {
			case 126:
				f.ext = 2
			case 127:
				f.ext = 8
			default:
				f.ext, f.plen = 0, uint64(l)
			}
			f.hdrLen = 2 + f.ext
			if b&0x80 != 0 { // masked, as a client's frames must be
				f.hdrLen += 4
			}
		default:
			if f.hdrN < 2+f.ext {
				f.plen = f.plen<<8 | uint64(b)
			}
		}
		f.hdrN++
		if f.hdrN < f.hdrLen {
			continue
		}
		f.hdrN = 0
		f.left = f.plen
		switch f.b0 & 0x0f {
		case opText, opBinary:
			f.msg = f.plen
		case opContinuation:
			f.msg += f.plen
		default: // control frames: ping, pong, close
			if f.plen > maxControlPayload && !f.tooBig {
				f.tooBig, f.control = true, true
				at = start
			}
			if f.b0&0x0f == opClose && f.plen == 0 {
				f.closeSeen = true
			}
			continue
		}
		if f.msg > uint64(f.limit) && !f.tooBig {
			f.tooBig = true
			at = start
		}
	}
	return at
}

// drain discards what the client sends after an oversized message, frame
// by frame, until its close frame has come whole (the close handshake is
// then complete and the socket can close without a reset), the socket's
// read deadline (the close grace) passes, or drainMax bytes were read.
func (f *frameGuard) drain(src io.Reader) {
	buf := make([]byte, 16<<10)
	for read := 0; !f.closeSeen && read < drainMax; {
		n, err := src.Read(buf)
		read += n
		f.scan(buf[:n])
		if err != nil {
			return
		}
	}
}

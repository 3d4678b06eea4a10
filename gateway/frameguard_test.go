package gateway

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"testing"
)

// clientFrame is a masked frame header (zero key) and payload as a client sends it.
func clientFrame(fin bool, op byte, payload []byte) []byte {
	b0 := op
	if fin {
		b0 |= 0x80
	}
	var h []byte
	switch n := len(payload); {
	case n < 126:
		h = []byte{b0, 0x80 | byte(n)}
	case n <= 0xffff:
		h = []byte{b0, 0x80 | 126, 0, 0}
		binary.BigEndian.PutUint16(h[2:], uint16(n))
	default:
		h = make([]byte, 10)
		h[0], h[1] = b0, 0x80|127
		binary.BigEndian.PutUint64(h[2:], uint64(n))
	}
	h = append(h, 0, 0, 0, 0)
	return append(h, payload...)
}

// chunkConn hands out its data in reads of at most chunk bytes.
type chunkConn struct {
	net.Conn
	data  []byte
	chunk int
}

func (c *chunkConn) Read(p []byte) (int, error) {
	if len(c.data) == 0 {
		return 0, io.EOF
	}
	n := min(len(p), c.chunk, len(c.data))
	copy(p, c.data[:n])
	c.data = c.data[n:]
	return n, nil
}

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(p []byte) (int, error) { return f(p) }

// TestFrameGuard: whatever the read sizes, the guard hands on exactly the
// bytes before the header that puts a message over the limit, counting
// fragments together and control frames apart; after that it fails every
// read, and drain finds the client's close frame behind the rest.
func TestFrameGuard(t *testing.T) {
	const limit = 300
	small := bytes.Repeat([]byte("a"), 200)
	tests := []struct {
		name   string
		frames [][]byte
		ok     int // frames handed on whole before the error; -1: no error
		// closes says the offending frame is itself a close frame: the
		// drain stops after it.
		closes bool
	}{
		{"under the limit", [][]byte{clientFrame(true, opText, small), clientFrame(true, opBinary, make([]byte, limit))}, -1, false},
		{"one frame over (16-bit length)", [][]byte{clientFrame(true, opText, small), clientFrame(true, opBinary, make([]byte, limit+1))}, 1, false},
		{"one frame over (64-bit length)", [][]byte{clientFrame(true, opBinary, make([]byte, 70000))}, 0, false},
		{"fragments add up", [][]byte{clientFrame(false, opText, small), clientFrame(true, opContinuation, small)}, 1, false},
		{"pings between fragments do not count", [][]byte{
			clientFrame(false, opText, small[:150]), clientFrame(true, 0x9, small[:100]),
			clientFrame(true, opContinuation, small[:150]), clientFrame(true, opText, small),
		}, -1, false},
		{"a ping over 125 bytes", [][]byte{clientFrame(true, opText, small), clientFrame(true, 0x9, make([]byte, 126))}, 1, false},
		{"a close frame over 125 bytes", [][]byte{clientFrame(true, opClose, make([]byte, 1<<20))}, 0, true},
		{"each message counts alone", [][]byte{clientFrame(true, opText, small), clientFrame(true, opText, small), clientFrame(true, opText, small)}, -1, false},
	}
	for _, tt := range tests {
		for _, chunk := range []int{1, 3, 7, 512, 1 << 20} {
			var stream []byte
			for _, f := range tt.frames {
				stream = append(stream, f...)
			}
			tail := clientFrame(true, opBinary, make([]byte, 1000))                  // more of what the client sends
			closing := clientFrame(true, opClose, []byte{0x03, 0xe8})                // its close frame
			stream = append(append(append(stream, tail...), closing...), "after"...) // bytes after it stay unread
			src := &chunkConn{data: stream, chunk: chunk}
			g := &frameGuard{limit: limit}
			got, err := io.ReadAll(readerFunc(func(p []byte) (int, error) { return g.read(src, p) }))
			want := 0
			for _, f := range tt.frames[:max(tt.ok, 0)] {
				want += len(f)
			}
			if tt.ok < 0 {
				// The tail frame itself is over the limit.
				for _, f := range tt.frames {
					want += len(f)
				}
			}
			// The offending frame's header may be handed on in part (when
			// it spans reads), never whole: gorilla cannot start on it.
			hdr := 6
			switch stream[want+1] & 0x7f {
			case 126:
				hdr += 2
			case 127:
				hdr += 8
			}
			if !errors.Is(err, errFrameTooBig) || len(got) < want || len(got) >= want+hdr || !bytes.Equal(got, stream[:len(got)]) {
				t.Errorf("%s, reads of %d: handed on %d bytes with %v, want %d to %d and errFrameTooBig", tt.name, chunk, len(got), err, want, want+hdr-1)
				continue
			}
			if n, err := g.read(src, make([]byte, 10)); n != 0 || !errors.Is(err, errFrameTooBig) {
				t.Errorf("%s: a read after the error gave %d, %v", tt.name, n, err)
			}
			g.drain(src)
			if tt.closes {
				if !g.closeSeen || len(src.data) > len(stream)-want-len(tt.frames[0]) {
					t.Errorf("%s, reads of %d: drain stopped with closeSeen %v and %d bytes unread, want it to stop after the close frame", tt.name, chunk, g.closeSeen, len(src.data))
				}
				continue
			}
			if !g.closeSeen || len(src.data) > len("after") {
				t.Errorf("%s, reads of %d: drain stopped with closeSeen %v and %d bytes unread, want the close frame read and only what follows it left", tt.name, chunk, g.closeSeen, len(src.data))
			}
		}
	}
}

//go:build !race

package gateway

import (
	"fmt"
	"io"
	"net"
	"runtime"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"google.golang.org/protobuf/proto"

	"github.com/caiquan/caiquan/messages"
)

// allocBudgets are the most allocations each wire may make to encode one
// server message into its frame, or to decode one client frame. Allocation
// counts do not vary from machine to machine as times do, so a change that
// adds allocations on a hot path fails here with the numbers (make
// bench-check). Lower a budget when a change earns it. (Built without
// -race: the race detector's sync.Pool drops buffers at random.)
var allocBudgets = map[string]float64{
	"binary/encode/start": 0, "binary/encode/movement": 0, "binary/encode/result": 0,
	"json/encode/start": 0, "json/encode/movement": 0, "json/encode/result": 0,
	"eio3/encode/start": 0, "eio3/encode/movement": 0, "eio3/encode/result": 0,
	"eio4/encode/start": 0, "eio4/encode/movement": 0, "eio4/encode/result": 0,
	"binary/decode/choice": 3, "json/decode/choice": 3, "eio3/decode/choice": 3, "eio4/decode/choice": 3,
	"binary/decode/join": 3, "json/decode/join": 3, "eio3/decode/join": 3, "eio4/decode/join": 3,
}

func TestAllocationBudgets(t *testing.T) {
	wires := map[string]func() wire{
		"binary": func() wire { return newOursWire(true) },
		"json":   func() wire { return newOursWire(false) },
		"eio3":   func() wire { return newEIO3Wire() },
		"eio4":   func() wire { return newEIO4Wire("sid", false, time.Second, time.Second, 4096) },
	}
	bodies := map[string]*messages.Envelope{"start": benchStart, "movement": benchMovement, "result": benchResult}
	choice := map[string][]byte{
		"binary": benchProto(benchChoice), "json": []byte(`{"choice":{"choice":2}}`),
		"eio3": []byte(`42["choice",{"choice":2}]`), "eio4": []byte(`42["choice",{"choice":2}]`),
	}
	join := map[string][]byte{
		"binary": benchProto(&messages.Envelope{Body: &messages.Envelope_Join{Join: &messages.Join{}}}),
		"json":   []byte(`{"join":{}}`), "eio3": []byte(`42["join"]`), "eio4": []byte(`42["join",{}]`),
	}
	got := map[string]float64{}
	for name, newWire := range wires {
		w := newWire()
		if name == "eio4" {
			w.decode(websocket.TextMessage, []byte("40")) // in the namespace: events pass
		}
		for body, env := range bodies {
			got[name+"/encode/"+body] = testing.AllocsPerRun(200, func() {
				f, err := w.encode(env)
				if err != nil || len(f.data) == 0 {
					t.Fatalf("%s: %s not encoded: %v", name, body, err)
				}
				if f.pooled != nil {
					framePool.Put(f.pooled) // as the writer does once it wrote the frame
				}
			})
		}
		kind := websocket.TextMessage
		if name == "binary" {
			kind = websocket.BinaryMessage
		}
		got[name+"/decode/choice"] = testing.AllocsPerRun(200, func() {
			if in := w.decode(kind, choice[name]); in.env == nil {
				t.Fatalf("%s: choice not decoded: %+v", name, in)
			}
		})
		got[name+"/decode/join"] = testing.AllocsPerRun(200, func() {
			if in := w.decode(kind, join[name]); in.env.GetJoin() == nil {
				t.Fatalf("%s: join not decoded: %+v", name, in)
			}
		})
	}
	for key, budget := range allocBudgets {
		n, ok := got[key]
		switch {
		case !ok:
			t.Errorf("%s: budget for nothing measured", key)
		case n > budget:
			t.Errorf("%s: %v allocations, budget %v", key, n, budget)
		}
	}
	for key := range got {
		if _, ok := allocBudgets[key]; !ok {
			t.Errorf("%s: measured, no budget", key)
		}
	}
	if t.Failed() || testing.Verbose() {
		for key, n := range got {
			fmt.Printf("%-24s %v (budget %v)\n", key, n, allocBudgets[key])
		}
	}
}

// upgradeBytesBudget is the most heap one /ws upgrade may allocate on the
// server and a raw client (about 300 bytes of it), hello and hi included,
// idle sessions behind it. net/http's own 8 KiB of buffers for each
// connection it serves are not among them (front.go).
const upgradeBytesBudget = 7 << 10

func TestUpgradeAllocationBudget(t *testing.T) {
	opener := &idleOpener{}
	addr := serveFrontWith(t, opener, nil)
	hello, _ := proto.Marshal(&messages.Envelope{Body: &messages.Envelope_Hello{Hello: &messages.Hello{User: &messages.User{Uid: "u", Uname: "u"}}}})
	frame := append([]byte{0x82, 0x80 | byte(len(hello)), 0, 0, 0, 0}, hello...)
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	upgrade := func() {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		fmt.Fprintf(c, "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
			"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
		var head [129]byte // the 101 answer, read to its end
		if _, err := io.ReadFull(c, head[:]); err != nil || string(head[9:12]) != "101" {
			t.Fatalf("upgrade: %q, %v", head, err)
		}
		c.Write(frame)
		var hi [2]byte
		if _, err := io.ReadFull(c, hi[:]); err != nil || hi[0] != 0x82 {
			t.Fatalf("no hi: % x, %v", hi, err)
		}
	}
	for range 20 {
		upgrade() // warm up pools and workers
	}
	const n = 200
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for range n {
		upgrade()
	}
	runtime.ReadMemStats(&after)
	per := (after.TotalAlloc - before.TotalAlloc) / n
	t.Logf("%d bytes allocated per upgrade (budget %d)", per, upgradeBytesBudget)
	if per > upgradeBytesBudget {
		t.Fatalf("%d bytes allocated per upgrade, budget %d", per, upgradeBytesBudget)
	}
}

//go:build !race

package gateway

import (
	"fmt"
	"testing"
	"time"

	"github.com/gorilla/websocket"

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
}

func TestAllocationBudgets(t *testing.T) {
	wires := map[string]func() wire{
		"binary": func() wire { return newOursWire(true) },
		"json":   func() wire { return newOursWire(false) },
		"eio3":   func() wire { return newEIO3Wire() },
		"eio4":   func() wire { return newEIO4Wire(time.Second, time.Second, 4096) },
	}
	bodies := map[string]*messages.Envelope{"start": benchStart, "movement": benchMovement, "result": benchResult}
	choice := map[string][]byte{
		"binary": benchProto(benchChoice), "json": benchJSON(benchChoice),
		"eio3": []byte(`42["choice",{"choice":2}]`), "eio4": []byte(`42["choice",{"choice":2}]`),
	}
	got := map[string]float64{}
	for name, newWire := range wires {
		w := newWire()
		for body, env := range bodies {
			got[name+"/encode/"+body] = testing.AllocsPerRun(200, func() {
				f, err := w.encode(env)
				if err != nil {
					t.Fatal(err)
				}
				if f.pooled != nil {
					framePool.Put(f.pooled) // as the writer does once it wrote the frame
				}
			})
		}
		if name == "eio4" {
			w.decode(websocket.TextMessage, []byte("40")) // connect to the namespace first
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

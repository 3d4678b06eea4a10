package e2e

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/caiquan/caiquan/internal/testing/testserver"
	"github.com/gorilla/websocket"
)

const waitTime = 10 * time.Second

// wsClient speaks JSON on a socket: /ws envelopes, or Socket.IO events.
type wsClient struct {
	t  *testing.T
	ws *websocket.Conn
	io bool // Socket.IO framing
}

func dial(t *testing.T, url string) *wsClient {
	t.Helper()
	ws, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	t.Cleanup(func() { ws.Close() })
	return &wsClient{t: t, ws: ws, io: strings.Contains(url, "EIO=")}
}

// send writes one message: {"name": body} on /ws, 42["name",body] on Socket.IO.
func (c *wsClient) send(name string, body any) {
	c.t.Helper()
	b, _ := json.Marshal(body)
	frame := `{"` + name + `":` + string(b) + `}`
	if c.io {
		frame = `42["` + name + `",` + string(b) + `]`
	}
	if err := c.ws.WriteMessage(websocket.TextMessage, []byte(frame)); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

func (c *wsClient) raw(frame string) {
	c.t.Helper()
	if err := c.ws.WriteMessage(websocket.TextMessage, []byte(frame)); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// next returns the next message's name and body, skipping Engine.IO
// control packets.
func (c *wsClient) next() (string, map[string]any) {
	c.t.Helper()
	for {
		c.ws.SetReadDeadline(time.Now().Add(waitTime))
		_, data, err := c.ws.ReadMessage()
		if err != nil {
			c.t.Fatalf("read: %v", err)
		}
		if c.io {
			rest, ok := strings.CutPrefix(string(data), "42")
			if !ok {
				continue // open packet, 40, pings
			}
			var args []json.RawMessage
			if err := json.Unmarshal([]byte(rest), &args); err != nil || len(args) < 2 {
				c.t.Fatalf("bad event %q", data)
			}
			var name string
			var body map[string]any
			json.Unmarshal(args[0], &name)
			json.Unmarshal(args[1], &body)
			return name, body
		}
		var env map[string]json.RawMessage
		if err := json.Unmarshal(data, &env); err != nil {
			c.t.Fatalf("bad envelope %q: %v", data, err)
		}
		for name, raw := range env {
			if name == "seq" {
				continue // the envelope's number, beside its one body
			}
			var body map[string]any
			if err := json.Unmarshal(raw, &body); err != nil {
				c.t.Fatalf("bad envelope %q: %v", data, err)
			}
			return name, body
		}
	}
}

// expect waits for a message named name, skipping movements and queue
// acknowledgements; anything else fails the test.
func (c *wsClient) expect(name string) map[string]any {
	c.t.Helper()
	for {
		n, body := c.next()
		if n == name {
			return body
		}
		if n != "movement" && n != "queued" {
			c.t.Fatalf("got %s %v while waiting for %s", n, body, name)
		}
	}
}

// expectError waits for an error with the given code.
func (c *wsClient) expectError(code string) {
	c.t.Helper()
	if body := c.expect("error"); body["code"] != code {
		c.t.Fatalf("error %v; want code %s", body, code)
	}
}

func hello(uid, token string) map[string]any {
	h := map[string]any{"user": map[string]any{"uid": uid, "uname": "N" + uid, "uavatar": ""}}
	if token != "" {
		h["token"] = token
	}
	return h
}

// tally is a player's total and streak as a result or hi says.
type tally struct{ total, streak int }

// playRound joins, chooses rock, and returns the player's line of the result.
func (c *wsClient) playRound(uid string) tally {
	c.t.Helper()
	c.send("join", map[string]any{})
	c.expect("start")
	c.send("choice", map[string]any{"choice": 2})
	res := c.expect("result")
	for _, line := range res["result"].([]any) {
		l := line.(map[string]any)
		if l["uid"] == uid {
			return tally{int(l["totalScore"].(float64)), int(l["winStreak"].(float64))}
		}
	}
	c.t.Fatalf("result without %s: %v", uid, res)
	return tally{}
}

// getJSON fetches url and decodes its JSON body.
func getJSON(t *testing.T, method, url, body string) (int, map[string]any) {
	t.Helper()
	return doJSON(t, method, url, "", body)
}

// adminJSON is getJSON against s's admin API, with its token and a JSON
// body, as the admin API requires.
func adminJSON(t *testing.T, s *testserver.Server, method, path, body string) (int, map[string]any) {
	t.Helper()
	return doJSON(t, method, "http://"+s.AdminAddr()+path, s.AdminToken(), body)
}

func doJSON(t *testing.T, method, url, token, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatalf("%s %s: not JSON: %q", method, url, data)
	}
	return resp.StatusCode, out
}

var base64URL = base64.RawURLEncoding

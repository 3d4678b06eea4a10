package e2e

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/caiquan/caiquan/messages"
	"github.com/gorilla/websocket"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

const (
	dialTimeout  = 5 * time.Second
	writeTimeout = 5 * time.Second
	eventTimeout = 5 * time.Second // default wait for an answer that should come at once
)

// event is one message from the server as a client saw it.
type event struct {
	name   string             // the Envelope body's field name: "hi", "start", "error", …
	env    *messages.Envelope // decoded
	raw    json.RawMessage    // the payload: as on the wire (Socket.IO) or protojson of the body (/ws)
	binary bool               // /ws only: it came in a binary frame
	at     time.Time          // when the client read it
	// notBefore, for a start that seat() waited for, is when the last join
	// went out: the round cannot have begun earlier.
	notBefore time.Time
}

func (e event) String() string {
	f := ""
	if e.binary {
		f = " (binary)"
	}
	return fmt.Sprintf("%s %s%s @%s", e.name, e.raw, f, e.at.Format("15:04:05.000"))
}

// closeInfo is how a connection ended, as the client's reader saw it.
type closeInfo struct {
	code   int // the close frame's code; 1006 if the socket died without one
	reason string
	err    error
	at     time.Time
}

// wire is the part every test client shares: one reader goroutine that
// appends decoded events to a log, and waits that poll that log.
type wire struct {
	label string
	ws    *websocket.Conn
	wmu   sync.Mutex // one writer at a time

	// decode turns a frame into zero or more events; it reports a frame a
	// real client could not have handled as a problem.
	decode func(mt int, data []byte) ([]event, []string)

	mu       sync.Mutex
	events   []event
	cursor   int // await scans from here
	changed  chan struct{}
	closed   *closeInfo
	problems []string
	started  bool          // the reader runs
	done     chan struct{} // closed when the reader ends
}

func newWire(t *testing.T, label string, ws *websocket.Conn, decode func(int, []byte) ([]event, []string)) *wire {
	w := &wire{label: label, ws: ws, decode: decode, changed: make(chan struct{}), done: make(chan struct{})}
	t.Cleanup(func() {
		w.close()
		for _, p := range w.problemList() {
			t.Errorf("%s: %s", w.label, p)
		}
		if t.Failed() {
			t.Logf("%s saw:\n%s", w.label, w.dump())
		}
	})
	return w
}

func (w *wire) start() {
	w.mu.Lock()
	w.started = true
	w.mu.Unlock()
	go w.read()
}

func (w *wire) read() {
	defer close(w.done)
	for {
		mt, data, err := w.ws.ReadMessage()
		now := time.Now()
		if err != nil {
			ci := &closeInfo{code: 0, err: err, at: now}
			var ce *websocket.CloseError
			if errors.As(err, &ce) {
				ci.code, ci.reason = ce.Code, ce.Text
			}
			w.mu.Lock()
			w.closed = ci
			w.notifyLocked()
			w.mu.Unlock()
			return
		}
		evs, probs := w.decode(mt, data)
		w.mu.Lock()
		for i := range evs {
			evs[i].at = now
		}
		w.events = append(w.events, evs...)
		w.problems = append(w.problems, probs...)
		w.notifyLocked()
		w.mu.Unlock()
	}
}

func (w *wire) notifyLocked() {
	close(w.changed)
	w.changed = make(chan struct{})
}

// write sends one frame.
func (w *wire) write(mt int, data []byte) error {
	w.wmu.Lock()
	defer w.wmu.Unlock()
	_ = w.ws.SetWriteDeadline(time.Now().Add(writeTimeout))
	return w.ws.WriteMessage(mt, data)
}

// close says goodbye politely and waits for the reader.
func (w *wire) close() {
	w.mu.Lock()
	started := w.started
	w.mu.Unlock()
	if !started {
		_ = w.ws.Close()
		return
	}
	_ = w.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, "test over"), time.Now().Add(time.Second))
	select {
	case <-w.done:
	case <-time.After(time.Second):
	}
	_ = w.ws.Close()
	<-w.done
}

// drop kills the TCP connection without a close frame, like a phone losing signal.
func (w *wire) drop() {
	_ = w.ws.NetConn().Close()
	<-w.done
}

// await returns the first not yet consumed event that matches, skipping the
// others (they stay in the log for log()).
func (w *wire) await(timeout time.Duration, what string, match func(event) bool) (event, error) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		w.mu.Lock()
		for i := w.cursor; i < len(w.events); i++ {
			if match(w.events[i]) {
				w.cursor = i + 1
				ev := w.events[i]
				w.mu.Unlock()
				return ev, nil
			}
		}
		if w.closed != nil {
			ci := *w.closed
			w.mu.Unlock()
			return event{}, fmt.Errorf("%s: connection closed (code %d, reason %q, %v) while waiting for %s", w.label, ci.code, ci.reason, ci.err, what)
		}
		ch := w.changed
		w.mu.Unlock()
		select {
		case <-ch:
		case <-deadline.C:
			return event{}, fmt.Errorf("%s: no %s within %v", w.label, what, timeout)
		}
	}
}

// awaitSeen waits until some event in the whole log, consumed or not,
// matches; it does not move the cursor.
func (w *wire) awaitSeen(timeout time.Duration, what string, match func(event) bool) (event, error) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		w.mu.Lock()
		for _, e := range w.events {
			if match(e) {
				w.mu.Unlock()
				return e, nil
			}
		}
		if w.closed != nil {
			ci := *w.closed
			w.mu.Unlock()
			return event{}, fmt.Errorf("%s: connection closed (code %d, reason %q, %v) while waiting for %s", w.label, ci.code, ci.reason, ci.err, what)
		}
		ch := w.changed
		w.mu.Unlock()
		select {
		case <-ch:
		case <-deadline.C:
			return event{}, fmt.Errorf("%s: no %s within %v", w.label, what, timeout)
		}
	}
}

// awaitName waits for the next event called name.
func (w *wire) awaitName(timeout time.Duration, name string) (event, error) {
	return w.await(timeout, name, func(e event) bool { return e.name == name })
}

// awaitError waits for an error event with the given code.
func (w *wire) awaitError(timeout time.Duration, code string) (event, error) {
	return w.await(timeout, "error "+code, func(e event) bool { return e.name == "error" && e.env.GetError().GetCode() == code })
}

// awaitClose waits for the connection to end.
func (w *wire) awaitClose(timeout time.Duration) (closeInfo, error) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		w.mu.Lock()
		if w.closed != nil {
			ci := *w.closed
			w.mu.Unlock()
			return ci, nil
		}
		ch := w.changed
		w.mu.Unlock()
		select {
		case <-ch:
		case <-deadline.C:
			return closeInfo{}, fmt.Errorf("%s: still open after %v", w.label, timeout)
		}
	}
}

// closedInfo returns how the connection ended, or nil while it is open.
func (w *wire) closedInfo() *closeInfo {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed == nil {
		return nil
	}
	ci := *w.closed
	return &ci
}

// log returns a copy of every event so far.
func (w *wire) log() []event {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]event(nil), w.events...)
}

func (w *wire) problemList() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.problems...)
}

// dump renders the log for a failure report: the last dumpEvents events.
func (w *wire) dump() string {
	const dumpEvents = 200
	var b strings.Builder
	log := w.log()
	if len(log) > dumpEvents {
		fmt.Fprintf(&b, "  … %d earlier events\n", len(log)-dumpEvents)
		log = log[len(log)-dumpEvents:]
	}
	for _, e := range log {
		fmt.Fprintf(&b, "  %s\n", e)
	}
	if ci := w.closedInfo(); ci != nil {
		fmt.Fprintf(&b, "  closed: code %d reason %q err %v @%s\n", ci.code, ci.reason, ci.err, ci.at.Format("15:04:05.000"))
	}
	return b.String()
}

// bodyName is the field name of env's body ("hello", "start", …).
func bodyName(env *messages.Envelope) string {
	m := env.ProtoReflect()
	fd := m.WhichOneof(m.Descriptor().Oneofs().ByName("body"))
	if fd == nil {
		return ""
	}
	return string(fd.Name())
}

// bodyMessage returns env's body message.
func bodyMessage(env *messages.Envelope) protoreflect.Message {
	m := env.ProtoReflect()
	fd := m.WhichOneof(m.Descriptor().Oneofs().ByName("body"))
	if fd == nil {
		return nil
	}
	return m.Get(fd).Message()
}

// compactJSON marshals a proto message to single-line JSON; with all it also
// writes fields that hold their zero value.
func compactJSON(m proto.Message, all bool) []byte {
	b, err := protojson.MarshalOptions{EmitUnpopulated: all}.Marshal(m)
	if err != nil {
		panic(err)
	}
	var out bytes.Buffer
	if err := json.Compact(&out, b); err != nil {
		panic(err)
	}
	return out.Bytes()
}

// ---- Engine.IO 3: the 2016 mini-program ----

// eio3Frame is the demo client's frame parser, /^(\d)(\d?)(.*)$/, with
// JavaScript's meaning: "." matches no line terminator (\n, \r, U+2028,
// U+2029), so a frame that carries one raw fails to match and the client
// throws.
var eio3Frame = regexp.MustCompile(`^([0-9])([0-9]?)([^\n\r\x{2028}\x{2029}]*)$`)

// eio3Client behaves like the 2016 mini-program's Socket.IO client: it never
// pings, never reconnects, and treats any frame it could not have parsed, any
// ack id and any server ping as a failure of the test.
type eio3Client struct {
	*wire
	rawMu sync.Mutex
	raws  []string // every text frame, in order
}

type dialOpts struct {
	header  http.Header // e.g. Origin
	noHello bool        // do not send hello on open (to test what comes before it)
	// onPing, if set, sees every WebSocket ping; answer says whether to pong.
	onPing func() (answer bool)
}

// handlePings installs o.onPing on ws; without it gorilla's default answers.
func (o dialOpts) handlePings(ws *websocket.Conn) {
	if o.onPing == nil {
		return
	}
	ws.SetPingHandler(func(data string) error {
		if !o.onPing() {
			return nil
		}
		err := ws.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(writeTimeout))
		if errors.Is(err, websocket.ErrCloseSent) {
			return nil
		}
		if ne, ok := err.(interface{ Timeout() bool }); ok && ne.Timeout() {
			return nil
		}
		return err
	})
}

// dialEIO3 opens the demo client's socket and, as the demo does, sends hello
// for u at once, before reading anything.
func dialEIO3(t *testing.T, s *server, u *messages.User, o dialOpts) *eio3Client {
	t.Helper()
	c, err := tryDialEIO3(t, s, u, o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func tryDialEIO3(t *testing.T, s *server, u *messages.User, o dialOpts) (*eio3Client, error) {
	ws, resp, err := s.dialer().Dial(s.eio3URL(), o.header)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		return nil, &dialError{status: status, err: err}
	}
	o.handlePings(ws)
	c := &eio3Client{}
	label := "eio3"
	if u != nil {
		label += " " + u.GetUid()
	}
	c.wire = newWire(t, label, ws, c.decode)
	if !o.noHello {
		if err := c.emit("hello", compactJSON(&messages.Hello{User: u}, true)); err != nil {
			return nil, err
		}
	}
	c.start()
	return c, nil
}

type dialError struct {
	status int
	err    error
}

func (e *dialError) Error() string { return fmt.Sprintf("dial: status %d: %v", e.status, e.err) }

func (c *eio3Client) decode(mt int, data []byte) ([]event, []string) {
	if mt != websocket.TextMessage {
		return nil, []string{fmt.Sprintf("binary frame %q: the demo client handles text frames only", data)}
	}
	frame := string(data)
	c.rawMu.Lock()
	first := len(c.raws) == 0
	c.raws = append(c.raws, frame)
	c.rawMu.Unlock()
	m := eio3Frame.FindStringSubmatch(frame)
	if m == nil {
		return nil, []string{fmt.Sprintf("frame %q does not match the demo client's /^(\\d)(\\d?)(.*)$/ (in JavaScript \".\" matches no \\n, \\r, U+2028, U+2029): it would throw", frame)}
	}
	typ, sub, rest := m[1], m[2], m[3]
	switch {
	case typ == "0" && sub == "":
		if !first {
			return nil, []string{fmt.Sprintf("a second open packet %q", frame)}
		}
		return []event{{name: "eio:open", raw: json.RawMessage(rest)}}, nil
	case typ == "3" && sub == "" && rest == "":
		return []event{{name: "eio:pong"}}, nil
	case typ == "4" && sub == "0" && rest == "":
		return []event{{name: "sio:connect"}}, nil
	case typ == "4" && sub == "2":
		if !strings.HasPrefix(rest, "[") {
			return nil, []string{fmt.Sprintf("event frame %q carries an ack id or is not an array: the demo client would misread it", frame)}
		}
		var arr []json.RawMessage
		if err := json.Unmarshal([]byte(rest), &arr); err != nil || len(arr) == 0 || len(arr) > 2 {
			return nil, []string{fmt.Sprintf("event frame %q is not [name] or [name, payload]", frame)}
		}
		var name string
		if err := json.Unmarshal(arr[0], &name); err != nil {
			return nil, []string{fmt.Sprintf("event frame %q: the name is not a string", frame)}
		}
		payload := json.RawMessage("{}")
		if len(arr) == 2 {
			payload = arr[1]
		}
		env := &messages.Envelope{}
		wrapped := append(append([]byte(`{"`+name+`":`), payload...), '}')
		if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(wrapped, env); err != nil || bodyName(env) != name {
			return nil, []string{fmt.Sprintf("event frame %q: not a known server event (%v)", frame, err)}
		}
		return []event{{name: name, env: env, raw: payload}}, nil
	case typ == "2":
		return nil, []string{fmt.Sprintf("server ping %q: the demo client ignores it, a server that waits for the answer drops it", frame)}
	default:
		return nil, []string{fmt.Sprintf("packet %q: only 0{…}, 40, 3 and 42[…] may be sent to the demo client", frame)}
	}
}

// rawFrames returns every text frame so far.
func (c *eio3Client) rawFrames() []string {
	c.rawMu.Lock()
	defer c.rawMu.Unlock()
	return append([]string(nil), c.raws...)
}

// emit sends 42["name",payload], or 42["name"] when payload is nil.
func (c *eio3Client) emit(name string, payload []byte) error {
	frame := `42["` + name + `"`
	if payload != nil {
		frame += "," + string(payload)
	}
	return c.write(websocket.TextMessage, []byte(frame+"]"))
}

// sendText sends any text frame.
func (c *eio3Client) sendText(s string) error { return c.write(websocket.TextMessage, []byte(s)) }

// send maps an Envelope to the event the demo client would emit.
func (c *eio3Client) send(env *messages.Envelope) error {
	name := bodyName(env)
	switch name {
	case "join", "leave":
		return c.emit(name, nil) // the demo sends 42["join"], 42["leave"]
	default:
		return c.emit(name, compactJSON(bodyMessage(env).Interface(), true))
	}
}

// ---- /ws: our protocol ----

type oursClient struct {
	*wire
	mu   sync.Mutex
	json bool // send text (protojson) frames instead of binary
}

// dialOurs connects to /ws; with asJSON it asks for ?format=json and sends text frames.
func dialOurs(t *testing.T, s *server, asJSON bool, o dialOpts) *oursClient {
	t.Helper()
	c, err := tryDialOurs(t, s, asJSON, o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func tryDialOurs(t *testing.T, s *server, asJSON bool, o dialOpts) (*oursClient, error) {
	url := s.wsURL("/ws")
	label := "ws-binary"
	if asJSON {
		url += "?format=json"
		label = "ws-json"
	}
	ws, resp, err := s.dialer().Dial(url, o.header)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		return nil, &dialError{status: status, err: err}
	}
	o.handlePings(ws)
	c := &oursClient{json: asJSON}
	c.wire = newWire(t, label, ws, c.decode)
	c.start()
	return c, nil
}

func (c *oursClient) decode(mt int, data []byte) ([]event, []string) {
	env := &messages.Envelope{}
	var err error
	switch mt {
	case websocket.BinaryMessage:
		err = proto.Unmarshal(data, env)
	case websocket.TextMessage:
		err = protojson.Unmarshal(data, env)
	}
	if err != nil {
		return nil, []string{fmt.Sprintf("undecodable frame %q: %v", data, err)}
	}
	name := bodyName(env)
	if name == "" {
		return nil, []string{fmt.Sprintf("frame %q has no body", data)}
	}
	return []event{{name: name, env: env, raw: compactJSON(bodyMessage(env).Interface(), false), binary: mt == websocket.BinaryMessage}}, nil
}

func (c *oursClient) send(env *messages.Envelope) error {
	c.mu.Lock()
	asJSON := c.json
	c.mu.Unlock()
	if asJSON {
		return c.write(websocket.TextMessage, compactJSON(env, false))
	}
	b, err := proto.Marshal(env)
	if err != nil {
		return err
	}
	return c.write(websocket.BinaryMessage, b)
}

// setJSON switches the format of the frames the client sends.
func (c *oursClient) setJSON(asJSON bool) {
	c.mu.Lock()
	c.json = asJSON
	c.mu.Unlock()
}

// ---- players: the game on any protocol ----

// sender is what a player needs from its connection.
type sender interface {
	send(env *messages.Envelope) error
}

// player is one person at the table, on any protocol.
type player struct {
	*wire
	conn sender
	user *messages.User
}

func newUser(name string) *messages.User {
	const digits = "0123456789abcdefghijklmnopqrstuvwxyz"
	uid := make([]byte, 12)
	for i := range uid {
		uid[i] = digits[rand.IntN(len(digits))]
	}
	return &messages.User{Uid: string(uid), Uname: name, Uavatar: "https://wx.qlogo.cn/mmopen/" + name + "/132"}
}

// demoPlayer connects like the 2016 mini-program (hello goes out on open).
func demoPlayer(t *testing.T, s *server, name string) *player {
	t.Helper()
	return demoPlayerAs(t, s, newUser(name))
}

func demoPlayerAs(t *testing.T, s *server, u *messages.User) *player {
	t.Helper()
	c := dialEIO3(t, s, u, dialOpts{})
	return &player{wire: c.wire, conn: c, user: u}
}

// oursPlayer connects to /ws and says hello.
func oursPlayer(t *testing.T, s *server, name string, asJSON bool) *player {
	t.Helper()
	return oursPlayerAs(t, s, newUser(name), asJSON)
}

func oursPlayerAs(t *testing.T, s *server, u *messages.User, asJSON bool) *player {
	t.Helper()
	c := dialOurs(t, s, asJSON, dialOpts{})
	p := &player{wire: c.wire, conn: c, user: u}
	p.must(t, p.send(&messages.Envelope{Body: &messages.Envelope_Hello{Hello: &messages.Hello{User: u}}}))
	return p
}

func (p *player) uid() string { return p.user.GetUid() }

func (p *player) send(env *messages.Envelope) error { return p.conn.send(env) }

func (p *player) must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func (p *player) join() error {
	return p.send(&messages.Envelope{Body: &messages.Envelope_Join{Join: &messages.Join{}}})
}

func (p *player) choose(c int32) error {
	return p.send(&messages.Envelope{Body: &messages.Envelope_Choice{Choice: &messages.Choice{Choice: c}}})
}

func (p *player) face(f int32) error {
	return p.send(&messages.Envelope{Body: &messages.Envelope_Face{Face: &messages.Face{Face: f}}})
}

func (p *player) leave() error {
	return p.send(&messages.Envelope{Body: &messages.Envelope_Leave{Leave: &messages.Leave{}}})
}

// hi waits for hi and returns it.
func (p *player) hi(t *testing.T) *messages.Hi {
	t.Helper()
	ev, err := p.awaitName(eventTimeout, "hi")
	if err != nil {
		t.Fatal(err)
	}
	return ev.env.GetHi()
}

// awaitStart waits for start.
func (p *player) awaitStart(timeout time.Duration) (event, error) {
	return p.awaitName(timeout, "start")
}

// awaitResult waits for the result of round id.
func (p *player) awaitResult(timeout time.Duration, roundID string) (event, error) {
	return p.await(timeout, "result of round "+roundID, func(e event) bool {
		return e.name == "result" && e.env.GetResult().GetRoundId() == roundID
	})
}

// roundEvents returns every start, result and void this player got for round id.
func (p *player) roundEvents(roundID string) []event {
	var out []event
	for _, e := range p.log() {
		if e.env.GetStart().GetRoundId() == roundID && e.name == "start" ||
			e.env.GetResult().GetRoundId() == roundID && e.name == "result" ||
			e.env.GetVoid().GetRoundId() == roundID && e.name == "void" {
			out = append(out, e)
		}
	}
	return out
}

// errorsSeen returns the codes of every error event so far.
func (p *player) errorsSeen() []string {
	var out []string
	for _, e := range p.log() {
		if e.name == "error" {
			out = append(out, e.env.GetError().GetCode())
		}
	}
	return out
}

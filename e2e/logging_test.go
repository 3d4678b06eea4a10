package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/caiquan/caiquan/actors"
	"github.com/caiquan/caiquan/admin"
	"github.com/caiquan/caiquan/internal/testing/testserver"
	"github.com/gorilla/websocket"
)

// logLine is one line of a server's log in json mode.
type logLine map[string]any

func (l logLine) str(key string) string { s, _ := l[key].(string); return s }

// jsonLog parses every line of a server's standard error as a JSON object
// with a time, a level and a message; any other line fails the test.
func jsonLog(t *testing.T, stderr string) []logLine {
	t.Helper()
	var out []logLine
	for i, raw := range strings.Split(strings.TrimRight(stderr, "\n"), "\n") {
		var l logLine
		if err := json.Unmarshal([]byte(raw), &l); err != nil {
			t.Errorf("stderr line %d is not JSON: %q: %v", i+1, raw, err)
			continue
		}
		if l.str("time") == "" || l.str("level") == "" || l.str("msg") == "" {
			t.Errorf("stderr line %d lacks time, level or msg: %s", i+1, raw)
		}
		out = append(out, l)
	}
	return out
}

// logHas polls s's log until a line holds every one of parts.
func logHas(t *testing.T, s *server, what string, parts ...string) {
	t.Helper()
	waitFor(t, 5*time.Second, what, func() bool {
		for _, line := range strings.Split(s.Stderr(), "\n") {
			all := true
			for _, p := range parts {
				all = all && strings.Contains(line, p)
			}
			if all {
				return true
			}
		}
		return false
	})
}

// In json mode every line on stderr is a JSON object, stdout keeps its
// plain lines, and the lines tie together: a round's lines carry round,
// a session's uid and conn, the gateway's lines about that connection the
// same conn; protoactor's note of a failed actor arrives as JSON marked
// lib=protoactor.
func TestLogsJSON(t *testing.T) {
	t.Parallel()
	s := startServer(t, "-log-format", "json", "-log-level", "debug", "-bot-fill", "100ms", "-round-time", "1s")
	if !strings.HasPrefix(s.Stdout(), "listening on 127.0.0.1:") {
		t.Fatalf("stdout %q does not start with its plain listening line", s.Stdout())
	}
	const uid = "logs-json-1"
	c := dial(t, s.wsURL("/ws?format=json"))
	c.send("hello", hello(uid, ""))
	c.expect("hi")
	played := playTo(t, c, "result")
	// A second round, whose room an operator kills by making it panic.
	killed := playTo(t, c, "start")
	if killed == played {
		t.Fatalf("two rounds with id %q", killed)
	}
	adm := &admin.Client{Addr: s.AdminAddr(), Token: s.AdminToken()}
	if _, err := adm.Kill(admin.KillRequest{Kind: actors.KindRoom, ID: killed, Mode: actors.KillPanic}); err != nil {
		t.Fatalf("kill room %s: %v", killed, err)
	}
	c.expect("void")
	logHas(t, s, "protoactor's recovery line", `"[ACTOR] Recovering"`)
	// A goodbye (1000) ends the session; a lost connection would keep it
	// for a resume.
	c.ws.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""))
	logHas(t, s, "the session's end", `"session: ended"`, uid)
	s.Stop()

	lines := jsonLog(t, s.Stderr())
	seen := map[string]bool{}
	var conn float64
	for _, l := range lines {
		msg := l.str("msg")
		switch {
		case strings.HasPrefix(msg, "room:"):
			r := l.str(actors.LogRound)
			if r != played && r != killed {
				t.Errorf("room line with round %q (rounds %s, %s): %v", r, played, killed, l)
			}
			seen[msg+" "+r] = true
		case strings.HasPrefix(msg, "session:"):
			id, ok := l[actors.LogConn].(float64)
			if l.str(actors.LogUID) != uid || !ok || id == 0 {
				t.Errorf("session line without uid %s and a conn: %v", uid, l)
			}
			if conn != 0 && id != conn {
				t.Errorf("session line with conn %v, earlier %v: %v", id, conn, l)
			}
			conn = id
			seen[msg] = true
			if msg == "session: seated" && l.str(actors.LogRound) == "" {
				t.Errorf("seated without its round: %v", l)
			}
		case msg == "[ACTOR] Recovering":
			if l.str("lib") != "protoactor" || l.str(actors.LogRound) != killed {
				t.Errorf("recovery line not marked lib=protoactor or not of room %s: %v", killed, l)
			}
			seen[msg] = true
		case msg == "admin: actor killed":
			if l.str(actors.LogRound) != killed {
				t.Errorf("the kill's line without round %s: %v", killed, l)
			}
			seen[msg] = true
		}
	}
	for _, want := range []string{
		"room: round started " + played, "room: round settled " + played,
		"room: round started " + killed, "room: round void " + killed,
		"session: hello accepted", "session: seated", "session: ended", "[ACTOR] Recovering", "admin: actor killed",
	} {
		if !seen[want] {
			t.Errorf("no line %q", want)
		}
	}
	// The gateway's own lines about the connection carry its conn.
	gw := map[string]bool{}
	for _, l := range lines {
		if strings.HasPrefix(l.str("msg"), "gateway: connection") && l[actors.LogConn] == conn {
			gw[l.str("msg")] = true
		}
	}
	if !gw["gateway: connection opened"] || !gw["gateway: connection closed"] {
		t.Errorf("gateway lines with conn %v: %v", conn, gw)
	}
	if t.Failed() {
		t.Logf("stderr:\n%s", s.Stderr())
	}
}

// playTo joins a round and returns its id once the client has the
// message named until: its start, or (choosing rock) its result.
func playTo(t *testing.T, c *wsClient, until string) string {
	t.Helper()
	c.send("join", map[string]any{})
	round, _ := c.expect("start")["roundId"].(string)
	if round == "" {
		t.Fatal("start without a roundId")
	}
	if until == "result" {
		c.send("choice", map[string]any{"choice": 2})
		c.expect("result")
	}
	return round
}

// A log_format the server does not know is refused before it starts, and
// the error names the setting.
func TestLogFormatRefusedByBinary(t *testing.T) {
	t.Parallel()
	for _, how := range []struct{ flag, env string }{{"yaml", ""}, {"", "yaml"}} {
		t.Run(fmt.Sprintf("flag=%q env=%q", how.flag, how.env), func(t *testing.T) {
			args := []string{"-listen", "127.0.0.1:0", "-admin-listen", "", "-metrics-listen", "", "-auth-mode", "anonymous", "-store", "memory"}
			if how.flag != "" {
				args = append(args, "-log-format", how.flag)
			}
			cmd := exec.Command(testserver.Binary(t), args...)
			cmd.Env = append(os.Environ(), "CAIQUAN_LOG_FORMAT="+how.env)
			b, err := cmd.CombinedOutput()
			out, code := string(b), cmd.ProcessState.ExitCode()
			if err != nil && code < 0 {
				t.Fatal(err)
			}
			if code != 2 || !strings.Contains(out, `log_format must be text or json, got "yaml"`) {
				t.Errorf("exit %d, output %q; want 2 and an error naming log_format", code, out)
			}
		})
	}
}

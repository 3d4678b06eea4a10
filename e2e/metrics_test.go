package e2e

import (
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/caiquan/caiquan/actors"
	"github.com/caiquan/caiquan/auth"
	"github.com/caiquan/caiquan/gateway"
	"github.com/caiquan/caiquan/internal/testing/testserver"
	"github.com/caiquan/caiquan/messages"
	"github.com/caiquan/caiquan/metrics"
	"github.com/caiquan/caiquan/store/pebble"
	"github.com/gorilla/websocket"
)

// samples reads s's /metrics: each sample line's series (name{labels}) and
// value. Labels are in the order Prometheus writes them: by name.
func samples(t *testing.T, s *testserver.Server) map[string]string {
	t.Helper()
	resp, err := http.Get("http://" + s.MetricsAddr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	out := map[string]string{}
	for _, line := range strings.Split(string(data), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		out[line[:i]] = line[i+1:]
	}
	return out
}

// series is name{k1="v1",...} with labels given in name order.
func series(name string, kv ...string) string {
	if len(kv) == 0 {
		return name
	}
	var b strings.Builder
	for i := 0; i < len(kv); i += 2 {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%s=%q", kv[i], kv[i+1])
	}
	return name + "{" + b.String() + "}"
}

// waitMetric polls s's metrics until series has the value want.
func waitMetric(t *testing.T, s *testserver.Server, series, want string) {
	t.Helper()
	var got string
	for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		if got = samples(t, s)[series]; got == want {
			return
		}
	}
	t.Fatalf("%s = %q, want %s", series, got, want)
}

// Every labelled series a server can produce is there, at zero, before
// anything happened: a rate() over a series born with its first event
// misses that event, and an alert on it never fires.
func TestMetricsStartAtZero(t *testing.T) {
	s := testserver.Start(t, "-auth-mode", "guest", "-auth-secrets", newKey)
	got := samples(t, s)
	want := map[string]string{
		"caiquan_cluster_members":                   "1",
		"caiquan_cluster_fenced":                    "0",
		"caiquan_cluster_peer_rtt_seconds_count":    "0",
		"caiquan_cluster_peer_probe_failures_total": "0",
		"caiquan_cluster_messages_withheld_total":   "0",
		"caiquan_store_stale_saves_total":           "0",
		"caiquan_rounds_settled_total":              "0",
		"caiquan_settlement_lag_seconds_count":      "0",
	}
	for _, p := range gateway.Protocols {
		want[series("caiquan_connections", "protocol", p)] = "0"
	}
	for _, r := range append([]string{metrics.RejectedFrameTooBig}, messages.Codes...) {
		want[series("caiquan_messages_rejected_total", "reason", r)] = "0"
	}
	for _, k := range actors.Kinds {
		want[series("caiquan_actor_restarts_total", "kind", k)] = "0"
		for _, m := range actors.KillModes {
			want[series("caiquan_actor_kills_total", "kind", k, "mode", m)] = "0"
		}
	}
	for _, op := range metrics.StoreOps {
		want[series("caiquan_store_errors_total", "op", op)] = "0"
	}
	for _, o := range auth.LoginOutcomes {
		want[series("caiquan_logins_total", "method", "wechat", "outcome", o)] = "0"
	}
	for _, o := range auth.GuestOutcomes {
		want[series("caiquan_logins_total", "method", "guest", "outcome", o)] = "0"
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %s", k, got[k], v)
		}
	}
	// The store's latency series exist for every op; the guest sweep at
	// start may already have timed an expire.
	for _, op := range metrics.StoreOps {
		if _, ok := got[series("caiquan_store_operation_seconds_count", "op", op)]; !ok {
			t.Errorf("no caiquan_store_operation_seconds for op %s", op)
		}
	}

	// build_info names what -version names.
	out, err := exec.Command(testserver.Binary(t), "-version").Output()
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`^caiquan (\S+) \(commit (\S+), (\S+)\)`).FindStringSubmatch(string(out))
	if m == nil {
		t.Fatalf("caiquan -version: %q", out)
	}
	if m[3] != runtime.Version() {
		t.Errorf("-version says %s, the toolchain that built it is %s", m[3], runtime.Version())
	}
	info := series("caiquan_build_info", "commit", m[2], "go", m[3], "version", m[1])
	if got[info] != "1" {
		t.Errorf("%s = %q, want 1; build_info series: %v", info, got[info], matching(got, "caiquan_build_info"))
	}
	if n := len(matching(got, "caiquan_build_info")); n != 1 {
		t.Errorf("%d build_info series, want 1", n)
	}
}

func matching(samples map[string]string, prefix string) []string {
	var out []string
	for k := range samples {
		if strings.HasPrefix(k, prefix) {
			out = append(out, k)
		}
	}
	return out
}

// A store read that fails counts as an error of its op; a leaderboard
// question about an unknown player is timed but is no error; a round that
// settles times its saves and fails none.
func TestMetricsStoreErrors(t *testing.T) {
	path := filepath.Join(t.TempDir(), "caiquan.db")
	db, err := pebble.Open(path, pebble.Options{})
	if err != nil {
		t.Fatal(err)
	}
	// A record of a newer version than this release reads: Load fails.
	if err := db.PutRaw("future", []byte(`{"v":2,"w":4,"total":40,"rounds":9,"recent":[]}`)); err != nil {
		t.Fatal(err)
	}
	db.Close()
	s := testserver.Start(t, "-store-path", path, "-bot-fill", "100ms", "-round-time", "500ms")
	c := dial(t, s.WSURL("/ws?format=json"))
	c.send("hello", hello("future", ""))
	c.expectError("server_busy")
	got := samples(t, s)
	if v := got[series("caiquan_store_errors_total", "op", "load")]; v == "0" || v == "" {
		t.Errorf("a failed load: caiquan_store_errors_total{op=load} = %q", v)
	}

	if status, _ := getJSON(t, http.MethodGet, s.URL+"/leaderboard/nobody", ""); status != 404 {
		t.Fatalf("leaderboard/nobody: %d, want 404", status)
	}
	waitMetric(t, s, series("caiquan_store_operation_seconds_count", "op", "around"), "1")

	other := dial(t, s.WSURL("/ws?format=json"))
	other.send("hello", hello("fine", ""))
	other.expect("hi")
	other.playRound("fine")
	waitMetric(t, s, "caiquan_rounds_settled_total", "1")
	got = samples(t, s)
	if v := got[series("caiquan_store_operation_seconds_count", "op", "save")]; v == "0" || v == "" {
		t.Errorf("a settled round saved nothing: caiquan_store_operation_seconds_count{op=save} = %q", v)
	}
	for _, op := range []string{"save", "around", "top"} {
		if v := got[series("caiquan_store_errors_total", "op", op)]; v != "0" {
			t.Errorf("caiquan_store_errors_total{op=%s} = %q, want 0", op, v)
		}
	}
	if v := got["caiquan_settlement_lag_seconds_count"]; v != "1" {
		t.Errorf("caiquan_settlement_lag_seconds_count = %q after one round, want 1", v)
	}
}

// Logins count by method and outcome: a new guest, a renewal and a forged
// token on /guest; a WeChat login and a refused one on /login.
func TestMetricsLogins(t *testing.T) {
	g := startGuestServer(t, []string{newKey})
	_, token := newGuest(t, g)
	if status, _ := postGuest(t, g, token); status != 200 {
		t.Fatalf("renewal: %d", status)
	}
	if status, _ := postGuest(t, g, token[:len(token)-2]+"xx"); status != 401 {
		t.Fatalf("forged token: %d, want 401", status)
	}
	for outcome, want := range map[string]string{"ok": "1", "renewed": "1", auth.CodeBadToken: "1", auth.CodeNotGuest: "0"} {
		waitMetric(t, g, series("caiquan_logins_total", "method", "guest", "outcome", outcome), want)
	}

	w := startWeChatServer(t)
	if status, body := login(t, w, "ok-oMetrics"); status != 200 {
		t.Fatalf("login: %d %v", status, body)
	}
	if status, _ := login(t, w, "err-40029"); status != 401 {
		t.Fatalf("bad code: %d, want 401", status)
	}
	for outcome, want := range map[string]string{"ok": "1", auth.CodeInvalidCode: "1", auth.CodeWeChatBusy: "0"} {
		waitMetric(t, w, series("caiquan_logins_total", "method", "wechat", "outcome", outcome), want)
	}
}

// A move relayed from one player to the other is timed, on each wire's
// path: the 2016 client's and ours.
func TestMetricsRelayLag(t *testing.T) {
	s := startServer(t)
	a := demoPlayer(t, s, "A")
	b := oursPlayer(t, s, "B", true)
	a.hi(t)
	b.hi(t)
	seat(t, []*player{a, b}, 30*time.Millisecond)
	if got := samples(t, s.Server)["caiquan_relay_lag_seconds_count"]; got != "0" {
		t.Fatalf("caiquan_relay_lag_seconds_count = %q before any move, want 0", got)
	}
	a.must(t, a.choose(2))
	if _, err := b.awaitSeen(eventTimeout, "A's movement", func(e event) bool { return e.name == "movement" && e.env.GetMovement().GetUid() == a.uid() }); err != nil {
		t.Fatal(err)
	}
	b.must(t, b.choose(3))
	if _, err := a.awaitSeen(eventTimeout, "B's movement", func(e event) bool { return e.name == "movement" && e.env.GetMovement().GetUid() == b.uid() }); err != nil {
		t.Fatal(err)
	}
	waitMetric(t, s.Server, "caiquan_relay_lag_seconds_count", "2")
	sum, _ := strconv.ParseFloat(samples(t, s.Server)["caiquan_relay_lag_seconds_sum"], 64)
	if sum <= 0 || sum > 2 {
		t.Errorf("two relays on loopback took %v s in all", sum)
	}
}

// A move sent with a Socket.IO acknowledgement (421["choice",…]) takes the
// gateway's acked path to its session: its relay is timed too.
func TestMetricsRelayLagAcked(t *testing.T) {
	s := startServer(t, "-bot-fill", "10s")
	ws, _, err := websocket.DefaultDialer.Dial(s.wsURL("/applet/websocket/socket.io/?EIO=4&transport=websocket"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	send := func(f string) {
		t.Helper()
		ws.SetWriteDeadline(time.Now().Add(writeTimeout))
		if err := ws.WriteMessage(websocket.TextMessage, []byte(f)); err != nil {
			t.Fatalf("send %q: %v", f, err)
		}
	}
	// await reads frames until one starts with prefix.
	await := func(prefix string) string {
		t.Helper()
		ws.SetReadDeadline(time.Now().Add(startTimeout))
		for {
			_, data, err := ws.ReadMessage()
			if err != nil {
				t.Fatalf("waiting for %s: %v", prefix, err)
			}
			if f := string(data); strings.HasPrefix(f, prefix) {
				return f
			}
		}
	}
	await("0{")
	send("40")
	await("40{")
	send(`42["hello",{"user":{"uid":"acked01","uname":"Acked","uavatar":""}}]`)
	await(`42["hi"`)
	b := oursPlayer(t, s, "B", true)
	b.hi(t)
	send(`42["join",{}]`)
	b.must(t, b.join())
	await(`42["start"`)
	if _, err := b.awaitStart(startTimeout); err != nil {
		t.Fatal(err)
	}
	send(`421["choice",{"choice":2}]`)
	if f := await("431"); !strings.HasPrefix(f, "431[") {
		t.Fatalf("ack: %q", f)
	}
	if _, err := b.awaitSeen(eventTimeout, "the acked player's movement", func(e event) bool {
		return e.name == "movement" && e.env.GetMovement().GetUid() == "acked01"
	}); err != nil {
		t.Fatal(err)
	}
	waitMetric(t, s.Server, "caiquan_relay_lag_seconds_count", "1")
}

package gateway

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// A token may come outside hello: in the URL on every endpoint, and in the
// Engine.IO 4 connect packet's auth. The gateway hands it to the session in
// the hello; a token in hello itself wins.
func TestTokenOutsideHello(t *testing.T) {
	ts := newTestServer(t, nil, nil)
	cases := []struct {
		name, path string
		frames     []string
		want       string
	}{
		{"ours ?token", "/ws?format=json&token=tq", []string{`{"hello":{"user":{"uid":"u"}}}`}, "tq"},
		{"ours hello wins", "/ws?format=json&token=tq", []string{`{"hello":{"user":{"uid":"u"},"token":"th"}}`}, "th"},
		{"eio3 ?token", "/applet/websocket/socket.io/?EIO=3&transport=websocket&token=t3", []string{`42["hello",{"user":{"uid":"u"}}]`}, "t3"},
		{"eio4 auth", "/applet/websocket/socket.io/?EIO=4&transport=websocket", []string{`40{"token":"t4"}`, `42["hello",{}]`}, "t4"},
		{"eio4 auth over ?token", "/applet/websocket/socket.io/?EIO=4&transport=websocket&token=tq", []string{`40{"token":"t4"}`, `42["hello",{}]`}, "t4"},
		{"eio4 ?token", "/applet/websocket/socket.io/?EIO=4&transport=websocket&token=tq", []string{`40`, `42["hello",{}]`}, "tq"},
		{"eio4 odd auth", "/applet/websocket/socket.io/?EIO=4&transport=websocket", []string{`40{"token":7}`, `42["hello",{}]`}, ""},
		{"none", "/ws?format=json", []string{`{"hello":{"user":{"uid":"u"}}}`}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ws := ts.dial(t, tc.path, nil)
			for _, f := range tc.frames {
				writeText(t, ws, f)
			}
			s := ts.session(t)
			env := s.next(t)
			if env.GetHello() == nil || env.GetHello().Token != tc.want {
				t.Fatalf("delivered %v; want a hello with token %q", env, tc.want)
			}
		})
	}
}

// WithRoute serves exact paths and, for a route ending in "/", the paths
// below it; the gateway's own routes stay its own.
func TestWithRoute(t *testing.T) {
	h := func(name string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, name+" "+r.URL.Path) })
	}
	ts := newTestServer(t, nil, func(g *Gateway) {
		WithRoute("/login", h("login"))(g)
		WithRoute("/board", h("board"))(g)
		WithRoute("/board/", h("board/"))(g)
		WithRoute("/healthz", h("nope"))(g)
	})
	for path, want := range map[string]string{
		"/login":     "login /login",
		"/board":     "board /board",
		"/board/ab":  "board/ /board/ab",
		"/login/x":   `{"code":"not_found"`,
		"/healthz":   `{"status":"ok"`,
		"/elsewhere": `{"code":"not_found"`,
		"/boardwalk": `{"code":"not_found"`,
	} {
		resp, err := http.Get(ts.srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.HasPrefix(string(body), want) {
			t.Errorf("GET %s = %q, want %q…", path, body, want)
		}
	}
}

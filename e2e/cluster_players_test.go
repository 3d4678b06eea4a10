//go:build !race

package e2e

import (
	"bytes"
	"image/color"
	"net/http"
	"strings"
	"testing"
)

// TestClusterPlayers: on two nodes sharing PostgreSQL, a picture uploaded
// on one is served by the other; a ban made on one node's admin API closes
// sockets on the other (whichever node keeps each player's actor) and is
// refused on both; DELETE /me on one node removes what the other served.
func TestClusterPlayers(t *testing.T) {
	const adminToken = "cluster-players-admin-token-0123456789"
	c := startCluster(t, 2, "-auth-mode", "guest", "-auth-secrets", newKey, "-admin-token", adminToken,
		"-round-time", "1s", "-bot-fill", "100ms")
	n0, n1 := c.nodes[0], c.nodes[1]

	uid, token := newGuest(t, n0.Server)
	status, body := upload(t, n0.Server, token, pngOf(t, picture(16, 16, color.White)), "")
	pic, _ := body["url"].(string)
	if status != 200 || pic == "" {
		t.Fatalf("upload on node 0: %d %v", status, body)
	}
	r0, d0 := fetch(t, n0.Server, pic)
	r1, d1 := fetch(t, n1.Server, pic)
	if r0.StatusCode != 200 || r1.StatusCode != 200 || !bytes.Equal(d0, d1) {
		t.Fatalf("GET %s: node 0 %d, node 1 %d, same bytes %v", pic, r0.StatusCode, r1.StatusCode, bytes.Equal(d0, d1))
	}

	// Four players online on node 0; their actors are spread over both
	// nodes by uid. Node 1's admin API bans each.
	type online struct {
		uid, token string
		c          *wsClient
	}
	var players []online
	for range 4 {
		u, tok := newGuest(t, n0.Server)
		cl, _ := greet(t, n0.Server, "", tok)
		players = append(players, online{u, tok, cl})
	}
	for _, p := range players {
		status, body := doJSON(t, http.MethodPost, "http://"+n1.AdminAddr()+"/players/"+p.uid+"/ban", adminToken, `{}`)
		if status != 200 || body["kicked"] != true {
			t.Fatalf("ban %s on node 1: %d %v", p.uid, status, body)
		}
		if code, errs := closedWith(t, p.c); code != 4005 || !strings.Contains(strings.Join(errs, ","), "banned") {
			t.Fatalf("%s's socket on node 0 closed with %d after %v; want 4005 after banned", p.uid, code, errs)
		}
		for _, n := range []*server{n0, n1} {
			cl := dial(t, n.WSURL("/ws?format=json"))
			cl.send("hello", hello("", p.token))
			cl.expectError("banned")
		}
	}

	// DELETE /me on node 1 removes the picture node 0 served.
	if status, body := meJSON(t, n1.Server, http.MethodDelete, "/me", token); status != 200 || body["deleted"] != uid {
		t.Fatalf("DELETE /me on node 1: %d %v", status, body)
	}
	if r, _ := fetch(t, n0.Server, pic); r.StatusCode != 404 {
		t.Errorf("node 0 still serves the deleted player's picture: %d", r.StatusCode)
	}
}

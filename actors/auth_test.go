package actors

import (
	"testing"
	"time"

	"github.com/caiquan/caiquan/auth"
	"github.com/caiquan/caiquan/messages"
)

func hello(uid, token string) *messages.Envelope {
	return &messages.Envelope{Body: &messages.Envelope_Hello{Hello: &messages.Hello{
		User: &messages.User{Uid: uid, Uname: "claimed"}, Token: token,
	}}}
}

// With auth on, the player is the token's subject, whatever uid the client
// claims; a missing, forged or expired token is refused with its own code
// and the same connection may say hello again.
func TestHelloNeedsAValidToken(t *testing.T) {
	signer, err := auth.NewSigner("0123456789abcdef0123456789abcdef", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	other, _ := auth.NewSigner("another secret, just as long as one", time.Minute)
	now := time.Now()
	s := testSettings()
	s.Auth = signer
	srv, _ := newTestServer(t, s)

	good, _ := signer.Issue(auth.Claims{Sub: "wx_real", Uname: "Login Name"}, now)
	forged, _ := other.Issue(auth.Claims{Sub: "wx_real"}, now)
	expired, _ := signer.Issue(auth.Claims{Sub: "wx_real"}, now.Add(-2*time.Minute))

	c := &client{t: t, conn: newFakeConn(), uid: "wx_real"}
	c.s = srv.OpenSession(c.conn)
	for _, tc := range []struct{ token, code string }{
		{"", messages.CodeTokenRequired},
		{forged, messages.CodeBadToken},
		{expired, messages.CodeTokenExpired},
		{"garbage", messages.CodeBadToken},
	} {
		c.send(hello("someone-else", tc.token))
		if env := c.expect("error:" + tc.code); env.GetError().Message == "" {
			t.Errorf("%s without a sentence", tc.code)
		}
	}
	c.send(&messages.Envelope{Body: &messages.Envelope_Join{Join: &messages.Join{}}})
	c.expect("error:" + messages.CodeHelloFirst)
	if closed, _ := c.conn.closeCode(); closed {
		t.Fatal("a refused hello closed the connection")
	}

	c.send(hello("someone-else", good))
	c.expect("hi")
	if _, _, ok := srv.d.inv.Find("", KindPlayer, "wx_real"); !ok {
		t.Fatal("no player actor for the token's subject")
	}
	if _, _, ok := srv.d.inv.Find("", KindPlayer, "someone-else"); ok {
		t.Fatal("the client's uid claim made a player")
	}
	c.join()
	start := c.expect("start")
	var seen bool
	for _, u := range start.GetStart().RoomUsers {
		if u.Uid == "wx_real" && u.Uname == "claimed" {
			seen = true
		}
	}
	if !seen {
		t.Fatalf("start does not seat wx_real under the hello's name: %v", start)
	}
}

// Anonymous clients cannot take a WeChat player's or a guest's uid.
func TestAnonymousCannotClaimWeChatUID(t *testing.T) {
	srv, _ := newTestServer(t, testSettings())
	c := &client{t: t, conn: newFakeConn(), uid: "wx_x"}
	c.s = srv.OpenSession(c.conn)
	c.send(hello("wx_0123", ""))
	c.expect("error:" + messages.CodeBadUser)
	c.send(hello("g_0123", ""))
	c.expect("error:" + messages.CodeBadUser)
	c.send(hello("plain", ""))
	c.expect("hi")
}

// Refused hellos do not hold a connection open: without an accepted hello
// within the handshake timeout, the session closes it with 4003.
func TestRefusedHellosStillTimeOut(t *testing.T) {
	signer, err := auth.NewSigner("0123456789abcdef0123456789abcdef", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	clock := newFakeClock()
	s := testSettings()
	s.Auth = signer
	s.Clock = clock
	s.HandshakeTimeout = 300 * time.Millisecond
	srv, _ := newTestServer(t, s)

	c := &client{t: t, conn: newFakeConn(), uid: "x"}
	c.s = srv.OpenSession(c.conn)
	c.send(hello("x", "garbage"))
	c.expect("error:" + messages.CodeBadToken)
	clock.Advance(s.HandshakeTimeout)
	eventually(t, "closed with 4003", func() bool {
		closed, code := c.conn.closeCode()
		return closed && code == messages.CloseHelloTimeout
	})

	good, _ := signer.Issue(auth.Claims{Sub: "wx_ok"}, clock.Now())
	ok := &client{t: t, conn: newFakeConn(), uid: "wx_ok"}
	ok.s = srv.OpenSession(ok.conn)
	ok.send(hello("", good))
	ok.expect("hi")
	clock.Advance(2 * s.HandshakeTimeout)
	// A timeout the clock ran would reach the session before this join.
	ok.join()
	ok.expect("queued")
	if closed, _ := ok.conn.closeCode(); closed {
		t.Fatal("a player with an accepted hello was cut off")
	}
}

package actors

import "github.com/caiquan/caiquan/messages"

// Conn is a client connection as a session actor sees it. The gateway
// implements it for every wire protocol; the session never knows which.
type Conn interface {
	// Send queues env for the client and never blocks. It returns false when
	// the connection is closed or its outbound queue is full; in the latter
	// case the connection closes itself as a slow consumer.
	Send(env *messages.Envelope) bool
	// Close ends the connection with a WebSocket close code and a reason.
	// It is idempotent and never blocks.
	Close(code int, reason string)
}

// Session is the gateway's handle on the session actor of one connection.
type Session interface {
	// Deliver hands a decoded client message to the session actor.
	Deliver(env *messages.Envelope)
	// Closed tells the session actor that the socket is gone; call it once.
	Closed(reason string)
}

// Opener makes the session actor for a new connection.
type Opener interface {
	OpenSession(conn Conn) Session
}

// AckSession is a Session that can say how it judged a client message, for
// protocols with acknowledgements (Socket.IO acks). ack is called once, on
// the session actor's goroutine: with an empty code when the message was
// taken, or with the error code and message it was refused with, which
// then goes to the client only through ack. Refusals that come later (a
// lobby that answers after the message was taken) are error messages as
// usual. A session that is gone never calls ack.
type AckSession interface {
	Session
	DeliverAck(env *messages.Envelope, ack func(code, message string))
}

// SocketIOConnect is a Socket.IO CONNECT to the default namespace, with
// what the session needs of its auth payload: the login token, and the pid
// and offset socket.io-client sends when it reconnects to recover its
// session (connection state recovery).
type SocketIOConnect struct {
	Token  string
	PID    string
	Offset string
}

// SocketIOSession is a Session that answers a Socket.IO CONNECT itself
// (through SocketIOConn.Connected): it gives the pid, or recovers the
// session a pid names.
type SocketIOSession interface {
	Session
	Connect(c SocketIOConnect)
}

// SocketIOConn is a Conn that carries Socket.IO. Connected answers the
// client's CONNECT; pid is empty when the server offers no recovery, and
// recovered says the connection now carries a recovered session, whose
// missed events follow (it needs no hello).
type SocketIOConn interface {
	Conn
	Connected(pid string, recovered bool)
}

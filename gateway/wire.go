package gateway

import (
	"github.com/gorilla/websocket"

	"github.com/caiquan/caiquan/actors"
	"github.com/caiquan/caiquan/messages"
)

// frame is one WebSocket data message, already encoded.
type frame struct {
	kind int // websocket.TextMessage or websocket.BinaryMessage
	data []byte
	// pooled is data's buffer from framePool, given back once the frame
	// is written (the writer copies it into its own buffer); nil: data
	// is the garbage collector's.
	pooled *[]byte
}

func textFrame(s string) frame { return frame{kind: websocket.TextMessage, data: []byte(s)} }

// wire is one protocol's codec together with its per-connection state.
// decode runs on the reader goroutine only; encode may run on any goroutine
// (the session actor's, through Conn.Send), so state shared by both is atomic.
type wire interface {
	// name labels the protocol in logs.
	name() string
	// greeting is written before the pumps start (Engine.IO's open packet).
	greeting() []frame
	// decode interprets one inbound data frame.
	decode(kind int, data []byte) inbound
	// encode renders a server message.
	encode(env *messages.Envelope) (frame, error)
	// heartbeat is an application-level ping sent beside each WebSocket
	// ping; ok is false for protocols without one.
	heartbeat() (f frame, ok bool)
}

// inbound is what one client frame asks the connection to do. At most one of
// env, reply, err and close is set; an all-zero inbound means ignore.
type inbound struct {
	env         *messages.Envelope // a client message for the session
	reply       *frame             // a protocol answer, such as an Engine.IO pong
	err         *DecodeError       // refused: answer with an Error envelope
	close       bool               // the client asked to disconnect, or broke the protocol
	closeReason string
	closeCode   int // with close; 0 is CloseNormal
	// ackID asks for an acknowledgement of env or err (a Socket.IO ACK
	// with this id): the session's verdict on env (deliverWithAck), or
	// err in place of the error event.
	ackID string
	// token is a session token the protocol carried outside hello (the
	// Engine.IO 4 connect packet's auth); it may come with reply.
	token string
	// connect is a Socket.IO CONNECT for a session that answers it
	// (actors.SocketIOSession); reply then holds the answer for one that
	// does not.
	connect *actors.SocketIOConnect
	// lost: the client's close packet came while it was in the
	// namespace: it may recover, as after a dropped connection.
	lost bool
}

func deliver(env *messages.Envelope) inbound { return inbound{env: env} }
func reply(f frame) inbound                  { return inbound{reply: &f} }
func refuse(err error) inbound {
	if de, ok := err.(*DecodeError); ok {
		return inbound{err: de}
	}
	return inbound{err: &DecodeError{Code: messages.CodeBadFrame, Message: err.Error()}}
}
func hangUp(reason string) inbound { return inbound{close: true, closeReason: reason} }

// Package gateway is the HTTP side of the server: routing, WebSocket
// upgrades, the wire codecs, and the limits that keep one client from
// hurting others. It turns frames into messages.Envelope values for a
// session (actors.Session) and sends the session's envelopes back
// (actors.Conn). It knows nothing of the game.
//
// # Routes
//
//   - /healthz: 200 {"status":"ok","conns":N}; 503 {"status":"draining"} after SetDraining.
//   - /ws: our protocol. A binary frame is a protobuf Envelope, a text frame
//     the same Envelope in protojson ({"choice":{"choice":2}}). The server
//     answers in the kind of the client's last accepted frame; before the
//     first one, binary, unless the query says ?format=json. Text output is
//     compact protojson with every field present.
//   - cfg.SocketIOPrefix, with or without its trailing slash, and every path
//     below it (the 2016 client asks for socket.io//): Socket.IO, Engine.IO
//     3 or 4 by the EIO query parameter. Events are 42["name",payload] where
//     name is the Envelope body's field name. Engine.IO 3 is WebSocket only:
//     its clients get only the open packet, 40, bare 3 pongs and 42[...]
//     events, and are never asked to ping. Engine.IO 4 (eio4.go) also has
//     long-polling and the upgrade to WebSocket (polling.go), namespaces
//     (only / is served) and acks. docs/socketio.md lists what is
//     implemented of both protocols.
//   - Paths given with WithRoute (exact, or below a route ending in "/"):
//     the server's HTTP API, such as /login and /leaderboard.
//   - Anything else: 404, or the handler given with WithStatic.
//
// A session token may come outside hello: ?token= in the URL of any socket
// endpoint, or the Engine.IO 4 connect packet's auth (40{"token":"…"}, the
// later of the two winning). The gateway puts it into a hello that carries
// none; checking it is the session's.
//
// The session answers an Engine.IO 4 CONNECT (actors.SocketIOSession,
// Connected): with the pid of Socket.IO's connection state recovery, or
// with a recovered session, when the auth carries the pid and offset of
// an earlier connection (docs/socketio.md).
//
// Before an upgrade: 503 while draining, then the Origin check (403), then
// cfg.MaxConnectionsPerIP (503 too_many_connections). Serve counts every
// connection of the listener against cfg.MaxConnections: a request on one
// over the limit gets 503 server_full (see connlimit.go). Serve's listener
// reads each connection's first request itself and serves a WebSocket
// upgrade without net/http's per-connection buffers; everything else goes
// on to net/http unchanged (front.go). The client
// address used by the limits and the log is ClientAddr's: X-Forwarded-For
// is believed only from cfg.TrustedProxies.
//
// # One connection
//
// One goroutine per connection, and a second only while there is something
// to write: a reader started by the HTTP handler, which returns right after
// the upgrade (so net/http frees its request state and buffers), and a
// writer that is started when a frame is queued, a ping is due or the
// connection closes, writes everything queued in one go and exits when the
// queue is empty. An idle connection thus holds one goroutine stack, one
// ping timer and no queue. Timers (the Hello deadline, the ping interval,
// the Engine.IO 4 pong deadline) run short callbacks that only flag, start
// the writer or call Close. Conn.Send encodes in the caller's goroutine and
// never blocks; more than cfg.OutboundQueue frames waiting closes the
// connection as a slow consumer (4002).
//
// Every close goes through Conn.Close (idempotent, never blocks): the writer
// sends the frames queued so far, then a close frame with code and reason,
// waits up to a second for the client's close frame, and closes the socket;
// the reader then ends, and only after the writer is done does it call
// Session.Closed(reason), exactly once. Deliver is called from the reader
// only, so it never follows Closed. OpenConns counts a connection until
// both goroutines have ended, so WaitIdle after CloseAll means they are gone.
//
// Limits, per connection: a message over cfg.MaxFrameBytes closes with
// 1009 and a reason, known from its frame headers before its payload is
// read (frameguard.go); the close then discards what the client still
// sends until its close frame, so the handshake completes; a token bucket
// (cfg.RateLimit, cfg.RateBurst) takes every message, ping and pong, drops
// excess messages with one rate_limited error per second (excess pings go
// unanswered) and closes a persistent flood with 1008; no Hello within
// cfg.HandshakeTimeout closes with 4003; nothing read (not even a pong) for
// cfg.IdleTimeout closes; an Engine.IO 4 client that leaves a ping
// unanswered for cfg.PingTimeout is closed with 1008. A long-polling
// session has the same rate limit per packet, hello deadline, ping timeout
// and outbound queue; its POST body is bounded by cfg.MaxFrameBytes (413).
//
// Frames that cannot be decoded never reach the session: the client gets
// an Error envelope (bad_frame, unknown_event, not_client_event,
// bad_payload), or for a Socket.IO v4 event with an ack id the ack carries
// it; such an event goes to the session with DeliverAck
// (actors.AckSession), so the session's own refusal lands in the ack too. Only a packet the Engine.IO 4 or Socket.IO 5 protocol forbids closes
// the connection, with 1002 (over polling: 400 and the session ends).
// Range checks and "hello first" are the session's.
//
// # Long-polling
//
// A polling session (pollSession) is its session actor's actors.Conn for
// its whole life; when a WebSocket takes it over, Send and Close go through
// that WebSocket's conn, whose Session is the polling session's actor. So
// the actor never learns the transport. A polling session has no goroutine:
// a GET waits in its own handler, POSTs deliver in theirs (one at a time,
// so Deliver never runs concurrently), and timers flag or close.
package gateway

package messages

// Error codes sent to clients in Error.code. They are stable words: clients
// may switch on them; the message beside them is for people.
const (
	CodeBadFrame        = "bad_frame"        // the frame could not be decoded at all
	CodeBadPayload      = "bad_payload"      // the event is known but its payload has the wrong shape
	CodeUnknownEvent    = "unknown_event"    // no such event or envelope body
	CodeHelloFirst      = "hello_first"      // anything but hello before hello
	CodeAlreadyHello    = "already_hello"    // a second hello on one connection
	CodeBadUser         = "bad_user"         // hello without a usable uid
	CodeInvalidChoice   = "invalid_choice"   // choice outside 1..3
	CodeInvalidFace     = "invalid_face"     // face outside 1..4
	CodeNotPlaying      = "not_playing"      // choice, face or leave outside a round
	CodeAlreadyQueued   = "already_queued"   // join while waiting or playing
	CodeRateLimited     = "rate_limited"     // too many messages; this one was dropped
	CodeDraining        = "draining"         // the server is shutting down and seats no one
	CodeServerBusy      = "server_busy"      // an internal step timed out; try again
	CodeNotClientEvent  = "not_client_event" // a server-to-client body sent by a client
	CodeTokenRequired   = "token_required"   // hello without a token on a server with WeChat login
	CodeBadToken        = "bad_token"        // a token that is malformed, forged or signed with another key
	CodeTokenExpired    = "token_expired"    // a well-signed token past its expiry; log in again
	CodeResumeFailed    = "resume_failed"    // hello.resume refused; the hello goes on as a new session
	CodeJoinDropped     = "join_dropped"     // the connection dropped while waiting for a seat; join again
	CodeUpgradeRequired = "upgrade_required" // hello.protocol names a version the server no longer speaks; update the client
	CodeContentRefused  = "content_refused"  // WeChat's content check refused a name or picture; it is not shown
	CodeContentCheck    = "content_check"    // WeChat's content check could not be asked; nothing unchecked is shown, try again
	CodeBanned          = "banned"           // an operator banned this player
	CodeDeleted         = "deleted"          // the player deleted its data (DELETE /me); log in again to start afresh
)

// WebSocket close codes. 1000-1011 are RFC 6455's; 4000-4999 are ours.
const (
	CloseNormal        = 1000
	CloseGoingAway     = 1001 // server draining or restarting
	CloseProtocol      = 1002 // a packet the Socket.IO or Engine.IO protocol forbids
	ClosePolicy        = 1008 // origin, flood, handshake timeout
	CloseTooBig        = 1009 // a frame over the size limit
	CloseInternal      = 1011
	CloseTryAgain      = 1013 // this server cannot learn how the client's round ended (cut off); reconnect, maybe elsewhere
	CloseReplaced      = 4001 // the same player connected again elsewhere, or resumed this session
	CloseSlowConsumer  = 4002 // the client did not read its messages in time
	CloseHelloTimeout  = 4003 // no hello within the handshake timeout
	CloseSessionFailed = 4004 // the session actor died; reconnect to go on
	CloseBanned        = 4005 // an operator banned the player
	CloseDeleted       = 4006 // the player deleted its data
)

// Codes lists every error code, so that a counter by code can start at
// zero for each.
var Codes = []string{
	CodeBadFrame, CodeBadPayload, CodeUnknownEvent, CodeHelloFirst, CodeAlreadyHello, CodeBadUser,
	CodeInvalidChoice, CodeInvalidFace, CodeNotPlaying, CodeAlreadyQueued, CodeRateLimited,
	CodeDraining, CodeServerBusy, CodeNotClientEvent, CodeTokenRequired, CodeBadToken,
	CodeTokenExpired, CodeResumeFailed, CodeJoinDropped, CodeUpgradeRequired, CodeContentRefused,
	CodeContentCheck, CodeBanned, CodeDeleted,
}

// Package admin is the operator's API: list the live actors, kill one in a
// chosen way (stop, poison or panic), delay or drop the messages to this
// node's actors of a kind, and run chaos (random kills at a rate for a
// while, mixed with delay windows when asked). It listens apart from the game (loopback by default) and
// always wants a token; when none is configured the server makes one and
// keeps it in a file (LoadOrCreateToken) that `caiquan admin` reads.
//
// A web page must not be able to drive it, so besides the token it refuses
// (guard.go) a Host that is not the listener's own address (DNS
// rebinding), an Origin other than its own, and a request other than GET
// whose body is not application/json (403 or 415, with a JSON error).
// Metrics are not here: they have a listener of their own (metrics_listen).
//
// Routes: GET /actors[?kind=room,bot], POST /kill, POST /chaos, GET /chaos,
// DELETE /chaos, POST /delay, GET /delay, GET /healthz; GET /console, the console (console.go): a
// page whose files need no token and hold no data, and whose script calls
// the routes above with the token the operator pastes.
package admin

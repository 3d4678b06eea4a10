// Package admin is the operator's API: list the live actors, kill one in a
// chosen way (stop, poison or panic), run chaos (random kills at a rate for
// a while), and read the metrics. It listens apart from the game (loopback by
// default) and, when given a token, refuses any request without it.
//
// Routes: GET /actors[?kind=room,bot], POST /kill, POST /chaos, GET /chaos,
// DELETE /chaos, GET /metrics (Prometheus text), GET /healthz.
package admin

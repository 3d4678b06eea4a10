// Package auth signs players in: WeChat's code2Session exchange, and the
// session tokens the server hands out and checks.
//
// A token is "v1." + base64url(JSON claims) + "." + base64url(HMAC-SHA256 of
// everything before the last dot, keyed with auth_secret). The claims are
// the subject (the player's uid), issue and expiry times in Unix seconds,
// and the name and avatar given at login. Verify checks the signature in
// constant time before it reads the claims, then the expiry against the
// clock it is given.
//
// The uid of a WeChat player is derived from the app id and the openid
// ("wx_" and 24 hex digits of their SHA-256), so the raw openid never leaves
// the server, and the same WeChat user keeps one uid across logins and
// across a change of auth_secret.
//
// POST /login (Login) takes {"code","uname","uavatar"}, asks code2Session,
// and answers {"token","expires_at","uid"}; every refusal is
// {"code","message"} with one of the Code* words below.
package auth

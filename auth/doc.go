// Package auth signs players in: WeChat's code2Session exchange, guest
// accounts, and the session tokens the server hands out and checks.
//
// A token is "v2." + key id + "." + base64url(JSON claims) + "." +
// base64url(HMAC-SHA256 of everything before the last dot). The key id is
// the first 8 hex digits of the SHA-256 of the secret that signed it, so a
// Signer holding several secrets (auth_secrets: the first signs, all
// verify) picks the one to check with instead of trying each. Tokens of
// the earlier format "v1." (no key id) are still accepted, checked against
// every listed secret, so an upgrade logs nobody out. The claims are the
// subject (the player's uid), issue and expiry times in Unix seconds, and
// the name and avatar given at login. Check verifies the signature in
// constant time before it reads the claims; Verify also checks the expiry
// against the clock it is given.
//
// The uid of a WeChat player is derived from the app id and the openid
// ("wx_" and 24 hex digits of their SHA-256), so the raw openid never leaves
// the server, and the same WeChat user keeps one uid across logins and
// across a change of secret. A guest's uid is "g_" and 24 random hex
// digits; the prefixes keep the two apart.
//
// POST /login (Login) takes {"code","uname","uavatar"}, asks code2Session,
// and answers {"token","expires_at","uid"}. POST /guest (Guest) answers the
// same for a new guest, or, given "Authorization: Bearer <token>" with a
// guest's token that is valid or expired less than the refresh window ago,
// for the same guest again. Every refusal is {"code","message"} with one of
// the Code* words.
package auth

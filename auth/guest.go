package auth

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// Refusal codes of POST /guest, besides CodeMethod.
const (
	CodeGuestDisabled    = "guest_disabled"    // 404: auth_mode is not guest
	CodeBadToken         = "bad_token"         // 401: malformed, forged, or signed with a retired secret
	CodeNotGuest         = "not_a_guest"       // 403: the token is a WeChat player's (or any non-guest's)
	CodeRefreshExpired   = "refresh_expired"   // 401: expired longer than guest_refresh_window ago
	CodeBadAuthorization = "bad_authorization" // 400: an Authorization header that is not "Bearer <token>"
	CodeGuestUnavailable = "guest_unavailable" // 503: the system's random source failed
)

// GuestPrefix starts every guest's uid; WeChat uids start with UIDPrefix,
// so the two never meet.
const GuestPrefix = "g_"

// guestIDBytes is the randomness in a guest uid: 96 bits, so uids never
// collide and cannot be guessed.
const guestIDBytes = 12

// Guest is the POST /guest handler. Without a token it makes a new guest:
// a fresh uid and a token for it. With a guest's own token in
// "Authorization: Bearer <token>" that is valid, or expired less than
// RefreshWindow ago, it answers a new token for the same uid, so the guest
// keeps its scores. The answer is {"token","expires_at","uid"}, as for
// /login.
type Guest struct {
	Signer        *Signer
	RefreshWindow time.Duration
	Now           func() time.Time
	Rand          io.Reader // nil: crypto/rand
	// Banned, when set, says whether an operator banned uid; a banned
	// guest's renewal is refused (a new guest is another player).
	Banned func(uid string) (bool, error)
	// OnOutcome, if set, is called once per request with OutcomeOK (a new
	// guest), OutcomeRenewed or the refusal code (one of GuestOutcomes).
	OnOutcome func(outcome string)
}

// GuestOutcomes lists every outcome Guest reports to OnOutcome.
var GuestOutcomes = []string{OutcomeOK, OutcomeRenewed, CodeMethod, CodeBadAuthorization, CodeBadToken,
	CodeNotGuest, CodeRefreshExpired, CodeGuestUnavailable, CodeStoreUnavailable, CodeBanned}

func (g *Guest) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	status, body := g.answer(w, r)
	writeJSON(w, status, body)
	if g.OnOutcome != nil {
		ok := OutcomeOK
		if len(r.Header.Values("Authorization")) > 0 {
			ok = OutcomeRenewed
		}
		g.OnOutcome(outcomeOf(body, ok))
	}
}

func (g *Guest) answer(w http.ResponseWriter, r *http.Request) (int, any) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		return http.StatusMethodNotAllowed, Refusal{CodeMethod, "POST /guest for a new guest, or with Authorization: Bearer <token> to renew one"}
	}
	now := g.Now()
	uid, status, refusal := g.subject(r.Header.Values("Authorization"), now)
	if status != http.StatusOK {
		return status, refusal
	}
	if len(r.Header.Values("Authorization")) > 0 && g.Banned != nil {
		banned, err := g.Banned(uid)
		if err != nil {
			return http.StatusServiceUnavailable, Refusal{CodeStoreUnavailable, "the player store did not answer; try again"}
		}
		if banned {
			return http.StatusForbidden, Refusal{CodeBanned, "this player is banned by the server's operator"}
		}
	}
	token, exp := g.Signer.Issue(Claims{Sub: uid}, now)
	return http.StatusOK, loginResponse{Token: token, ExpiresAt: exp, UID: uid}
}

// subject is the uid the answer is for: a new one when the request has
// no Authorization, else the presented guest token's; or a refusal.
func (g *Guest) subject(authz []string, now time.Time) (uid string, status int, refusal Refusal) {
	if len(authz) == 0 {
		uid, err := g.newUID()
		if err != nil {
			return "", http.StatusServiceUnavailable, Refusal{CodeGuestUnavailable, "no randomness for a new uid; try again"}
		}
		return uid, http.StatusOK, Refusal{}
	}
	scheme, token, _ := strings.Cut(authz[0], " ")
	token = strings.TrimSpace(token)
	if len(authz) > 1 || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return "", http.StatusBadRequest, Refusal{CodeBadAuthorization, "Authorization must be one header \"Bearer <token>\" with the guest's last token, or absent for a new guest"}
	}
	c, err := g.Signer.Check(token)
	switch {
	case err != nil:
		return "", http.StatusUnauthorized, Refusal{CodeBadToken, "the token is not one this server signed (forged, damaged, or its secret was retired); POST /guest without it for a new guest"}
	case !strings.HasPrefix(c.Sub, GuestPrefix):
		return "", http.StatusForbidden, Refusal{CodeNotGuest, "only a guest's token renews here; WeChat players log in again at POST /login"}
	case now.Sub(c.Expires()) >= g.RefreshWindow:
		return "", http.StatusUnauthorized, Refusal{CodeRefreshExpired, fmt.Sprintf("the token expired at %s, %v or more ago, and can no longer be renewed; POST /guest without it for a new guest", c.Expires().Format(time.RFC3339), g.RefreshWindow)}
	}
	return c.Sub, http.StatusOK, Refusal{}
}

func (g *Guest) newUID() (string, error) {
	rnd := g.Rand
	if rnd == nil {
		rnd = rand.Reader
	}
	b := make([]byte, guestIDBytes)
	if _, err := io.ReadFull(rnd, b); err != nil {
		return "", fmt.Errorf("auth: guest uid: %w", err)
	}
	return GuestPrefix + hex.EncodeToString(b), nil
}

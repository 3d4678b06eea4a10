package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"sync"
	"time"

	"github.com/caiquan/caiquan/internal/quietlog"
)

// Refusal codes of POST /login, in the body {"code","message"}.
const (
	CodeBadRequest        = "bad_request"         // 400: not a JSON object, or fields too long
	CodeMissingCode       = "missing_code"        // 400: no wx.login code
	CodeMethod            = "method_not_allowed"  // 405: not POST
	CodeInvalidCode       = "invalid_code"        // 401: WeChat 40029 or 40163, the code is wrong, expired or used
	CodeUserBlocked       = "user_blocked"        // 403: WeChat 40226
	CodeWeChatRateLimited = "wechat_rate_limited" // 429: WeChat 45011; try again in a minute
	CodeWeChatBusy        = "wechat_busy"         // 503: WeChat -1, or MaxConcurrent logins under way; try again
	CodeWeChatConfig      = "wechat_config"       // 502: WeChat 40013 or 40125, the server's app id or secret is wrong
	CodeWeChatError       = "wechat_error"        // 502: any other WeChat errcode (named in the message)
	CodeWeChatTimeout     = "wechat_timeout"      // 504: no answer within login_timeout
	CodeWeChatUnreachable = "wechat_unreachable"  // 502: no usable answer
	CodeLoginDisabled     = "login_disabled"      // 404: auth_mode is not wechat
	CodeContentRefused    = "content_refused"     // 422: WeChat's content check refused the uname, or the uavatar is not one of ours
	CodeContentCheck      = "content_check"       // 503: WeChat's content check could not be asked
	CodeBanned            = "banned"              // 403: an operator banned the player
	CodeStoreUnavailable  = "store_unavailable"   // 503: the player store did not answer
)

// Field limits of a login, as for a hello's user.
const (
	maxCode    = 256
	maxUname   = 256
	maxUavatar = 1024
	maxBody    = 8 << 10
)

// Login is the POST /login handler.
type Login struct {
	WeChat  *WeChat
	Signer  *Signer
	Timeout time.Duration // bounds the code2Session call
	Now     func() time.Time
	Log     *slog.Logger // nil: discarded
	// MaxConcurrent bounds the code2Session calls under way at once; a
	// login beyond it is refused at once with 503 wechat_busy, so a burst
	// of logins can neither pile up goroutines waiting on WeChat nor spend
	// the app's WeChat quota faster than WeChat answers. 0: no bound.
	MaxConcurrent int
	// OnBusy, if set, is called for each login refused by MaxConcurrent.
	OnBusy func()
	// Content, when set, checks the login's uname (the token then carries
	// a checked name) and refuses an uavatar not served by this server.
	Content *ContentCheck
	// Banned, when set, says whether an operator banned uid; a banned
	// player's login is refused.
	Banned func(uid string) (bool, error)
	// OnOutcome, if set, is called once per request with OutcomeOK or the
	// refusal code answered (one of LoginOutcomes).
	OnOutcome func(outcome string)

	slotsOnce sync.Once
	slots     chan struct{} // one element per call under way

	quietOnce sync.Once
	quiet     *quietlog.Logger
}

type loginRequest struct {
	Code    string `json:"code"`
	Uname   string `json:"uname"`
	Uavatar string `json:"uavatar"`
}

type loginResponse struct {
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expires_at"`
	UID       string    `json:"uid"`
}

// Refusal is the body of every refusal.
type Refusal struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Outcomes of a login besides the refusal codes.
const (
	OutcomeOK      = "ok"      // a token was issued
	OutcomeRenewed = "renewed" // a guest's token was renewed for the same uid
)

// LoginOutcomes lists every outcome Login reports to OnOutcome.
var LoginOutcomes = []string{OutcomeOK, CodeMethod, CodeBadRequest, CodeMissingCode, CodeWeChatBusy,
	CodeInvalidCode, CodeUserBlocked, CodeWeChatRateLimited, CodeWeChatConfig, CodeWeChatError,
	CodeWeChatTimeout, CodeWeChatUnreachable, CodeStoreUnavailable, CodeBanned, CodeContentRefused, CodeContentCheck}

func (l *Login) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	status, body := l.answer(w, r)
	writeJSON(w, status, body)
	if l.OnOutcome != nil {
		l.OnOutcome(outcomeOf(body, OutcomeOK))
	}
}

// outcomeOf is the outcome an answer reports: the refusal's code, or ok.
func outcomeOf(body any, ok string) string {
	if r, refused := body.(Refusal); refused {
		return r.Code
	}
	return ok
}

func (l *Login) answer(w http.ResponseWriter, r *http.Request) (int, any) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		return http.StatusMethodNotAllowed, Refusal{CodeMethod, "POST a JSON body {\"code\":\"…\"} to log in"}
	}
	var req loginRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody)).Decode(&req); err != nil {
		return http.StatusBadRequest, Refusal{CodeBadRequest, "the body must be a JSON object {\"code\",\"uname\",\"uavatar\"}: " + err.Error()}
	}
	switch {
	case req.Code == "":
		return http.StatusBadRequest, Refusal{CodeMissingCode, "code is required: the code from wx.login"}
	case len(req.Code) > maxCode || len(req.Uname) > maxUname || len(req.Uavatar) > maxUavatar:
		return http.StatusBadRequest, Refusal{CodeBadRequest, fmt.Sprintf("code, uname and uavatar may be at most %d, %d and %d bytes", maxCode, maxUname, maxUavatar)}
	}
	if !l.acquire() {
		if l.OnBusy != nil {
			l.OnBusy()
		}
		w.Header().Set("Retry-After", "1")
		return http.StatusServiceUnavailable, Refusal{CodeWeChatBusy, "too many logins are under way; try again in a moment"}
	}
	defer l.release()
	ctx, cancel := context.WithTimeout(r.Context(), l.Timeout)
	defer cancel()
	openid, err := l.WeChat.Code2Session(ctx, req.Code)
	if err != nil {
		status, refusal := refusalOf(err, l.Timeout)
		// One line per code per 10 s: a flood of bad codes, or WeChat down
		// under a rush of logins, must not flood the log.
		l.quietLog().Warn("login:"+refusal.Code, "login refused", "code", refusal.Code, "err", err)
		return status, refusal
	}
	uid := UID(l.WeChat.AppID, openid)
	if l.Banned != nil {
		banned, err := l.Banned(uid)
		if err != nil {
			l.quietLog().Warn("login:store", "login: the store did not answer", "err", err)
			return http.StatusServiceUnavailable, Refusal{CodeStoreUnavailable, "the player store did not answer; try again"}
		}
		if banned {
			return http.StatusForbidden, Refusal{CodeBanned, "this player is banned by the server's operator"}
		}
	}
	if l.Content != nil {
		if status, ref := l.checkContent(ctx, openid, req.Uname, req.Uavatar); status != 0 {
			l.quietLog().Warn("login:"+ref.Code, "login refused", "code", ref.Code)
			return status, ref
		}
	}
	token, exp := l.Signer.Issue(Claims{Sub: uid, Uname: req.Uname, Uavatar: req.Uavatar, OpenID: openid}, l.Now())
	return http.StatusOK, loginResponse{Token: token, ExpiresAt: exp, UID: uid}
}

// checkContent checks what the login would show others.
func (l *Login) checkContent(ctx context.Context, openid, uname, uavatar string) (int, Refusal) {
	if uavatar != "" && !ownAvatarRE.MatchString(uavatar) {
		return http.StatusUnprocessableEntity, Refusal{CodeContentRefused, "on this server an avatar must be one uploaded with POST /avatar (its answer's url, /avatars/…): others cannot be checked"}
	}
	if uname == "" {
		return 0, Refusal{}
	}
	err := l.Content.CheckText(ctx, openid, uname)
	switch {
	case err == nil:
		return 0, Refusal{}
	case errors.Is(err, ErrRefused):
		return http.StatusUnprocessableEntity, Refusal{CodeContentRefused, "WeChat's content check refused this name; choose another"}
	default:
		l.quietLog().Warn("login:content_check", "login: content check failed", "err", err)
		return http.StatusServiceUnavailable, Refusal{CodeContentCheck, "WeChat's content check could not be asked, so the name is not shown; try again later"}
	}
}

var ownAvatarRE = regexp.MustCompile(`^/avatars/[0-9a-f]{32}\.(png|jpg)$`)

// acquire takes a slot for a code2Session call without waiting; false
// when MaxConcurrent are under way.
func (l *Login) acquire() bool {
	if l.MaxConcurrent <= 0 {
		return true
	}
	l.slotsOnce.Do(func() { l.slots = make(chan struct{}, l.MaxConcurrent) })
	select {
	case l.slots <- struct{}{}:
		return true
	default:
		return false
	}
}

func (l *Login) release() {
	if l.MaxConcurrent > 0 {
		<-l.slots
	}
}

// refusalOf maps a code2Session failure to our answer: the one place where
// WeChat's error codes meet ours.
func refusalOf(err error, timeout time.Duration) (int, Refusal) {
	var wx *WeChatError
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return http.StatusGatewayTimeout, Refusal{CodeWeChatTimeout, fmt.Sprintf("WeChat did not answer within %v; try again", timeout)}
	case errors.As(err, &wx):
		switch wx.Code {
		case wxInvalidCode, wxCodeUsed:
			return http.StatusUnauthorized, Refusal{CodeInvalidCode, fmt.Sprintf("WeChat refused the login code (errcode %d): call wx.login again for a new one", wx.Code)}
		case wxBlockedUser:
			return http.StatusForbidden, Refusal{CodeUserBlocked, "WeChat blocked this user (errcode 40226)"}
		case wxRateLimited:
			return http.StatusTooManyRequests, Refusal{CodeWeChatRateLimited, "WeChat limits logins right now (errcode 45011); try again in a minute"}
		case wxBusy:
			return http.StatusServiceUnavailable, Refusal{CodeWeChatBusy, "WeChat is busy (errcode -1); try again"}
		case wxInvalidAppID, wxBadSecret:
			return http.StatusBadGateway, Refusal{CodeWeChatConfig, fmt.Sprintf("the server's WeChat app id or secret is wrong (errcode %d); tell its operator", wx.Code)}
		default:
			return http.StatusBadGateway, Refusal{CodeWeChatError, fmt.Sprintf("WeChat refused the login (errcode %d: %s)", wx.Code, wx.Message)}
		}
	default:
		return http.StatusBadGateway, Refusal{CodeWeChatUnreachable, "no usable answer from WeChat; try again"}
	}
}

func (l *Login) quietLog() *quietlog.Logger {
	l.quietOnce.Do(func() {
		if l.Log != nil {
			l.quiet = quietlog.New(l.Log)
		}
	})
	return l.quiet
}

// Disabled answers /login when auth_mode is not wechat.
func Disabled() http.Handler {
	return Off(CodeLoginDisabled, "WeChat login is off on this server (its auth_mode is not wechat)")
}

// Off answers 404 with code and message: a route the server's auth_mode
// turns off.
func Off(code, message string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusNotFound, Refusal{code, message})
	})
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(body)
}

package auth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// WeChat asks WeChat's code2Session API to turn a wx.login code into an openid.
type WeChat struct {
	// Base is the API's base URL, https://api.weixin.qq.com in production.
	Base   string
	AppID  string
	Secret string
	Client *http.Client // nil: http.DefaultClient
}

// WeChatError is a refusal from code2Session (errcode != 0).
type WeChatError struct {
	Code    int
	Message string
}

func (e *WeChatError) Error() string {
	return fmt.Sprintf("wechat: code2Session errcode %d: %s", e.Code, e.Message)
}

// WeChat error codes that Login tells apart.
const (
	wxBusy         = -1
	wxInvalidCode  = 40029
	wxCodeUsed     = 40163
	wxRateLimited  = 45011
	wxInvalidAppID = 40013
	wxBadSecret    = 40125
	wxBlockedUser  = 40226
)

// maxWeChatBody bounds what is read of code2Session's answer.
const maxWeChatBody = 64 << 10

// Code2Session returns the openid for code. It fails with *WeChatError
// when WeChat refuses, and with ctx's error when ctx ends first.
func (w *WeChat) Code2Session(ctx context.Context, code string) (openid string, err error) {
	q := url.Values{
		"appid":      {w.AppID},
		"secret":     {w.Secret},
		"js_code":    {code},
		"grant_type": {"authorization_code"},
	}
	// The URL carries the AppSecret: no error may quote it, so errors name
	// endpoint, the URL without its query.
	endpoint := strings.TrimSuffix(w.Base, "/") + "/sns/jscode2session"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, endpoint+"?"+q.Encode(), nil)
	if err != nil {
		return "", fmt.Errorf("wechat: code2Session request to %s: %w", endpoint, withoutURL(err))
	}
	client := w.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return "", ctxErr
		}
		return "", fmt.Errorf("wechat: GET %s: %w", endpoint, withoutURL(err))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxWeChatBody))
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return "", ctxErr
		}
		return "", fmt.Errorf("wechat: read the answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("wechat: code2Session answered HTTP %d", resp.StatusCode)
	}
	// WeChat answers JSON, sometimes labelled text/plain.
	var r struct {
		OpenID  string `json:"openid"`
		ErrCode int    `json:"errcode"`
		ErrMsg  string `json:"errmsg"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return "", fmt.Errorf("wechat: code2Session answer is not JSON: %w", err)
	}
	if r.ErrCode != 0 {
		return "", &WeChatError{Code: r.ErrCode, Message: r.ErrMsg}
	}
	if r.OpenID == "" {
		return "", errors.New("wechat: code2Session answered without an openid")
	}
	return r.OpenID, nil
}

// withoutURL drops the URL that net/http's *url.Error quotes (a redirect's
// too), keeping what went wrong.
func withoutURL(err error) error {
	for {
		var ue *url.Error
		if !errors.As(err, &ue) {
			return err
		}
		err = ue.Err
	}
}

// UIDPrefix starts every uid UID makes.
const UIDPrefix = "wx_"

// UID is the player id of a WeChat user of app appID.
func UID(appID, openid string) string {
	sum := sha256.Sum256([]byte(appID + "\x00" + openid))
	return UIDPrefix + hex.EncodeToString(sum[:12])
}

package auth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"
	"sync"
	"time"
)

// ErrRefused is a content check's answer for content that may not be shown.
var ErrRefused = errors.New("wechat: content refused")

// ErrCheckBusy is a check not made: MaxConcurrent are under way.
var ErrCheckBusy = errors.New("wechat: too many content checks under way")

// WeChat's answers the content check tells apart.
const (
	wxRisky        = 87014 // the content is risky
	wxTokenInvalid = 40001 // the access token is invalid
	wxTokenExpired = 42001
)

// ContentCheck asks WeChat whether a name or a picture may be shown:
// msg_sec_check (version 2, scene 1: a profile) for text, img_sec_check
// for pictures. Both need the app's access token, which it gets from
// /cgi-bin/token and keeps until shortly before it expires. Any answer but
// a pass or a refusal is an error: the caller fails closed.
type ContentCheck struct {
	Base   string // as WeChat.Base
	AppID  string
	Secret string
	Client *http.Client // nil: http.DefaultClient
	Now    func() time.Time
	// MaxConcurrent bounds the checks under way at once (as Login's): one
	// beyond it fails at once (the caller fails closed) instead of
	// queueing goroutines on WeChat or spending the app's quota faster
	// than WeChat answers. 0: no bound.
	MaxConcurrent int

	slotsOnce sync.Once
	slots     chan struct{}

	mu      sync.Mutex
	token   string
	expires time.Time
}

// CheckText checks a player's name (openid may be empty for a token made
// before tokens carried it: then version 1 of the API, which names no user).
func (c *ContentCheck) CheckText(ctx context.Context, openid, text string) error {
	body := map[string]any{"content": text}
	if openid != "" {
		body = map[string]any{"content": text, "version": 2, "scene": 1, "openid": openid}
	}
	data, _ := json.Marshal(body)
	var r struct {
		ErrCode int    `json:"errcode"`
		ErrMsg  string `json:"errmsg"`
		Result  struct {
			Suggest string `json:"suggest"`
		} `json:"result"`
	}
	if err := c.call(ctx, "/wxa/msg_sec_check", "application/json", data, &r.ErrCode, &r); err != nil {
		return err
	}
	switch {
	case r.ErrCode == wxRisky:
		return ErrRefused
	case r.ErrCode != 0:
		return &WeChatError{Code: r.ErrCode, Message: r.ErrMsg}
	case openid == "" || r.Result.Suggest == "pass":
		return nil
	case r.Result.Suggest == "risky" || r.Result.Suggest == "review":
		// "review" is WeChat unsure: not shown until a person could look,
		// which this server cannot arrange.
		return ErrRefused
	default:
		return fmt.Errorf("wechat: msg_sec_check answered suggest %q", r.Result.Suggest)
	}
}

// CheckImage checks a picture (at most 750×1334 pixels for WeChat; ours are
// smaller) by img_sec_check.
func (c *ContentCheck) CheckImage(ctx context.Context, _ string, data []byte, contentType string) error {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	hdr := textproto.MIMEHeader{}
	hdr.Set("Content-Disposition", `form-data; name="media"; filename="avatar"`)
	hdr.Set("Content-Type", contentType)
	part, _ := mw.CreatePart(hdr)
	part.Write(data)
	mw.Close()
	var r struct {
		ErrCode int    `json:"errcode"`
		ErrMsg  string `json:"errmsg"`
	}
	if err := c.call(ctx, "/wxa/img_sec_check", mw.FormDataContentType(), buf.Bytes(), &r.ErrCode, &r); err != nil {
		return err
	}
	switch r.ErrCode {
	case 0:
		return nil
	case wxRisky:
		return ErrRefused
	default:
		return &WeChatError{Code: r.ErrCode, Message: r.ErrMsg}
	}
}

// call posts body to path with the access token and decodes the answer
// into out; an invalid or expired token is fetched again once.
func (c *ContentCheck) call(ctx context.Context, path, contentType string, body []byte, errCode *int, out any) error {
	if c.MaxConcurrent > 0 {
		c.slotsOnce.Do(func() { c.slots = make(chan struct{}, c.MaxConcurrent) })
		select {
		case c.slots <- struct{}{}:
			defer func() { <-c.slots }()
		default:
			return ErrCheckBusy
		}
	}
	for try := 0; ; try++ {
		token, err := c.accessToken(ctx)
		if err != nil {
			return err
		}
		endpoint := strings.TrimSuffix(c.Base, "/") + path
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint+"?access_token="+url.QueryEscape(token), bytes.NewReader(body))
		if err != nil {
			return fmt.Errorf("wechat: %s: %w", endpoint, withoutURL(err))
		}
		req.Header.Set("Content-Type", contentType)
		if err := c.do(req, endpoint, out); err != nil {
			return err
		}
		if (*errCode == wxTokenInvalid || *errCode == wxTokenExpired) && try == 0 {
			c.mu.Lock()
			c.token = ""
			c.mu.Unlock()
			continue
		}
		return nil
	}
}

// accessToken is the app's access token, fetched when missing or about to
// expire. Its URL carries the AppSecret: no error quotes it.
func (c *ContentCheck) accessToken(ctx context.Context) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if c.token != "" && now.Before(c.expires) {
		return c.token, nil
	}
	q := url.Values{"grant_type": {"client_credential"}, "appid": {c.AppID}, "secret": {c.Secret}}
	endpoint := strings.TrimSuffix(c.Base, "/") + "/cgi-bin/token"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, endpoint+"?"+q.Encode(), nil)
	if err != nil {
		return "", fmt.Errorf("wechat: %s: %w", endpoint, withoutURL(err))
	}
	var r struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int    `json:"expires_in"`
		ErrCode     int    `json:"errcode"`
		ErrMsg      string `json:"errmsg"`
	}
	if err := c.do(req, endpoint, &r); err != nil {
		return "", err
	}
	if r.ErrCode != 0 || r.AccessToken == "" {
		return "", &WeChatError{Code: r.ErrCode, Message: "access token: " + r.ErrMsg}
	}
	// Fetched again 5 minutes early (or at half its life if shorter).
	life := time.Duration(r.ExpiresIn) * time.Second
	c.token, c.expires = r.AccessToken, now.Add(life-min(5*time.Minute, life/2))
	return c.token, nil
}

func (c *ContentCheck) do(req *http.Request, endpoint string, out any) error {
	client := c.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		if ctxErr := req.Context().Err(); ctxErr != nil {
			return fmt.Errorf("wechat: %s: %w", endpoint, ctxErr)
		}
		return fmt.Errorf("wechat: %s: %w", endpoint, withoutURL(err))
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxWeChatBody))
	if err != nil {
		return fmt.Errorf("wechat: %s: read the answer: %w", endpoint, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("wechat: %s answered HTTP %d", endpoint, resp.StatusCode)
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("wechat: %s: the answer is not JSON: %w", endpoint, err)
	}
	return nil
}

func (c *ContentCheck) now() time.Time {
	if c.Now == nil {
		return time.Now()
	}
	return c.Now()
}

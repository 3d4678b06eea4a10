package admin

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/caiquan/caiquan/actors"
)

// Client speaks to an admin API.
type Client struct {
	Addr  string // host:port
	Token string
	HTTP  *http.Client
}

func (c *Client) do(method, path string, in, out any) error {
	var body bytes.Buffer
	if in != nil {
		if err := json.NewEncoder(&body).Encode(in); err != nil {
			return err
		}
	}
	req, err := http.NewRequest(method, "http://"+c.Addr+path, &body)
	if err != nil {
		return err
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	if method != http.MethodGet {
		req.Header.Set("Content-Type", "application/json")
	}
	hc := c.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	res, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode >= 300 {
		var e APIError
		if json.NewDecoder(res.Body).Decode(&e) == nil && e.Code != "" {
			return e
		}
		return fmt.Errorf("admin: %s %s: %s", method, path, res.Status)
	}
	return json.NewDecoder(res.Body).Decode(out)
}

// Actors lists the live actors of the given kinds (all when none).
func (c *Client) Actors(kinds ...string) ([]actors.ActorInfo, error) {
	var out ActorList
	path := "/actors"
	if len(kinds) > 0 {
		path += "?kind=" + url.QueryEscape(strings.Join(kinds, ","))
	}
	return out.Actors, c.do(http.MethodGet, path, nil, &out)
}

// Kill kills one actor.
func (c *Client) Kill(req KillRequest) (KillResult, error) {
	var out KillResult
	return out, c.do(http.MethodPost, "/kill", req, &out)
}

// StartChaos starts a chaos run.
func (c *Client) StartChaos(req ChaosRequest) (ChaosStatus, error) {
	var out ChaosStatus
	return out, c.do(http.MethodPost, "/chaos", req, &out)
}

// Chaos reports the current or last chaos run.
func (c *Client) Chaos() (ChaosStatus, error) {
	var out ChaosStatus
	return out, c.do(http.MethodGet, "/chaos", nil, &out)
}

// StopChaos ends a chaos run in progress.
func (c *Client) StopChaos() (ChaosStatus, error) {
	var out ChaosStatus
	return out, c.do(http.MethodDelete, "/chaos", nil, &out)
}

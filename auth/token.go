package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// MinSecret is the shortest auth_secret accepted, in bytes.
const MinSecret = 32

var (
	// ErrBadToken is a token that is malformed, forged, or signed with
	// another secret.
	ErrBadToken = errors.New("auth: bad token")
	// ErrExpired is a well-signed token past its expiry.
	ErrExpired = errors.New("auth: token expired")
)

const tokenPrefix = "v1."

// Claims is what a token says.
type Claims struct {
	Sub     string `json:"sub"`
	Iat     int64  `json:"iat"`
	Exp     int64  `json:"exp"`
	Uname   string `json:"name,omitempty"`
	Uavatar string `json:"avatar,omitempty"`
}

// Expires is the expiry as a time.
func (c Claims) Expires() time.Time { return time.Unix(c.Exp, 0).UTC() }

// Signer issues and verifies tokens with one secret.
type Signer struct {
	secret []byte
	ttl    time.Duration
}

// NewSigner makes a Signer; the secret must be at least MinSecret bytes.
func NewSigner(secret string, ttl time.Duration) (*Signer, error) {
	if len(secret) < MinSecret {
		return nil, fmt.Errorf("auth: the secret must be at least %d bytes", MinSecret)
	}
	if ttl <= 0 {
		return nil, errors.New("auth: the token lifetime must be more than 0")
	}
	return &Signer{secret: []byte(secret), ttl: ttl}, nil
}

// Issue signs a token for c.Sub, valid from now for the Signer's lifetime.
func (s *Signer) Issue(c Claims, now time.Time) (token string, expires time.Time) {
	c.Iat = now.Unix()
	c.Exp = now.Add(s.ttl).Unix()
	payload, _ := json.Marshal(c) // strings and numbers only: cannot fail
	body := tokenPrefix + base64.RawURLEncoding.EncodeToString(payload)
	return body + "." + base64.RawURLEncoding.EncodeToString(s.mac(body)), c.Expires()
}

// Verify returns the claims of a token this Signer made that has not
// expired at now; otherwise ErrBadToken or ErrExpired.
func (s *Signer) Verify(token string, now time.Time) (Claims, error) {
	cut := strings.LastIndexByte(token, '.')
	if !strings.HasPrefix(token, tokenPrefix) || cut <= len(tokenPrefix) {
		return Claims{}, ErrBadToken
	}
	body := token[:cut]
	sig, err := base64.RawURLEncoding.DecodeString(token[cut+1:])
	if err != nil || !hmac.Equal(sig, s.mac(body)) {
		return Claims{}, ErrBadToken
	}
	payload, err := base64.RawURLEncoding.DecodeString(body[len(tokenPrefix):])
	if err != nil {
		return Claims{}, ErrBadToken
	}
	var c Claims
	if err := json.Unmarshal(payload, &c); err != nil || c.Sub == "" {
		return Claims{}, ErrBadToken
	}
	if now.Unix() >= c.Exp {
		return Claims{}, ErrExpired
	}
	return c, nil
}

func (s *Signer) mac(body string) []byte {
	h := hmac.New(sha256.New, s.secret)
	h.Write([]byte(body))
	return h.Sum(nil)
}

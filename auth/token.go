package auth

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// MinSecret is the shortest secret accepted, in bytes.
const MinSecret = 32

// MaxToken bounds the tokens Check reads, in bytes: the longest Issue makes
// (a 256-byte name and a 1024-byte avatar, every byte JSON-escaped) is
// below it, and a longer one is refused before it is hashed.
const MaxToken = 16 << 10

var (
	// ErrBadToken is a token that is malformed, forged, or signed with a
	// secret that is not (or no longer) listed.
	ErrBadToken = errors.New("auth: bad token")
	// ErrExpired is a well-signed token past its expiry.
	ErrExpired = errors.New("auth: token expired")
)

// Token formats. v2 names the key that signed it; v1 (before secrets
// rotated) does not, and is tried against every listed secret.
const (
	tokenPrefix   = "v2."
	legacyPrefix  = "v1."
	keyIDLen      = 8 // hex digits
	keyIDHashSize = keyIDLen / 2
)

// Claims is what a token says.
type Claims struct {
	Sub     string `json:"sub"`
	Iat     int64  `json:"iat"`
	Exp     int64  `json:"exp"`
	Uname   string `json:"name,omitempty"`
	Uavatar string `json:"avatar,omitempty"`
	// OpenID is the WeChat user's openid, for WeChat's content check,
	// which names the user. In the token it is sealed (AES-GCM under a key
	// made from the signing secret), so the openid never leaves the
	// server; Issue seals it and Check opens it. Empty for guests, in
	// tokens issued before it was added, and when it does not open.
	OpenID string `json:"oid,omitempty"`
}

// Expires is the expiry as a time.
func (c Claims) Expires() time.Time { return time.Unix(c.Exp, 0).UTC() }

// key is one secret and the id tokens signed with it carry.
type key struct {
	id     string
	secret []byte
}

// Signer issues tokens with its first secret and verifies them with any of
// its secrets.
type Signer struct {
	keys []key // keys[0] signs
	byID map[string]key
	ttl  time.Duration
}

// KeyID is the id of the key a secret makes: the first 8 hex digits of the
// secret's SHA-256. It names the key in every token it signs; it reveals
// nothing that lets anyone sign (the token's HMAC already lets a guesser
// test a secret, and a secret of 32 random bytes is beyond guessing).
func KeyID(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:keyIDHashSize])
}

// NewSigner makes a Signer of one secret, at least MinSecret bytes.
func NewSigner(secret string, ttl time.Duration) (*Signer, error) {
	return NewSignerKeys([]string{secret}, ttl)
}

// NewSignerKeys makes a Signer that signs with secrets[0] and verifies
// with any of them. Each must be at least MinSecret bytes, and no two may
// share a key id.
func NewSignerKeys(secrets []string, ttl time.Duration) (*Signer, error) {
	if len(secrets) == 0 {
		return nil, errors.New("auth: no secret")
	}
	if ttl <= 0 {
		return nil, errors.New("auth: the token lifetime must be more than 0")
	}
	s := &Signer{byID: make(map[string]key, len(secrets)), ttl: ttl}
	for i, sec := range secrets {
		if len(sec) < MinSecret {
			return nil, fmt.Errorf("auth: secret %d must be at least %d bytes, got %d", i, MinSecret, len(sec))
		}
		k := key{id: KeyID(sec), secret: []byte(sec)}
		if _, dup := s.byID[k.id]; dup {
			return nil, fmt.Errorf("auth: secret %d repeats an earlier one (key id %s)", i, k.id)
		}
		s.byID[k.id] = k
		s.keys = append(s.keys, k)
	}
	return s, nil
}

// TTL is how long the tokens Issue makes are valid.
func (s *Signer) TTL() time.Duration { return s.ttl }

// Issue signs a token for c.Sub with the first secret, valid from now for
// the Signer's lifetime.
func (s *Signer) Issue(c Claims, now time.Time) (token string, expires time.Time) {
	c.Iat = now.Unix()
	c.Exp = now.Add(s.ttl).Unix()
	k := s.keys[0]
	if c.OpenID != "" {
		c.OpenID = seal(k.secret, c.OpenID)
	}
	payload, _ := json.Marshal(c) // strings and numbers only: cannot fail
	body := tokenPrefix + k.id + "." + base64.RawURLEncoding.EncodeToString(payload)
	return body + "." + base64.RawURLEncoding.EncodeToString(mac(k.secret, body)), c.Expires()
}

// Verify returns the claims of a token signed with one of the Signer's
// secrets that has not expired at now; otherwise ErrBadToken or
// ErrExpired.
func (s *Signer) Verify(token string, now time.Time) (Claims, error) {
	c, err := s.Check(token)
	if err != nil {
		return Claims{}, err
	}
	if now.Unix() >= c.Exp {
		return Claims{}, ErrExpired
	}
	return c, nil
}

// Check returns the claims of a token signed with one of the Signer's
// secrets, expired or not; otherwise ErrBadToken. It checks the signature,
// in constant time, before it reads the claims.
func (s *Signer) Check(token string) (Claims, error) {
	cut := strings.LastIndexByte(token, '.')
	if cut < 0 || len(token) > MaxToken {
		return Claims{}, ErrBadToken
	}
	body := token[:cut]
	sig, err := base64.RawURLEncoding.DecodeString(token[cut+1:])
	if err != nil {
		return Claims{}, ErrBadToken
	}
	var payload string
	var signer []byte // the secret that signed a v2 token
	switch {
	case strings.HasPrefix(body, tokenPrefix):
		id, rest, ok := strings.Cut(body[len(tokenPrefix):], ".")
		k, known := s.byID[id]
		if !ok || !known || !hmac.Equal(sig, mac(k.secret, body)) {
			return Claims{}, ErrBadToken
		}
		payload, signer = rest, k.secret
	case strings.HasPrefix(body, legacyPrefix) && len(body) > len(legacyPrefix):
		// v1 tokens name no key: every listed secret is tried (a handful
		// of HMACs), so the tokens issued before an upgrade keep working
		// until they expire.
		ok := false
		for _, k := range s.keys {
			ok = hmac.Equal(sig, mac(k.secret, body)) || ok
		}
		if !ok {
			return Claims{}, ErrBadToken
		}
		payload = body[len(legacyPrefix):]
	default:
		return Claims{}, ErrBadToken
	}
	raw, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		return Claims{}, ErrBadToken
	}
	var c Claims
	if err := json.Unmarshal(raw, &c); err != nil || c.Sub == "" {
		return Claims{}, ErrBadToken
	}
	c.OpenID = open(signer, c.OpenID)
	return c, nil
}

// sealKey is the AES-256 key that seals openids in tokens signed with
// secret: not the secret itself, so the two uses cannot meet.
func sealKey(secret []byte) []byte {
	h := hmac.New(sha256.New, secret)
	h.Write([]byte("caiquan token openid seal v1"))
	return h.Sum(nil)
}

// seal encrypts openid with AES-GCM under secret's seal key: a random
// nonce and the ciphertext, base64url.
func seal(secret []byte, openid string) string {
	block, _ := aes.NewCipher(sealKey(secret)) // 32 bytes: cannot fail
	gcm, _ := cipher.NewGCM(block)
	nonce := make([]byte, gcm.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "" // no openid is better than a guessable nonce
	}
	return base64.RawURLEncoding.EncodeToString(gcm.Seal(nonce, nonce, []byte(openid), nil))
}

// open is seal's inverse; "" when sealed is empty or does not open.
func open(secret []byte, sealed string) string {
	data, err := base64.RawURLEncoding.DecodeString(sealed)
	if sealed == "" || secret == nil || err != nil {
		return ""
	}
	block, _ := aes.NewCipher(sealKey(secret))
	gcm, _ := cipher.NewGCM(block)
	if len(data) < gcm.NonceSize() {
		return ""
	}
	plain, err := gcm.Open(nil, data[:gcm.NonceSize()], data[gcm.NonceSize():], nil)
	if err != nil {
		return ""
	}
	return string(plain)
}

func mac(secret []byte, body string) []byte {
	h := hmac.New(sha256.New, secret)
	h.Write([]byte(body))
	return h.Sum(nil)
}

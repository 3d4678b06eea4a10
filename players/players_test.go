package players

import (
	"bytes"
	"encoding/json"
	"image"
	"image/png"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/caiquan/caiquan/auth"
	"github.com/caiquan/caiquan/store/memory"
)

type verifier struct{}

func (verifier) Verify(token string, _ time.Time) (auth.Claims, error) {
	if token != "good" {
		return auth.Claims{}, auth.ErrBadToken
	}
	return auth.Claims{Sub: "g_1"}, nil
}

func newHandler() *Handler {
	st := memory.New()
	return &Handler{Store: st, Avatars: st, Tokens: verifier{}, Now: time.Now, Log: slog.New(slog.DiscardHandler)}
}

func post(h http.Handler, data []byte) (int, map[string]any) {
	req := httptest.NewRequest(http.MethodPost, "/avatar", bytes.NewReader(data))
	req.Header.Set("Content-Type", "image/png")
	req.Header.Set("Authorization", "Bearer good")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var out map[string]any
	json.Unmarshal(rec.Body.Bytes(), &out)
	return rec.Code, out
}

// TestDecodingBounded: while maxDecoding pictures are decoded, one more
// upload gets 503 server_busy at once; once one ends, uploads go in.
func TestDecodingBounded(t *testing.T) {
	h := newHandler()
	var b bytes.Buffer
	png.Encode(&b, image.NewGray(image.Rect(0, 0, 4, 4)))
	for range maxDecoding {
		if !h.acquire() {
			t.Fatal("a slot below the bound was refused")
		}
	}
	if status, body := post(h, b.Bytes()); status != 503 || body["code"] != "server_busy" {
		t.Fatalf("upload at the bound: %d %v", status, body)
	}
	h.release()
	if status, body := post(h, b.Bytes()); status != 200 || body["url"] == nil {
		t.Fatalf("upload after a slot freed: %d %v", status, body)
	}
}

// TestName: a picture's name depends on the uid and the bytes, and is
// 32 hex digits and the extension.
func TestName(t *testing.T) {
	a, b, c := Name("u1", []byte("x"), ".png"), Name("u2", []byte("x"), ".png"), Name("u1", []byte("y"), ".png")
	if a == b || a == c || !nameRE.MatchString(a) || Name("u1", []byte("x"), ".png") != a {
		t.Errorf("names %s %s %s", a, b, c)
	}
}

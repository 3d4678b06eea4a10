package players

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/caiquan/caiquan"
	"github.com/caiquan/caiquan/auth"
	"github.com/caiquan/caiquan/messages"
)

const (
	// MaxAvatarBytes bounds an uploaded picture.
	MaxAvatarBytes = 256 << 10
	// MaxAvatarSide bounds a picture's width and height: decoded, it takes
	// 4 bytes a pixel, so at most 4 MiB.
	MaxAvatarSide = 1024
	// multipartSlack is what a multipart body may hold beside the picture
	// (boundaries, part headers, small fields).
	multipartSlack = 16 << 10
	// checkTimeout bounds one content check.
	checkTimeout = 5 * time.Second

	// maxDecoding bounds the pictures decoded at once: each may take 4 MiB
	// and a core for a moment; more uploads wait for none and get 503.
	maxDecoding = 4

	// AvatarsPath + NAME serves a picture.
	AvatarsPath = "/avatars/"
)

// Refusal codes beside the token codes of messages.
const (
	CodeMethod        = "method_not_allowed" // 405
	CodeBadRequest    = "bad_request"        // 400: no "avatar" part, or a body of another type
	CodeTooLarge      = "avatar_too_large"   // 413: over MaxAvatarBytes
	CodeNotAnImage    = "unsupported_image"  // 415: neither PNG nor JPEG by its bytes
	CodeBadImage      = "bad_image"          // 422: PNG or JPEG that does not decode (truncated, damaged)
	CodeTooManyPixels = "image_too_big"      // 422: a side over MaxAvatarSide pixels
	CodeNotFound      = "not_found"          // 404: no such picture
	CodeOff           = "players_api_off"    // 404: anonymous mode has no tokens, so no "me"
	CodeUnavailable   = "store_unavailable"  // 503
)

// Verifier checks a token; auth.Signer is one.
type Verifier interface {
	Verify(token string, now time.Time) (auth.Claims, error)
}

// Ops are the changes a player actor makes (actors.Server is one).
type Ops interface {
	PlayerOp(uid, op, uname string) (kicked bool, err error)
}

// Checker is WeChat's content check (auth.ContentCheck): nil error when
// the content may be shown, ErrRefused when not, another error when the
// check could not be made.
type Checker interface {
	CheckImage(ctx context.Context, openid string, data []byte, contentType string) error
}

// Handler serves the routes of the package doc.
type Handler struct {
	Store   caiquan.Store
	Avatars caiquan.Players
	Tokens  Verifier // nil: anonymous mode, only GET /avatars/ is served
	Ops     Ops
	Check   Checker // nil: no content check
	Now     func() time.Time
	Log     *slog.Logger

	decodingOnce sync.Once
	decoding     chan struct{}
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case strings.HasPrefix(r.URL.Path, AvatarsPath):
		h.serveAvatar(w, r, strings.TrimPrefix(r.URL.Path, AvatarsPath))
	case h.Tokens == nil:
		writeJSON(w, http.StatusNotFound, refusal{CodeOff, "this server runs in anonymous mode: there are no tokens, so no player can prove who it is"})
	case r.URL.Path == "/avatar":
		if !allow(w, r, http.MethodPost) {
			return
		}
		h.upload(w, r)
	case r.URL.Path == "/me":
		if !allow(w, r, http.MethodDelete) {
			return
		}
		h.deleteMe(w, r)
	case r.URL.Path == "/me/export":
		if !allow(w, r, http.MethodGet) {
			return
		}
		h.export(w, r)
	default:
		writeJSON(w, http.StatusNotFound, refusal{CodeNotFound, "no such path: " + r.URL.Path})
	}
}

func allow(w http.ResponseWriter, r *http.Request, method string) bool {
	if r.Method == method {
		return true
	}
	w.Header().Set("Allow", method)
	writeJSON(w, http.StatusMethodNotAllowed, refusal{CodeMethod, r.URL.Path + " takes " + method})
	return false
}

// player is the uid of the request's bearer token, or false after a refusal.
func (h *Handler) player(w http.ResponseWriter, r *http.Request) (auth.Claims, bool) {
	authz := r.Header.Values("Authorization")
	if len(authz) == 0 {
		w.Header().Set("WWW-Authenticate", `Bearer realm="caiquan"`)
		writeJSON(w, http.StatusUnauthorized, refusal{messages.CodeTokenRequired, "send the player's token: Authorization: Bearer <token>"})
		return auth.Claims{}, false
	}
	scheme, token, _ := strings.Cut(authz[0], " ")
	if len(authz) > 1 || !strings.EqualFold(scheme, "Bearer") || token == "" {
		writeJSON(w, http.StatusBadRequest, refusal{auth.CodeBadAuthorization, "Authorization must be one header \"Bearer <token>\""})
		return auth.Claims{}, false
	}
	c, err := h.Tokens.Verify(token, h.Now())
	switch {
	case errors.Is(err, auth.ErrExpired):
		writeJSON(w, http.StatusUnauthorized, refusal{messages.CodeTokenExpired, "the token has expired; log in again"})
		return auth.Claims{}, false
	case err != nil:
		writeJSON(w, http.StatusUnauthorized, refusal{messages.CodeBadToken, "the token is not valid; log in again"})
		return auth.Claims{}, false
	}
	return c, true
}

// upload is POST /avatar.
func (h *Handler) upload(w http.ResponseWriter, r *http.Request) {
	claims, ok := h.player(w, r)
	if !ok {
		return
	}
	limit := int64(MaxAvatarBytes + multipartSlack)
	if r.ContentLength > limit {
		// Refused before a byte of the body is read.
		w.Header().Set("Connection", "close")
		writeJSON(w, http.StatusRequestEntityTooLarge, refusal{CodeTooLarge, fmt.Sprintf("a picture may be at most %d bytes", MaxAvatarBytes)})
		return
	}
	rec, err := h.Store.Load(claims.Sub)
	if err != nil {
		h.unavailable(w, "load", claims.Sub, err)
		return
	}
	if rec.Banned {
		writeJSON(w, http.StatusForbidden, refusal{messages.CodeBanned, "this player is banned by the server's operator"})
		return
	}
	body := http.MaxBytesReader(w, r.Body, limit)
	raw, status, ref := readPicture(r, body)
	if status != 0 {
		if status == http.StatusRequestEntityTooLarge {
			w.Header().Set("Connection", "close")
		}
		writeJSON(w, status, ref)
		return
	}
	if !h.acquire() {
		w.Header().Set("Retry-After", "1")
		writeJSON(w, http.StatusServiceUnavailable, refusal{messages.CodeServerBusy, "too many pictures are being read at once; try again in a moment"})
		return
	}
	data, ext, status, ref := reencode(raw)
	h.release()
	if status != 0 {
		writeJSON(w, status, ref)
		return
	}
	if h.Check != nil {
		ctx, cancel := context.WithTimeout(r.Context(), checkTimeout)
		err := h.Check.CheckImage(ctx, claims.OpenID, data, mime.TypeByExtension(ext))
		cancel()
		if status, ref := checkRefusal(err); status != 0 {
			h.Log.Warn("avatar: content check", "code", ref.Code, "err", err)
			writeJSON(w, status, ref)
			return
		}
	}
	a := caiquan.Avatar{Name: Name(claims.Sub, data, ext), Data: data}
	if err := h.Avatars.PutAvatar(claims.Sub, a); err != nil {
		h.unavailable(w, "save the avatar", claims.Sub, err)
		return
	}
	writeJSON(w, http.StatusOK, struct {
		URL string `json:"url"`
	}{AvatarsPath + a.Name})
}

func (h *Handler) acquire() bool {
	h.decodingOnce.Do(func() { h.decoding = make(chan struct{}, maxDecoding) })
	select {
	case h.decoding <- struct{}{}:
		return true
	default:
		return false
	}
}

func (h *Handler) release() { <-h.decoding }

// checkRefusal maps a content check's answer to ours; status 0 lets it pass.
func checkRefusal(err error) (int, refusal) {
	switch {
	case err == nil:
		return 0, refusal{}
	case errors.Is(err, auth.ErrRefused):
		return http.StatusUnprocessableEntity, refusal{messages.CodeContentRefused, "WeChat's content check refused this picture; choose another"}
	default:
		return http.StatusServiceUnavailable, refusal{messages.CodeContentCheck, "WeChat's content check could not be asked, so nothing is shown; try again later"}
	}
}

// readPicture reads the picture's bytes: the "avatar" part of a multipart
// body, or the whole body of an image/png or image/jpeg request.
func readPicture(r *http.Request, body io.Reader) ([]byte, int, refusal) {
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil {
		return nil, http.StatusBadRequest, refusal{CodeBadRequest, "send multipart/form-data with the picture in the field \"avatar\", or the picture itself as image/png or image/jpeg"}
	}
	switch mt {
	case "image/png", "image/jpeg":
		return readAtMost(body)
	case "multipart/form-data":
		if params["boundary"] == "" {
			return nil, http.StatusBadRequest, refusal{CodeBadRequest, "multipart/form-data without a boundary"}
		}
		mr := multipart.NewReader(body, params["boundary"])
		for {
			part, err := mr.NextPart()
			if err != nil {
				return nil, statusOf(err, http.StatusBadRequest), refusal{CodeBadRequest, "no part named \"avatar\" in the form"}
			}
			if part.FormName() == "avatar" {
				return readAtMost(part)
			}
			// Other fields (wx.uploadFile's formData) are read past, within
			// the body's bound.
			if _, err := io.Copy(io.Discard, part); err != nil {
				return nil, statusOf(err, http.StatusBadRequest), refusal{CodeBadRequest, "the form does not read: " + err.Error()}
			}
		}
	default:
		return nil, http.StatusUnsupportedMediaType, refusal{CodeBadRequest, "send multipart/form-data with the picture in the field \"avatar\", or the picture itself as image/png or image/jpeg, not " + mt}
	}
}

// readAtMost reads r up to MaxAvatarBytes, and refuses more.
func readAtMost(r io.Reader) ([]byte, int, refusal) {
	data, err := io.ReadAll(io.LimitReader(r, MaxAvatarBytes+1))
	if err != nil {
		return nil, statusOf(err, http.StatusBadRequest), refusal{CodeBadRequest, "the body does not read: " + err.Error()}
	}
	if len(data) > MaxAvatarBytes {
		return nil, http.StatusRequestEntityTooLarge, refusal{CodeTooLarge, fmt.Sprintf("a picture may be at most %d bytes", MaxAvatarBytes)}
	}
	return data, 0, refusal{}
}

func statusOf(err error, otherwise int) int {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return http.StatusRequestEntityTooLarge
	}
	return otherwise
}

var (
	pngMagic  = []byte("\x89PNG\r\n\x1a\n")
	jpegMagic = []byte("\xff\xd8\xff")
)

// reencode decodes raw, a PNG or JPEG by its first bytes, within
// MaxAvatarSide, and encodes it again in the same format.
func reencode(raw []byte) ([]byte, string, int, refusal) {
	var decodeConfig func(io.Reader) (image.Config, error)
	var decode func(io.Reader) (image.Image, error)
	var ext string
	switch {
	case bytes.HasPrefix(raw, pngMagic):
		decodeConfig, decode, ext = png.DecodeConfig, png.Decode, ".png"
	case bytes.HasPrefix(raw, jpegMagic):
		decodeConfig, decode, ext = jpeg.DecodeConfig, jpeg.Decode, ".jpg"
	default:
		return nil, "", http.StatusUnsupportedMediaType, refusal{CodeNotAnImage, "the picture must be a PNG or a JPEG"}
	}
	cfg, err := decodeConfig(bytes.NewReader(raw))
	if err != nil {
		return nil, "", http.StatusUnprocessableEntity, refusal{CodeBadImage, "the picture does not decode: " + err.Error()}
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width > MaxAvatarSide || cfg.Height > MaxAvatarSide {
		return nil, "", http.StatusUnprocessableEntity, refusal{CodeTooManyPixels, fmt.Sprintf("the picture is %d×%d pixels; at most %d a side", cfg.Width, cfg.Height, MaxAvatarSide)}
	}
	img, err := decode(bytes.NewReader(raw))
	if err != nil {
		return nil, "", http.StatusUnprocessableEntity, refusal{CodeBadImage, "the picture does not decode: " + err.Error()}
	}
	var out bytes.Buffer
	if ext == ".png" {
		err = (&png.Encoder{CompressionLevel: png.BestCompression}).Encode(&out, img)
	} else {
		err = jpeg.Encode(&out, img, &jpeg.Options{Quality: 90})
	}
	if err != nil {
		return nil, "", http.StatusUnprocessableEntity, refusal{CodeBadImage, "the picture does not encode: " + err.Error()}
	}
	return out.Bytes(), ext, 0, refusal{}
}

// Name is a picture's name: 128 bits of SHA-256 over the uid and the
// encoded picture, and its extension. It names one picture of one player
// (two players' equal pictures are two names) and gives nothing else
// away.
func Name(uid string, data []byte, ext string) string {
	h := sha256.New()
	h.Write([]byte(uid))
	h.Write([]byte{0})
	h.Write(data)
	return hex.EncodeToString(h.Sum(nil)[:16]) + ext
}

var nameRE = regexp.MustCompile(`^[0-9a-f]{32}\.(png|jpg)$`)

// serveAvatar is GET /avatars/NAME. A name is its content's: the answer
// never changes, so it may be kept for a year.
func (h *Handler) serveAvatar(w http.ResponseWriter, r *http.Request, name string) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeJSON(w, http.StatusMethodNotAllowed, refusal{CodeMethod, "pictures are read with GET"})
		return
	}
	if !nameRE.MatchString(name) {
		writeJSON(w, http.StatusNotFound, refusal{CodeNotFound, "no such picture"})
		return
	}
	a, err := h.Avatars.Avatar(name)
	if errors.Is(err, caiquan.ErrNoAvatar) {
		writeJSON(w, http.StatusNotFound, refusal{CodeNotFound, "no such picture"})
		return
	}
	if err != nil {
		h.unavailable(w, "read avatar", name, err)
		return
	}
	hd := w.Header()
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Content-Security-Policy", "default-src 'none'")
	hd.Set("Cross-Origin-Resource-Policy", "cross-origin")
	hd.Set("Cache-Control", "public, max-age=31536000, immutable")
	etag := `"` + strings.TrimSuffix(strings.TrimSuffix(name, ".png"), ".jpg") + `"`
	hd.Set("ETag", etag)
	if strings.HasSuffix(name, ".png") {
		hd.Set("Content-Type", "image/png")
	} else {
		hd.Set("Content-Type", "image/jpeg")
	}
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	hd.Set("Content-Length", strconv.Itoa(len(a.Data)))
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodGet {
		w.Write(a.Data)
	}
}

// deleteMe is DELETE /me: through the player actor, so a live session is
// closed and the actor's record is the empty one the store now holds.
func (h *Handler) deleteMe(w http.ResponseWriter, r *http.Request) {
	claims, ok := h.player(w, r)
	if !ok {
		return
	}
	if _, err := h.Ops.PlayerOp(claims.Sub, "delete", ""); err != nil {
		h.unavailable(w, "delete", claims.Sub, err)
		return
	}
	h.Log.Info("player deleted its data", "uid", claims.Sub)
	writeJSON(w, http.StatusOK, struct {
		Deleted string `json:"deleted"`
	}{claims.Sub})
}

// Export is GET /me/export's answer.
type Export struct {
	UID          string    `json:"uid"`
	Uname        string    `json:"uname"`
	Avatar       string    `json:"avatar"`
	Total        int32     `json:"total"`
	Streak       int32     `json:"streak"`
	Rounds       int       `json:"rounds"`
	LastSeen     time.Time `json:"last_seen,omitzero"`
	Banned       bool      `json:"banned,omitempty"`
	RecentRounds []Round   `json:"recent_rounds"`
}

// Round is one of the last rounds a player finished.
type Round struct {
	RoundID    string `json:"round_id"`
	RoundScore int32  `json:"round_score"`
	Total      int32  `json:"total"`
	Streak     int32  `json:"streak"`
}

func (h *Handler) export(w http.ResponseWriter, r *http.Request) {
	claims, ok := h.player(w, r)
	if !ok {
		return
	}
	rec, err := h.Store.Load(claims.Sub)
	if err != nil {
		h.unavailable(w, "load", claims.Sub, err)
		return
	}
	out := Export{UID: claims.Sub, Uname: rec.Uname, Avatar: rec.Uavatar, Total: rec.Total, Streak: rec.Streak,
		Rounds: rec.Rounds, LastSeen: rec.LastSeen, Banned: rec.Banned, RecentRounds: []Round{}}
	for _, a := range rec.Recent {
		out.RecentRounds = append(out.RecentRounds, Round{RoundID: a.RoundID, RoundScore: a.RoundScore, Total: a.Total, Streak: a.Streak})
	}
	w.Header().Set("Content-Disposition", `attachment; filename="caiquan-export.json"`)
	writeJSON(w, http.StatusOK, out)
}

func (h *Handler) unavailable(w http.ResponseWriter, what, key string, err error) {
	h.Log.Warn("players: store", "op", what, "key", key, "err", err)
	w.Header().Set("Retry-After", "1")
	writeJSON(w, http.StatusServiceUnavailable, refusal{CodeUnavailable, "the player store did not answer; try again"})
}

type refusal struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(body)
}

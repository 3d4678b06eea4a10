package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/caiquan/caiquan/internal/testing/testserver"
)

// The content check's stand-in: an access token for the test app; a name
// holding "badword" is risky (version 2's answer), one holding
// "checkdown" gets HTTP 500; a picture whose top-left pixel is pure red is
// risky (errcode 87014).
const (
	fakeAccessToken = "AT-test"
	riskyName       = "badword"
	checkDownName   = "checkdown"
)

var (
	red   = color.RGBA{255, 0, 0, 255}
	green = color.RGBA{0, 255, 0, 255} // the stand-in fails on it
)

// fakeContentCheck answers WeChat's access token and content check paths;
// false for any other path.
func fakeContentCheck(w http.ResponseWriter, r *http.Request) bool {
	q := r.URL.Query()
	switch r.URL.Path {
	case "/cgi-bin/token":
		if q.Get("appid") != appID || q.Get("secret") != appSecret || q.Get("grant_type") != "client_credential" {
			json.NewEncoder(w).Encode(map[string]any{"errcode": 40013, "errmsg": "invalid appid"})
			return true
		}
		json.NewEncoder(w).Encode(map[string]any{"access_token": fakeAccessToken, "expires_in": 7200})
	case "/wxa/msg_sec_check":
		if q.Get("access_token") != fakeAccessToken || r.Method != http.MethodPost {
			json.NewEncoder(w).Encode(map[string]any{"errcode": 40001, "errmsg": "invalid credential"})
			return true
		}
		var body struct {
			Content string `json:"content"`
			Version int    `json:"version"`
			OpenID  string `json:"openid"`
		}
		json.NewDecoder(r.Body).Decode(&body)
		switch {
		case strings.Contains(body.Content, checkDownName):
			http.Error(w, "down", http.StatusInternalServerError)
		case body.Version != 2 || body.OpenID == "":
			json.NewEncoder(w).Encode(map[string]any{"errcode": 47001, "errmsg": "data format error"})
		case strings.Contains(body.Content, riskyName):
			json.NewEncoder(w).Encode(map[string]any{"errcode": 0, "errmsg": "ok", "result": map[string]any{"suggest": "risky", "label": 20001}})
		default:
			json.NewEncoder(w).Encode(map[string]any{"errcode": 0, "errmsg": "ok", "result": map[string]any{"suggest": "pass", "label": 100}})
		}
	case "/wxa/img_sec_check":
		f, _, err := r.FormFile("media")
		if q.Get("access_token") != fakeAccessToken || err != nil {
			json.NewEncoder(w).Encode(map[string]any{"errcode": 40001, "errmsg": "invalid credential or no media"})
			return true
		}
		img, _, err := image.Decode(f)
		switch {
		case err != nil:
			json.NewEncoder(w).Encode(map[string]any{"errcode": 40006, "errmsg": "invalid media"})
		case color.RGBAModel.Convert(img.At(img.Bounds().Min.X, img.Bounds().Min.Y)) == red:
			json.NewEncoder(w).Encode(map[string]any{"errcode": 87014, "errmsg": "risky content"})
		case color.RGBAModel.Convert(img.At(img.Bounds().Min.X, img.Bounds().Min.Y)) == green:
			http.Error(w, "down", http.StatusInternalServerError)
		default:
			json.NewEncoder(w).Encode(map[string]any{"errcode": 0, "errmsg": "ok"})
		}
	default:
		return false
	}
	return true
}

// picture is a w×h image with c at the top left, some noise, and the rest gray.
func picture(w, h int, c color.Color) image.Image {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, color.RGBA{uint8(x * 7), uint8(y * 3), 128, 255})
		}
	}
	img.Set(0, 0, c)
	return img
}

func pngOf(t *testing.T, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func jpegOf(t *testing.T, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// upload posts data as wx.uploadFile does (multipart, field "avatar",
// plus a form field) or, with contentType set, as a raw body.
func upload(t *testing.T, s *testserver.Server, token string, data []byte, contentType string) (int, map[string]any) {
	t.Helper()
	var body bytes.Buffer
	ct := contentType
	if ct == "" {
		mw := multipart.NewWriter(&body)
		mw.WriteField("purpose", "avatar")
		fw, _ := mw.CreateFormFile("avatar", "tmp_avatar.png")
		fw.Write(data)
		mw.Close()
		ct = mw.FormDataContentType()
	} else {
		body.Write(data)
	}
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/avatar", &body)
	req.Header.Set("Content-Type", ct)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("POST /avatar: not JSON: %d %q", resp.StatusCode, raw)
	}
	return resp.StatusCode, out
}

// fetch GETs path and returns the answer with its body read.
func fetch(t *testing.T, s *testserver.Server, path string) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.Get(s.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp, data
}

// TestAvatarUpload: PNG and JPEG, multipart and raw, come back as images
// the server encoded itself (bytes differ from what was sent, the pixels
// do not), with the headers that keep a browser from reading them as
// anything else. A second upload replaces the first.
func TestAvatarUpload(t *testing.T) {
	s := startGuestServer(t, []string{newKey})
	_, token := newGuest(t, s)
	src := picture(40, 30, color.RGBA{10, 20, 30, 255})
	// A PNG with a text chunk (metadata) and bytes after IEND: neither
	// may survive.
	sent := append(withTextChunk(pngOf(t, src), "Comment", "GPS 31.2,121.5"), []byte("<html>trailing</html>")...)
	status, body := upload(t, s, token, sent, "")
	url, _ := body["url"].(string)
	if status != 200 || !strings.HasPrefix(url, "/avatars/") || !strings.HasSuffix(url, ".png") {
		t.Fatalf("POST /avatar PNG: %d %v", status, body)
	}
	resp, data := fetch(t, s, url)
	h := resp.Header
	if resp.StatusCode != 200 || h.Get("Content-Type") != "image/png" || h.Get("X-Content-Type-Options") != "nosniff" ||
		h.Get("Content-Security-Policy") != "default-src 'none'" || !strings.Contains(h.Get("Cache-Control"), "max-age=") || h.Get("ETag") == "" {
		t.Fatalf("GET %s: %d %v", url, resp.StatusCode, h)
	}
	if bytes.Equal(data, sent) || bytes.Contains(data, []byte("GPS")) || bytes.Contains(data, []byte("html")) {
		t.Fatal("the served PNG keeps what was sent beside the pixels")
	}
	got, err := png.Decode(bytes.NewReader(data))
	if err != nil || got.Bounds().Dx() != 40 || got.Bounds().Dy() != 30 || color.RGBAModel.Convert(got.At(5, 5)) != src.At(5, 5) {
		t.Fatalf("served PNG: %v %v", err, got.Bounds())
	}
	if strings.Contains(url, strings.TrimPrefix(token, "v2.")[:8]) {
		t.Fatal("the name shows the token")
	}
	req, _ := http.NewRequest(http.MethodGet, s.URL+url, nil)
	req.Header.Set("If-None-Match", h.Get("ETag"))
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 304 {
		t.Fatalf("If-None-Match: %v %v", resp, err)
	}

	// JPEG, as a raw body.
	status, body = upload(t, s, token, jpegOf(t, src), "image/jpeg")
	jurl, _ := body["url"].(string)
	if status != 200 || !strings.HasSuffix(jurl, ".jpg") {
		t.Fatalf("POST /avatar JPEG: %d %v", status, body)
	}
	resp, data = fetch(t, s, jurl)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/jpeg" {
		t.Fatalf("GET %s: %d %v", jurl, resp.StatusCode, resp.Header)
	}
	if img, err := jpeg.Decode(bytes.NewReader(data)); err != nil || img.Bounds().Dx() != 40 {
		t.Fatalf("served JPEG does not decode: %v", err)
	}
	// The PNG was replaced.
	if resp, _ := fetch(t, s, url); resp.StatusCode != 404 {
		t.Errorf("the replaced picture still answers %d", resp.StatusCode)
	}
	for _, bad := range []string{"/avatars/../../etc/passwd", "/avatars/ZZZ.png", "/avatars/" + strings.Repeat("0", 32) + ".png"} {
		if resp, _ := fetch(t, s, bad); resp.StatusCode != 404 {
			t.Errorf("GET %s: %d, want 404", bad, resp.StatusCode)
		}
	}
}

// withTextChunk puts a tEXt chunk right after the PNG's IHDR.
func withTextChunk(p []byte, key, value string) []byte {
	data := append([]byte(key+"\x00"), value...)
	chunk := make([]byte, 0, 12+len(data))
	chunk = append(chunk, byte(len(data)>>24), byte(len(data)>>16), byte(len(data)>>8), byte(len(data)))
	chunk = append(chunk, "tEXt"...)
	chunk = append(chunk, data...)
	crc := crc32.ChecksumIEEE(chunk[4:])
	chunk = append(chunk, byte(crc>>24), byte(crc>>16), byte(crc>>8), byte(crc))
	ihdrEnd := 8 + 25
	return append(append(append([]byte(nil), p[:ihdrEnd]...), chunk...), p[ihdrEnd:]...)
}

// bombPNG is a valid PNG header of w×h pixels followed by a tiny IDAT:
// a few hundred bytes that would decode to w*h*4 bytes.
func bombPNG(w, h uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(kind string, data []byte) {
		hdr := []byte{byte(len(data) >> 24), byte(len(data) >> 16), byte(len(data) >> 8), byte(len(data))}
		b.Write(hdr)
		body := append([]byte(kind), data...)
		b.Write(body)
		crc := crc32.ChecksumIEEE(body)
		b.Write([]byte{byte(crc >> 24), byte(crc >> 16), byte(crc >> 8), byte(crc)})
	}
	chunk("IHDR", []byte{byte(w >> 24), byte(w >> 16), byte(w >> 8), byte(w), byte(h >> 24), byte(h >> 16), byte(h >> 8), byte(h), 8, 6, 0, 0, 0})
	chunk("IDAT", []byte{0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01})
	chunk("IEND", nil)
	return b.Bytes()
}

// TestAvatarRefusals: what is not a small PNG or JPEG of the player's own
// is refused with its code, and nothing is stored.
func TestAvatarRefusals(t *testing.T) {
	s := startGuestServer(t, []string{newKey})
	_, token := newGuest(t, s)
	good := pngOf(t, picture(8, 8, color.Black))
	var gif bytes.Buffer
	gif.WriteString("GIF89a\x01\x00\x01\x00\x00\x00\x00;")
	svg := []byte(`<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(1)</script></svg>`)
	htmlPNG := append([]byte("\x89PNG\r\n\x1a\n"), []byte("<html><script>alert(document.cookie)</script></html>")...)
	big := make([]byte, 300<<10)
	copy(big, good)
	for _, tc := range []struct {
		name   string
		token  string
		data   []byte
		ct     string
		status int
		code   string
	}{
		{"no token", "", good, "", 401, "token_required"},
		{"forged token", forge(token), good, "", 401, "bad_token"},
		{"GIF", token, gif.Bytes(), "", 415, "unsupported_image"},
		{"GIF sent as image/png", token, gif.Bytes(), "image/png", 415, "unsupported_image"},
		{"SVG", token, svg, "", 415, "unsupported_image"},
		{"HTML behind PNG magic", token, htmlPNG, "", 422, "bad_image"},
		{"truncated PNG", token, good[:len(good)/2], "", 422, "bad_image"},
		{"over 256 KiB", token, big, "", 413, "avatar_too_large"},
		{"over 256 KiB raw", token, big, "image/png", 413, "avatar_too_large"},
		{"text/html body", token, good, "text/html", 415, "bad_request"},
	} {
		status, body := upload(t, s, tc.token, tc.data, tc.ct)
		if status != tc.status || body["code"] != tc.code || body["message"] == "" {
			t.Errorf("%s: %d %v; want %d %s", tc.name, status, body, tc.status, tc.code)
		}
	}
	// A decompression bomb: 60000×60000 pixels (14 GB decoded) in 70 bytes.
	start := time.Now()
	status, body := upload(t, s, token, bombPNG(60000, 60000), "")
	if status != 422 || body["code"] != "image_too_big" {
		t.Errorf("bomb: %d %v; want 422 image_too_big", status, body)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("the bomb took %v to refuse", took)
	}
	// Just over the side limit is refused; at it, taken.
	if status, body := upload(t, s, token, pngOf(t, picture(1025, 2, color.Black)), ""); status != 422 || body["code"] != "image_too_big" {
		t.Errorf("1025 wide: %d %v", status, body)
	}
	// A body announced over the limit is refused before it is sent.
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/avatar", io.LimitReader(zeros{}, 10<<20))
	req.ContentLength = 10 << 20
	req.Header.Set("Content-Type", "image/png")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 413 {
		t.Errorf("10 MiB announced: %v %v", resp, err)
	}
	if !s.Alive() {
		t.Fatal("the server died")
	}
	if status, body := upload(t, s, token, good, ""); status != 200 {
		t.Errorf("a good picture after the refusals: %d %v", status, body)
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// meJSON calls a /me route with token.
func meJSON(t *testing.T, s *testserver.Server, method, path, token string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, s.URL+path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("%s %s: not JSON", method, path)
	}
	return resp.StatusCode, out
}

// TestExportAndDelete: the export holds what the player's record holds;
// DELETE /me removes the record, the picture and the leaderboard line,
// closes the live session, and the next hello starts afresh. Another
// player's token deletes only that player.
func TestExportAndDelete(t *testing.T) {
	s := startGuestServer(t, []string{newKey})
	alice, aliceTok := newGuest(t, s)
	bob, bobTok := newGuest(t, s)
	_, body := upload(t, s, aliceTok, pngOf(t, picture(8, 8, color.Black)), "")
	pic := body["url"].(string)
	a := dial(t, s.WSURL("/ws?format=json"))
	a.send("hello", map[string]any{"token": aliceTok, "user": map[string]any{"uid": "x", "uname": "Alice", "uavatar": pic}})
	a.expect("hi")
	got := a.playRound(alice)
	b, _ := greet(t, s, "", bobTok)
	b.playRound(bob)

	status, exp := meJSON(t, s, http.MethodGet, "/me/export", aliceTok)
	recent, _ := exp["recent_rounds"].([]any)
	if status != 200 || exp["uid"] != alice || exp["uname"] != "Alice" || exp["avatar"] != pic ||
		int(exp["total"].(float64)) != got.total || exp["rounds"].(float64) != 1 || len(recent) != 1 || exp["last_seen"] == nil {
		t.Fatalf("export: %d %v", status, exp)
	}
	if status, body := meJSON(t, s, http.MethodGet, "/me/export", ""); status != 401 || body["code"] != "token_required" {
		t.Errorf("export without a token: %d %v", status, body)
	}
	if status, body := meJSON(t, s, http.MethodDelete, "/me", forge(aliceTok)); status != 401 || body["code"] != "bad_token" {
		t.Errorf("DELETE /me with a forged token: %d %v", status, body)
	}

	// Bob deletes himself: Alice keeps everything.
	if status, body := meJSON(t, s, http.MethodDelete, "/me", bobTok); status != 200 || body["deleted"] != bob {
		t.Fatalf("DELETE /me (bob): %d %v", status, body)
	}
	if resp, _ := fetch(t, s, pic); resp.StatusCode != 200 {
		t.Fatalf("bob's deletion took alice's picture: %d", resp.StatusCode)
	}
	// Bob's live socket was closed with 4006.
	b.ws.SetReadDeadline(time.Now().Add(waitTime))
	for {
		if _, _, err := b.ws.ReadMessage(); err != nil {
			if !websocket.IsCloseError(err, 4006) {
				t.Fatalf("bob's socket ended with %v; want close 4006", err)
			}
			break
		}
	}

	if status, body := meJSON(t, s, http.MethodDelete, "/me", aliceTok); status != 200 || body["deleted"] != alice {
		t.Fatalf("DELETE /me: %d %v", status, body)
	}
	if resp, _ := fetch(t, s, pic); resp.StatusCode != 404 {
		t.Errorf("the picture after DELETE /me: %d", resp.StatusCode)
	}
	_, board := getJSON(t, http.MethodGet, s.URL+"/leaderboard?top=100", "")
	if strings.Contains(fmt.Sprint(board), alice) || strings.Contains(fmt.Sprint(board), bob) {
		t.Errorf("the leaderboard still lists a deleted player: %v", board)
	}
	if status, _ := getJSON(t, http.MethodGet, s.URL+"/leaderboard/"+alice, ""); status != 404 {
		t.Errorf("/leaderboard/%s after deletion: %d", alice, status)
	}
	_, hi := greet(t, s, "", aliceTok)
	if total(hi) != 0 {
		t.Errorf("hi after deletion: %v; want a fresh record", hi)
	}
	status, exp = meJSON(t, s, http.MethodGet, "/me/export", aliceTok)
	if status != 200 || exp["rounds"].(float64) != 0 || exp["uname"] != "" || len(exp["recent_rounds"].([]any)) != 0 {
		t.Errorf("export after deletion: %d %v", status, exp)
	}
}

// TestPlayersAPIAnonymous: in anonymous mode no one can prove who it is,
// so the routes that act for a player are off.
func TestPlayersAPIAnonymous(t *testing.T) {
	s := testserver.Start(t, "-auth-mode", "anonymous")
	for _, r := range [][2]string{{http.MethodPost, "/avatar"}, {http.MethodDelete, "/me"}, {http.MethodGet, "/me/export"}} {
		if status, body := meJSON(t, s, r[0], r[1], ""); status != 404 || body["code"] != "players_api_off" {
			t.Errorf("%s %s: %d %v", r[0], r[1], status, body)
		}
	}
}

// TestContentCheckOff: with wechat_content_check off no check is asked
// (the stand-in would refuse this name) and any avatar URL is shown.
func TestContentCheckOff(t *testing.T) {
	s := startWeChatServer(t, "-wechat-content-check=false")
	status, body := getJSON(t, http.MethodPost, s.URL+"/login", `{"code":"ok-oFay","uname":"badword","uavatar":"https://a.example/f.png"}`)
	if status != 200 {
		t.Fatalf("login with the check off: %d %v", status, body)
	}
	c := dial(t, s.WSURL("/ws?format=json"))
	c.send("hello", map[string]any{"token": body["token"], "user": map[string]any{"uname": "checkdown badword", "uavatar": "https://a.example/g.png"}})
	c.expect("hi")
}

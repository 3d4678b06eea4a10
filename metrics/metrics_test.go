package metrics

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestEndpoint(t *testing.T) {
	m := New()
	token := strings.Repeat("t", 32)
	for _, tc := range []struct {
		handler      http.Handler
		method, path string
		auth         string
		want         int
	}{
		{m.Endpoint(""), "GET", "/metrics", "", 200},
		{m.Endpoint(""), "HEAD", "/metrics", "", 200},
		{m.Endpoint(""), "POST", "/metrics", "", 405},
		{m.Endpoint(""), "GET", "/", "", 404},
		{m.Endpoint(""), "GET", "/actors", "", 404},
		{m.Endpoint(""), "GET", "/metrics/", "", 404},
		{m.Endpoint(token), "GET", "/metrics", "", 401},
		{m.Endpoint(token), "GET", "/metrics", "Bearer " + token[1:], 401},
		{m.Endpoint(token), "GET", "/metrics", token, 401},
		{m.Endpoint(token), "GET", "/metrics", "Bearer " + token, 200},
	} {
		req := httptest.NewRequest(tc.method, tc.path, nil)
		if tc.auth != "" {
			req.Header.Set("Authorization", tc.auth)
		}
		rec := httptest.NewRecorder()
		tc.handler.ServeHTTP(rec, req)
		if rec.Code != tc.want {
			t.Errorf("%s %s %q: %d, want %d", tc.method, tc.path, tc.auth, rec.Code, tc.want)
		}
	}
	rec := httptest.NewRecorder()
	m.Endpoint("").ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	for _, r := range RefusedReasons {
		if !strings.Contains(string(body), `caiquan_connections_refused_total{reason="`+r+`"} 0`) {
			t.Errorf("no zero series for refused %s", r)
		}
	}
	for _, r := range DroppedReasons {
		if !strings.Contains(string(body), `caiquan_connections_dropped_total{reason="`+r+`"} 0`) {
			t.Errorf("no zero series for dropped %s", r)
		}
	}
}

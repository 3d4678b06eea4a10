// Package web is the browser demo of the game: a page that plays against a
// bot, or another tab, over /ws with the JavaScript SDK. Handler serves the
// page at / and the SDK package's browser build at /sdk/caiquan.js (with
// its types and package.json) from files built into the binary.
package web

import (
	"embed"
	"io/fs"
	"net/http"

	"github.com/caiquan/caiquan/sdk"
)

//go:embed static
var static embed.FS

// Handler serves the demo (/, /app.js, /style.css) and the SDK
// (/sdk/caiquan.js, /sdk/caiquan.d.ts, /sdk/package.json) to GET and HEAD.
// Responses must be revalidated, so a new server version reaches open
// browsers at the next load.
func Handler() http.Handler {
	files, err := fs.Sub(static, "static")
	if err != nil {
		panic(err) // the embedded tree always has static/
	}
	mux := http.NewServeMux()
	mux.Handle("GET /sdk/{file}", http.StripPrefix("/sdk/", http.FileServerFS(sdk.Files)))
	mux.Handle("GET /", http.FileServerFS(files))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-cache")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		mux.ServeHTTP(w, r)
	})
}

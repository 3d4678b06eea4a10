package admin

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"net/http"
	"strings"
	"time"
)

// The console is a page on the admin listener that drives this API from a
// browser. Its files carry no data and are served without the token (a
// browser cannot send a header when it navigates); everything the page
// shows comes from API calls that carry the token the operator pasted.

//go:embed console
var consoleFS embed.FS

// ConsolePath is where the console's page is served.
const ConsolePath = "/console"

// consoleCSP lets the page run only its own script and style, talk only to
// its own origin, and be framed by nobody: a player's name shown in the
// tree cannot become markup that runs, and no other site can overlay the
// kill buttons.
const consoleCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; " +
	"connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

type consoleFile struct {
	ctype, etag string
	data        []byte
}

// consoleFiles are the page's files by request path; nothing else under
// /console is served.
var consoleFiles = func() map[string]consoleFile {
	files := map[string]consoleFile{}
	for path, name := range map[string]string{
		ConsolePath:                  "index.html",
		ConsolePath + "/console.js":  "console.js",
		ConsolePath + "/console.css": "console.css",
		ConsolePath + "/icon.svg":    "icon.svg",
	} {
		data, err := consoleFS.ReadFile("console/" + name)
		if err != nil {
			panic(err) // the embedded tree has every file named here
		}
		sum := sha256.Sum256(data)
		files[path] = consoleFile{
			ctype: consoleTypes[name[strings.LastIndexByte(name, '.'):]],
			etag:  `"` + hex.EncodeToString(sum[:12]) + `"`,
			data:  data,
		}
	}
	return files
}()

var consoleTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".svg":  "image/svg+xml",
}

// isConsole reports whether r asks for the console (any path under it).
func isConsole(r *http.Request) bool {
	return r.URL.Path == ConsolePath || strings.HasPrefix(r.URL.Path, ConsolePath+"/")
}

// serveConsole answers a request for the console: a GET or HEAD for one of
// its files, from this listener's own site.
func (s *Server) serveConsole(w http.ResponseWriter, r *http.Request) {
	consoleHeaders(w.Header())
	if status, code, msg := s.guard.checkSite(r); status != 0 {
		writeError(w, status, code, msg)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeError(w, http.StatusMethodNotAllowed, "method_not_allowed", "the console's files answer GET and HEAD only")
		return
	}
	f, ok := consoleFiles[r.URL.Path]
	if !ok {
		writeError(w, http.StatusNotFound, "not_found", "no such console file; the console is at "+ConsolePath)
		return
	}
	w.Header().Set("Content-Type", f.ctype)
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("ETag", f.etag)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(f.data))
}

// consoleHeaders are on every answer under /console, errors included.
func consoleHeaders(h http.Header) {
	h.Set("Content-Security-Policy", consoleCSP)
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
}

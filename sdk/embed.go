// Package sdk holds the Caiquan JavaScript SDK (caiquan.js, with its types
// in caiquan.d.ts) and embeds it, so the server can serve the very file
// that its tests exercise. The Go side is only this; see README.md.
package sdk

import "embed"

// Files holds caiquan.js and caiquan.d.ts.
//
//go:embed caiquan.js caiquan.d.ts
var Files embed.FS

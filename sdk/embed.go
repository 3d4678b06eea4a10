// Package sdk holds caiquan-sdk, the Caiquan JavaScript SDK as an npm
// package (package.json; caiquan.js is its source, its CommonJS build and
// its browser build, with types in caiquan.d.ts; build.js makes the rest),
// and embeds the browser build, so the server serves the very file that
// the package ships and its tests exercise. The Go side is only this; see
// README.md.
package sdk

import "embed"

// Files holds caiquan.js (the browser build, package.json's "unpkg"),
// caiquan.d.ts and package.json.
//
//go:embed caiquan.js caiquan.d.ts package.json
var Files embed.FS

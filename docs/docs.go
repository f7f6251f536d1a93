// Package docs holds Beacon's documentation, embedded so that the web app
// can serve it at /docs/ where its pages link to it.
package docs

import "embed"

// Files are the documents, by name (web.md, routing.md …).
//
//go:embed *.md
var Files embed.FS

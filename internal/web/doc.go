// Package web owns the pages sales and success work in: sign-in with roles,
// sessions and CSRF protection; the queues (read through the queue
// package) with their acknowledgements, assignments and export; the
// account 360 view with its charts, notes and holds; user pages; the rules
// in force; the destinations; and the documents the pages link to. Pages
// are html/template rendered on the server, their charts SVG drawn from
// numbers; templates and styles are embedded in the binary, so nothing is
// built with Node.
package web

// Package web owns the pages sales and success work in: sign-in with roles,
// sessions and CSRF protection, the PQL queue and acknowledging its alerts.
// Pages are html/template rendered on the server; templates and styles are
// embedded in the binary, so nothing is built with Node.
package web

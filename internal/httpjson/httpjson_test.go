package httpjson

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
)

// Errors are answered in the one shape: a Problem as it is, a wrapped
// sentinel by the status it was given (with its header), anything else a
// 503 that says nothing of it but is logged.
func TestErrors(t *testing.T) {
	errGone := errors.New("gone")
	var logged bytes.Buffer
	errs := NewErrors(slog.New(slog.NewTextHandler(&logged, nil)), Is(errGone, 404, "not_found", ""),
		func(err error) *Problem {
			if !strings.Contains(err.Error(), "busy") {
				return nil
			}
			return &Problem{Status: 503, Code: "busy", Message: "busy", Header: map[string]string{"Retry-After": "1"}}
		})
	for _, tc := range []struct {
		err    error
		status int
		body   string
		header string
	}{
		{&Problem{Status: 400, Code: "invalid_parameter", Field: "userId", Message: "userId is required"}, 400,
			`{"error":{"code":"invalid_parameter","message":"userId is required","field":"userId"}}`, ""},
		{fmt.Errorf("account 7: %w", errGone), 404, `{"error":{"code":"not_found","message":"account 7: gone"}}`, ""},
		{errors.New("scores are busy"), 503, `{"error":{"code":"busy","message":"busy"}}`, "1"},
		{errors.New("dial tcp 10.0.0.1: secret host"), 503,
			`{"error":{"code":"unavailable","message":"the store could not take the request; retry"}}`, ""},
	} {
		rec := httptest.NewRecorder()
		errs.Write(rec, tc.err)
		if rec.Code != tc.status || strings.TrimSpace(rec.Body.String()) != tc.body || rec.Header().Get("Retry-After") != tc.header ||
			rec.Header().Get("Content-Type") != "application/json" {
			t.Errorf("%v: %d %s (Retry-After %q)", tc.err, rec.Code, rec.Body, rec.Header().Get("Retry-After"))
		}
	}
	if !strings.Contains(logged.String(), "secret host") || strings.Count(logged.String(), "request failed") != 1 {
		t.Fatalf("logged: %s", logged.String())
	}
}

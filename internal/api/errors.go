// Package api owns Beacon's admin API and the mapping of its domain errors
// to HTTP statuses (Statuses, handed to package httpjson once by the
// wiring): admin-token authentication, and the /api/v1 endpoints for stats,
// accounts, users, scores, alerts and their acknowledgement, keys, the
// quarantine and the audit log.
package api

import (
	"errors"
	"net/http"

	"github.com/beaconplg/beacon/internal/growth"
	"github.com/beaconplg/beacon/internal/httpjson"
	"github.com/beaconplg/beacon/internal/keys"
	"github.com/beaconplg/beacon/internal/queue"
	"github.com/beaconplg/beacon/internal/score"
	"github.com/beaconplg/beacon/internal/store"
)

// Problem is the one error shape (package httpjson).
type Problem = httpjson.Problem

// WriteJSON writes v with status.
func WriteJSON(w http.ResponseWriter, status int, v any) { httpjson.WriteJSON(w, status, v) }

// Statuses are how Beacon's domain errors are answered: given, once, to
// the httpjson writer every handler shares.
func Statuses() []httpjson.Status {
	return []httpjson.Status{
		func(err error) *Problem {
			var bad *queue.ParamError
			if !errors.As(err, &bad) {
				return nil
			}
			return &Problem{Status: http.StatusBadRequest, Code: "invalid_parameter", Field: bad.Field, Message: bad.Message,
				Limit: bad.Limit}
		},
		func(err error) *Problem {
			var bad *growth.QueryError
			if errors.As(err, &bad) {
				return &Problem{Status: http.StatusBadRequest, Code: "invalid_parameter", Field: bad.Field, Message: bad.Message}
			}
			if errors.Is(err, growth.ErrQuery) {
				return &Problem{Status: http.StatusBadRequest, Code: "invalid_parameter", Message: err.Error()}
			}
			return nil
		},
		httpjson.Is(store.ErrNotFound, http.StatusNotFound, "not_found", ""),
		httpjson.Is(store.ErrConflict, http.StatusConflict, "conflict", ""),
		func(err error) *Problem {
			if !errors.Is(err, keys.ErrUnauthorized) {
				return nil
			}
			return &Problem{Status: http.StatusUnauthorized, Code: "unauthorized", Message: "a valid key is required",
				Header: map[string]string{"WWW-Authenticate": `Basic realm="beacon"`}}
		},
		func(err error) *Problem {
			if !errors.Is(err, score.ErrBusy) {
				return nil
			}
			return &Problem{Status: http.StatusServiceUnavailable, Code: "busy", Message: err.Error(),
				Header: map[string]string{"Retry-After": "1"}}
		},
	}
}

// Package api owns Beacon's HTTP conventions and its admin API: the one JSON
// error shape, the mapping of domain errors to statuses, admin-token
// authentication, and the /api/v1 endpoints for stats, accounts, users,
// scores, alerts and their acknowledgement.
package api

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/beaconplg/beacon/internal/keys"
	"github.com/beaconplg/beacon/internal/queue"
	"github.com/beaconplg/beacon/internal/score"
	"github.com/beaconplg/beacon/internal/store"
)

// Problem is the body of every error response: {"error": {...}}.
type Problem struct {
	Status  int    `json:"-"`
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
	Index   *int   `json:"index,omitempty"`
	Limit   int    `json:"limit,omitempty"`
	// Accepted says, for a batch with refused messages, how many others were
	// committed all the same.
	Accepted *int `json:"accepted,omitempty"`
	Details  any  `json:"errors,omitempty"`
}

func (p *Problem) Error() string { return p.Message }

// WriteJSON writes v with status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// WriteError maps err to a status and writes it in the one error shape.
// Unexpected errors are logged and answered without their details.
func WriteError(w http.ResponseWriter, log *slog.Logger, err error) {
	var p *Problem
	var bad *queue.ParamError
	switch {
	case errors.As(err, &p):
	case errors.As(err, &bad):
		p = &Problem{Status: http.StatusBadRequest, Code: "invalid_parameter", Field: bad.Field, Message: bad.Message,
			Limit: bad.Limit}
	case errors.Is(err, store.ErrNotFound):
		p = &Problem{Status: http.StatusNotFound, Code: "not_found", Message: err.Error()}
	case errors.Is(err, store.ErrConflict):
		p = &Problem{Status: http.StatusConflict, Code: "conflict", Message: err.Error()}
	case errors.Is(err, keys.ErrUnauthorized):
		p = &Problem{Status: http.StatusUnauthorized, Code: "unauthorized", Message: "a valid key is required"}
	case errors.Is(err, score.ErrBusy):
		w.Header().Set("Retry-After", "1")
		p = &Problem{Status: http.StatusServiceUnavailable, Code: "busy", Message: err.Error()}
	default:
		log.Error("request failed", "err", err)
		p = &Problem{Status: http.StatusServiceUnavailable, Code: "unavailable", Message: "the store could not take the request; retry"}
	}
	if p.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Basic realm="beacon"`)
	}
	WriteJSON(w, p.Status, map[string]*Problem{"error": p})
}

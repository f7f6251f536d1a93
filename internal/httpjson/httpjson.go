// Package httpjson owns how Beacon answers in JSON over HTTP: the one error
// shape, {"error": {...}}, and the writing of an error once its status is
// known. It imports nothing of Beacon's domain: which domain error is which
// status is handed to it, once, by whoever wires the server (api.Statuses),
// so that the collector answers errors without depending on scoring or
// routing.
package httpjson

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
)

// Problem is the body of every error answer: {"error": {...}}.
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
	// Header is set on the answer (Retry-After, WWW-Authenticate).
	Header map[string]string `json:"-"`
}

func (p *Problem) Error() string { return p.Message }

// WriteJSON writes v with status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// Status says how errors of one kind are answered: Match returns the
// problem for an error of its kind, or nil for another.
type Status func(err error) *Problem

// Is answers errors that wrap sentinel with status and code; message, if
// not empty, replaces the error's own words.
func Is(sentinel error, status int, code, message string) Status {
	return func(err error) *Problem {
		if !errors.Is(err, sentinel) {
			return nil
		}
		return &Problem{Status: status, Code: code, Message: cmpOr(message, err.Error())}
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// Errors writes errors in the one shape, by the statuses it was given.
type Errors struct {
	log      *slog.Logger
	statuses []Status
}

// NewErrors returns a writer that answers errors by statuses, in order; an
// error none of them knows is logged and answered 503 without its details.
func NewErrors(log *slog.Logger, statuses ...Status) *Errors {
	return &Errors{log: log, statuses: statuses}
}

// Write answers err.
func (e *Errors) Write(w http.ResponseWriter, err error) {
	p := e.problem(err)
	for k, v := range p.Header {
		w.Header().Set(k, v)
	}
	WriteJSON(w, p.Status, map[string]*Problem{"error": p})
}

func (e *Errors) problem(err error) *Problem {
	var p *Problem
	if errors.As(err, &p) {
		return p
	}
	for _, s := range e.statuses {
		if p := s(err); p != nil {
			return p
		}
	}
	e.log.Error("request failed", "err", err)
	return &Problem{Status: http.StatusServiceUnavailable, Code: "unavailable", Message: "the store could not take the request; retry"}
}

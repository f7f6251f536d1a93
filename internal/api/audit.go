package api

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/beaconplg/beacon/internal/store"
)

// Auditor is the audit log: written by admin actions, read by admins.
type Auditor interface {
	Audit(ctx context.Context, e store.AuditEntry) error
	AuditLog(ctx context.Context, before int64, limit int) ([]store.AuditEntry, error)
}

// actorKey holds, in a request's context, who the admin middleware let in.
type actorKey struct{}

// audit records an admin action of r's token. The action is done already:
// a failure to record it is logged, and does not fail the request.
func (a *API) audit(r *http.Request, action, subject, detail string) {
	actor, _ := r.Context().Value(actorKey{}).(string)
	if err := a.db.Audit(r.Context(), store.AuditEntry{Actor: actor, Action: action, Subject: subject, Detail: detail}); err != nil {
		a.log.Error("audit log failed", "action", action, "err", err)
	}
}

// AuditView is one line of the audit log.
type AuditView struct {
	ID      int64     `json:"id"`
	At      time.Time `json:"at"`
	Actor   string    `json:"actor"`
	Action  string    `json:"action"`
	Subject string    `json:"subject,omitempty"`
	Detail  string    `json:"detail,omitempty"`
}

// auditLog lists the log newest first: GET /api/v1/audit?before=ID&limit=N.
func (a *API) auditLog(r *http.Request) (any, error) {
	q := r.URL.Query()
	limit, err := intParam(q.Get("limit"), "limit", 100, 1, 1000)
	if err != nil {
		return nil, err
	}
	var before int64
	if s := q.Get("before"); s != "" {
		if before, err = strconv.ParseInt(s, 10, 64); err != nil || before <= 0 {
			return nil, badParam("before", "before %q: want an entry id", s)
		}
	}
	es, err := a.db.AuditLog(r.Context(), before, limit)
	if err != nil {
		return nil, err
	}
	out := struct {
		Entries []AuditView `json:"entries"`
	}{Entries: make([]AuditView, 0, len(es))}
	for _, e := range es {
		out.Entries = append(out.Entries, AuditView{ID: e.ID, At: e.At, Actor: e.Actor, Action: e.Action, Subject: e.Subject, Detail: e.Detail})
	}
	return out, nil
}

package api

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/beaconplg/beacon/internal/store"
)

// Quarantine is what the quarantine endpoint needs from storage.
type Quarantine interface {
	QuarantinedList(ctx context.Context, q store.QuarantineQuery) ([]store.Quarantined, error)
}

// QuarantineView is a message a stage set aside: an event identity could
// not project (seq, message_id) or a subject scoring could not score.
type QuarantineView struct {
	ID        int64      `json:"id"`
	Stage     string     `json:"stage"`
	Seq       int64      `json:"seq,omitempty"`
	MessageID string     `json:"message_id,omitempty"`
	UserID    string     `json:"user_id,omitempty"`
	AccountID string     `json:"account_id,omitempty"`
	Error     string     `json:"error"`
	Attempts  int        `json:"attempts"`
	FirstAt   time.Time  `json:"first_at"`
	LastAt    time.Time  `json:"last_at"`
	Resolved  *time.Time `json:"resolved_at"`
}

func quarantineViews(qs []store.Quarantined) []QuarantineView {
	out := make([]QuarantineView, 0, len(qs))
	for _, q := range qs {
		out = append(out, QuarantineView{ID: q.ID, Stage: q.Stage, Seq: q.Seq, MessageID: q.MessageID, UserID: q.UserID,
			AccountID: q.AccountID, Error: q.Error, Attempts: q.Attempts, FirstAt: q.FirstAt, LastAt: q.LastAt,
			Resolved: timePtr(q.Resolved)})
	}
	return out
}

// quarantine lists what the stages set aside, open ones unless all=1:
// GET /api/v1/quarantine?stage=&user=&account=&all=&limit=.
func (a *API) quarantine(r *http.Request) (any, error) {
	p := r.URL.Query()
	q := store.QuarantineQuery{Open: p.Get("all") != "1", Stage: p.Get("stage"), UserID: p.Get("user"), AccountID: p.Get("account")}
	if q.Stage != "" && q.Stage != store.StageIdentity && q.Stage != store.StageSignals && q.Stage != store.StageScoring {
		return nil, &Problem{Status: http.StatusBadRequest, Code: "invalid_parameter", Field: "stage",
			Message: fmt.Sprintf("stage %q: want %s, %s or %s", q.Stage, store.StageIdentity, store.StageSignals, store.StageScoring)}
	}
	var err error
	if q.Limit, err = intParam(p.Get("limit"), "limit", 100, 1, 1000); err != nil {
		return nil, err
	}
	qs, err := a.db.QuarantinedList(r.Context(), q)
	if err != nil {
		return nil, err
	}
	return struct {
		Quarantine []QuarantineView `json:"quarantine"`
	}{quarantineViews(qs)}, nil
}

// subjectQuarantine is how many open rows a subject's view lists.
const subjectQuarantine = 20

// openQuarantine lists a subject's open rows, as q selects them.
func (a *API) openQuarantine(ctx context.Context, q store.QuarantineQuery) ([]QuarantineView, error) {
	q.Open, q.Limit = true, subjectQuarantine
	qs, err := a.db.QuarantinedList(ctx, q)
	return quarantineViews(qs), err
}

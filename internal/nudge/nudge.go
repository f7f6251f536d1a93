// Package nudge serves the customer's own product: GET /v1/nudges?userId=…,
// authenticated with a write key like the collector, answers what the
// product should show that user now (an upgrade prompt at a limit, a premium
// trial) and why, from the nudges in the rules file.
package nudge

import (
	"context"
	"fmt"
	"net/http"
	"time"
	"unicode/utf8"

	"github.com/beaconplg/beacon/internal/event"
	"github.com/beaconplg/beacon/internal/httpjson"
	"github.com/beaconplg/beacon/internal/score"
	"github.com/beaconplg/beacon/internal/store"
)

// Nudger answers for one user.
type Nudger interface {
	Nudges(ctx context.Context, userID string) ([]score.Nudge, error)
}

// KeyChecker verifies write keys.
type KeyChecker interface {
	Check(ctx context.Context, secret, kind string) error
}

// Handler serves GET /v1/nudges.
type Handler struct {
	nudger Nudger
	keys   KeyChecker
	errs   *httpjson.Errors
}

// New returns the handler; errs answers its errors.
func New(n Nudger, keys KeyChecker, errs *httpjson.Errors) *Handler {
	return &Handler{nudger: n, keys: keys, errs: errs}
}

// wait bounds how long a product waits for its answer.
const wait = 2 * time.Second

// Answer is the body of GET /v1/nudges.
type Answer struct {
	UserID string        `json:"userId"`
	Nudges []score.Nudge `json:"nudges"`
}

// Register adds the route to mux.
func (h *Handler) Register(mux *http.ServeMux) { mux.Handle("GET /v1/nudges", h) }

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	key, _, _ := r.BasicAuth()
	if err := h.keys.Check(r.Context(), key, store.WriteKey); err != nil {
		h.errs.Write(w, err)
		return
	}
	user := r.URL.Query().Get("userId")
	switch {
	case user == "":
		h.errs.Write(w, &httpjson.Problem{Status: http.StatusBadRequest, Code: "invalid_parameter", Field: "userId",
			Message: "userId is required"})
		return
	case len(user) > event.MaxIDBytes || !utf8.ValidString(user):
		h.errs.Write(w, &httpjson.Problem{Status: http.StatusBadRequest, Code: "invalid_parameter", Field: "userId",
			Message: fmt.Sprintf("userId must be UTF-8 of at most %d bytes, as the collector takes", event.MaxIDBytes),
			Limit:   event.MaxIDBytes})
		return
	}
	// A product waits on this answer: past wait, it is better told to
	// retry than kept waiting while scores are rebuilt.
	ctx, cancel := context.WithTimeout(r.Context(), wait)
	defer cancel()
	ns, err := h.nudger.Nudges(ctx, user)
	if err != nil {
		h.errs.Write(w, err)
		return
	}
	httpjson.WriteJSON(w, http.StatusOK, Answer{UserID: user, Nudges: ns})
}

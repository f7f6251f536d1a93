package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/beaconplg/beacon/internal/queue"
	"github.com/beaconplg/beacon/internal/score"
	"github.com/beaconplg/beacon/internal/store"
)

// Notebook is what the notes and holds endpoints need from storage.
type Notebook interface {
	Notes(ctx context.Context, accountID string, limit int) ([]store.Note, error)
	AddNote(ctx context.Context, n store.Note) (store.Note, error)
	PutHold(ctx context.Context, h store.Hold, note store.Note) (store.Hold, error)
	DeleteHold(ctx context.Context, scorecard, subject string, note store.Note) error
	HoldsOf(ctx context.Context, subject string) ([]store.Hold, error)
}

// NoteView is a note on an account.
type NoteView struct {
	ID        int64     `json:"id"`
	Author    string    `json:"author"`
	Body      string    `json:"body"`
	CreatedAt time.Time `json:"created_at"`
}

// HoldView is an account held out of a scorecard's queue.
type HoldView struct {
	Scorecard string     `json:"scorecard"`
	Kind      string     `json:"kind"`
	Reason    string     `json:"reason"`
	Until     *time.Time `json:"until"`
	Tier      string     `json:"tier"`
	By        string     `json:"by"`
	CreatedAt time.Time  `json:"created_at"`
}

func holdView(h store.Hold) HoldView {
	return HoldView{Scorecard: h.Scorecard, Kind: h.Kind, Reason: h.Reason, Until: timePtr(h.Until), Tier: h.Tier, By: h.By,
		CreatedAt: h.CreatedAt}
}

// noteLimit is how many notes GET answers with, newest first.
const noteLimit = 200

// writeBodyLimit bounds the body of a note or a hold.
const writeBodyLimit = 8 << 10

func (a *API) notes(r *http.Request) (any, error) {
	ctx, id := r.Context(), r.PathValue("id")
	if _, err := a.db.Account(ctx, id); err != nil {
		return nil, err
	}
	ns, err := a.db.Notes(ctx, id, noteLimit)
	if err != nil {
		return nil, err
	}
	out := struct {
		Notes []NoteView `json:"notes"`
	}{Notes: []NoteView{}}
	for _, n := range ns {
		out.Notes = append(out.Notes, NoteView{ID: n.ID, Author: n.Author, Body: n.Body, CreatedAt: n.CreatedAt})
	}
	return out, nil
}

// NoteRequest is the body of POST /api/v1/accounts/{id}/notes.
type NoteRequest struct {
	Body   string `json:"body"`
	Author string `json:"author"`
}

func (a *API) addNote(r *http.Request) (any, error) {
	var req NoteRequest
	if err := readBody(r, &req, writeBodyLimit); err != nil {
		return nil, err
	}
	author, err := byOf(req.Author, "author")
	if err != nil {
		return nil, err
	}
	ctx, id := r.Context(), r.PathValue("id")
	n, err := queue.NewNote(id, author, req.Body, time.Now())
	if err != nil {
		return nil, err
	}
	if _, err := a.db.Account(ctx, id); err != nil {
		return nil, err
	}
	if n, err = a.db.AddNote(ctx, n); err != nil {
		return nil, err
	}
	return NoteView{ID: n.ID, Author: n.Author, Body: n.Body, CreatedAt: n.CreatedAt}, nil
}

// HoldRequest is the body of POST /api/v1/accounts/{id}/hold.
type HoldRequest struct {
	Scorecard string `json:"scorecard"`
	Kind      string `json:"kind"`
	Until     string `json:"until"`
	Reason    string `json:"reason"`
	By        string `json:"by"`
}

func (a *API) hold(r *http.Request) (any, error) {
	var req HoldRequest
	if err := readBody(r, &req, writeBodyLimit); err != nil {
		return nil, err
	}
	by, err := byOf(req.By, "by")
	if err != nil {
		return nil, err
	}
	h, err := queue.NewHold(a.rules.Rules(), queue.HoldRequest{Scorecard: req.Scorecard, Kind: req.Kind, Until: req.Until,
		Reason: req.Reason, By: by}, time.Now())
	if err != nil {
		return nil, err
	}
	ctx, id := r.Context(), r.PathValue("id")
	if _, err := a.db.Account(ctx, id); err != nil {
		return nil, err
	}
	h.Subject = score.Subject(score.OfAccount, id)
	if h, err = a.db.PutHold(ctx, h, queue.HoldNote(id, h)); err != nil {
		return nil, err
	}
	return holdView(h), nil
}

func (a *API) release(r *http.Request) (any, error) {
	ctx, id, card := r.Context(), r.PathValue("id"), r.URL.Query().Get("scorecard")
	by, err := byOf(r.URL.Query().Get("by"), "by")
	if err != nil {
		return nil, err
	}
	if err := a.db.DeleteHold(ctx, card, score.Subject(score.OfAccount, id), queue.ReleaseNote(id, card, by, time.Now())); err != nil {
		return nil, err
	}
	return struct {
		Released string `json:"released"`
	}{card}, nil
}

// byOf is who the API writes as: the name a client gives, else "api".
func byOf(s, field string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "api", nil
	}
	if len(s) > 200 || !utf8.ValidString(s) {
		return "", badParam(field, "%s must be UTF-8 of at most 200 bytes", field)
	}
	return s, nil
}

// readBody decodes a JSON body of at most limit bytes into v; an empty
// body leaves v as it was, for the handler's checks to name what is missing.
func readBody(r *http.Request, v any, limit int) error {
	b, err := io.ReadAll(io.LimitReader(r.Body, int64(limit)+1))
	if err != nil {
		return err
	}
	if len(b) > limit {
		return &Problem{Status: http.StatusRequestEntityTooLarge, Code: "request_too_large",
			Message: fmt.Sprintf("the body is over %d bytes", limit), Limit: limit}
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return nil
	}
	if err := json.Unmarshal(b, v); err != nil {
		return badParam("body", "the body must be a JSON object: %v", err)
	}
	return nil
}

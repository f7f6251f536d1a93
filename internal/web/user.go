package web

import (
	"cmp"
	"errors"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/beaconplg/beacon/internal/identity"
	"github.com/beaconplg/beacon/internal/score"
	"github.com/beaconplg/beacon/internal/store"
)

type userData struct {
	chrome
	Back     string
	Now      time.Time
	User     store.User
	Name     string
	Title    string
	Traits   []prop
	Accounts []userAccount
	Scores   []scoreBlock
	Timeline timeline
	// Quarantined are what the stages set aside about the subject and
	// have not applied since; Whom names the subject in their notice.
	Quarantined []store.Quarantined
	Whom        string
}

type userAccount struct {
	ID, Name, Kind, Method string
	Confidence             float64
	Since                  time.Time
}

// user is a person's page: who they are, which accounts they were matched
// to and how, their scores and their timeline.
func (w *Web) user(rw http.ResponseWriter, r *http.Request, v viewer) {
	ctx, id := r.Context(), r.PathValue("id")
	u, err := w.db.User(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		w.message(rw, http.StatusNotFound, v, "No such user", "Beacon knows no user "+id+".")
		return
	}
	if err != nil {
		w.fail(rw, err)
		return
	}
	d := userData{chrome: chromeOf(v), Back: r.URL.RequestURI(), Now: w.clock(), User: u,
		Name: personName(u), Title: identity.PersonTitle(u.Traits)}
	for _, k := range slices.Sorted(maps.Keys(u.Traits)) {
		d.Traits = append(d.Traits, prop{Key: short(k, 40), Value: short(propValue(u.Traits[k]), 120)})
	}
	if err := w.fillUser(r, &d); err != nil {
		w.fail(rw, err)
		return
	}
	status := http.StatusOK
	if d.Timeline.Error != "" {
		status = http.StatusBadRequest
	}
	w.render(rw, status, "user", d)
}

func (w *Web) fillUser(r *http.Request, d *userData) error {
	ctx, rules := r.Context(), w.rules.Rules()
	links, err := w.db.UserAccounts(ctx, d.User.ID)
	if err != nil {
		return err
	}
	ids := make([]string, len(links))
	for i, m := range links {
		ids[i] = m.AccountID
	}
	accounts, err := w.db.AccountsIn(ctx, ids)
	if err != nil {
		return err
	}
	byID := map[string]store.Account{}
	for _, a := range accounts {
		byID[a.ID] = a
	}
	for _, m := range links {
		a := byID[m.AccountID]
		d.Accounts = append(d.Accounts, userAccount{ID: m.AccountID, Name: cmp.Or(a.Name, m.AccountID), Kind: a.Kind,
			Method: m.Method, Confidence: m.Confidence, Since: m.CreatedAt})
	}
	ss, err := w.db.SubjectScores(ctx, score.Subject(score.OfUser, d.User.ID))
	if err != nil {
		return err
	}
	for _, s := range ss {
		d.Scores = append(d.Scores, blockOf(rules, s))
	}
	d.Whom = "this person"
	if d.Quarantined, err = w.db.QuarantinedList(ctx, store.QuarantineQuery{Open: true, UserID: d.User.ID, Limit: 20}); err != nil {
		return err
	}
	d.Timeline.Path = "/users/" + url.PathEscape(d.User.ID)
	q, err := parseTimeline(r.URL.Query(), []string{d.User.ID})
	if err != nil {
		d.Timeline.Error = err.Error()
		return nil
	}
	return readTimeline(ctx, w.db, &d.Timeline, []string{d.User.ID}, q, func(string) string { return d.Name })
}

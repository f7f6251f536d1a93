package web

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/beaconplg/beacon/internal/event"
	"github.com/beaconplg/beacon/internal/route"
	"github.com/beaconplg/beacon/internal/score"
	"github.com/beaconplg/beacon/internal/store"
)

type accountData struct {
	chrome
	Back    string
	Account store.Account
	Users   []memberRow
	Scores  []scoreBlock
	Quotas  []quota
	Alerts  []alertRow
	Events  []eventRow
	// Older pages the timeline back from its last event; Newest returns
	// to the top when paged.
	Older, Newest string
}

type memberRow struct {
	ID, Email, Method string
	Confidence        float64
	Since, LastSeen   time.Time
}

type scoreBlock struct {
	Card, Label, Tier, TierLabel, Route string
	Score                               float64
	Reasons                             []score.Reason
	Chart                               template.HTML
}

type quota struct {
	Name    string
	Percent float64
}

type alertRow struct {
	store.Alert
	Band       string
	Took       string
	Deliveries []store.Delivery
}

type eventRow struct {
	At         time.Time
	User, Type string
	Name       string
}

// timelineLength is how many of the account's latest events the page shows.
const timelineLength = 50

func (w *Web) account(rw http.ResponseWriter, r *http.Request, v viewer) {
	ctx, id := r.Context(), r.PathValue("id")
	acc, err := w.db.Account(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		http.Error(rw, "No such account.", http.StatusNotFound)
		return
	}
	if err != nil {
		w.fail(rw, err)
		return
	}
	d := accountData{chrome: chromeOf(v), Back: r.URL.RequestURI(), Account: acc}
	if err := w.fillAccount(r, &d); err != nil {
		w.fail(rw, err)
		return
	}
	w.render(rw, http.StatusOK, "account", d)
}

func (w *Web) fillAccount(r *http.Request, d *accountData) error {
	ctx := r.Context()
	subject := score.Subject(score.OfAccount, d.Account.ID)
	members, err := w.db.AccountUsers(ctx, d.Account.ID)
	if err != nil {
		return err
	}
	ids := make([]string, len(members))
	for i, m := range members {
		ids[i] = m.UserID
	}
	users, err := w.db.UsersIn(ctx, ids)
	if err != nil {
		return err
	}
	byID := map[string]store.User{}
	for _, u := range users {
		byID[u.ID] = u
	}
	for _, m := range members {
		u := byID[m.UserID]
		d.Users = append(d.Users, memberRow{ID: m.UserID, Email: u.Email, Method: m.Method, Confidence: m.Confidence,
			Since: m.CreatedAt, LastSeen: u.LastSeen})
	}
	if err := w.fillScores(r, d, subject); err != nil {
		return err
	}
	if err := w.fillAlerts(r, d, subject); err != nil {
		return err
	}
	return w.fillTimeline(r, d, ids, timelinePos(r.URL.Query().Get("before")))
}

// timelinePos reads ?before=MS.SEQ, the place to page the timeline back
// from; anything else is the top.
func timelinePos(v string) store.EventPos {
	ms, seq, ok := strings.Cut(v, ".")
	t, err1 := strconv.ParseInt(ms, 10, 64)
	n, err2 := strconv.ParseInt(seq, 10, 64)
	if !ok || err1 != nil || err2 != nil || t <= 0 {
		return store.EventPos{}
	}
	return store.EventPos{TS: time.UnixMilli(t).UTC(), Seq: n}
}

func (w *Web) fillScores(r *http.Request, d *accountData, subject string) error {
	rules := w.rules.Rules()
	ss, err := w.db.SubjectScores(r.Context(), subject)
	if err != nil {
		return err
	}
	for _, s := range ss {
		b := scoreBlock{Card: s.Scorecard, Label: s.Scorecard, Tier: s.Tier, Score: s.Score}
		if c, ok := rules.Card(s.Scorecard); ok {
			if c.Label != "" {
				b.Label = c.Label
			}
			if t, ok := c.Tier(s.Tier); ok {
				b.TierLabel, b.Route = t.Label, t.Route
			}
		}
		_ = json.Unmarshal(s.Reasons, &b.Reasons) // written by Beacon as JSON
		hist, err := w.db.ScoreHistory(r.Context(), s.Scorecard, subject, 100)
		if err != nil {
			return err
		}
		b.Chart = chart(hist, w.clock())
		if s.Scorecard == pqlCard(rules).Name {
			var sig map[string]any
			_ = json.Unmarshal(s.Signals, &sig)
			for _, name := range slices.Sorted(maps.Keys(sig)) {
				if f, ok := sig[name].(float64); ok && strings.HasSuffix(name, "_quota") {
					d.Quotas = append(d.Quotas, quota{Name: strings.TrimSuffix(name, "_quota"), Percent: f * 100})
				}
			}
		}
		d.Scores = append(d.Scores, b)
	}
	return nil
}

func (w *Web) fillAlerts(r *http.Request, d *accountData, subject string) error {
	as, _, err := w.db.ListAlerts(r.Context(), store.AlertQuery{Subject: subject, Limit: 20})
	if err != nil {
		return err
	}
	now := w.clock()
	for _, al := range as {
		row := alertRow{Alert: al}
		took := now.Sub(al.CreatedAt)
		if !al.AckedAt.IsZero() {
			took = al.AckedAt.Sub(al.CreatedAt)
		}
		row.Took, row.Band = since(took), route.Band(took)
		if row.Deliveries, err = w.db.ListDeliveries(r.Context(), store.DeliveryQuery{AlertID: al.ID, Limit: 50}); err != nil {
			return err
		}
		d.Alerts = append(d.Alerts, row)
	}
	return nil
}

// fillTimeline merges the account's users' events before pos, newest
// first, a page at a time; pre-signup page views under their anonymous ids
// included.
func (w *Web) fillTimeline(r *http.Request, d *accountData, users []string, pos store.EventPos) error {
	var all []event.Event
	for _, u := range users {
		evs, err := w.db.UserEventsBefore(r.Context(), u, pos, timelineLength+1)
		if err != nil {
			return err
		}
		all = append(all, evs...)
	}
	slices.SortFunc(all, func(a, b event.Event) int {
		if c := b.Timestamp.Compare(a.Timestamp); c != 0 {
			return c
		}
		return cmp.Compare(b.Seq, a.Seq)
	})
	all = slices.CompactFunc(all, func(a, b event.Event) bool { return a.Seq == b.Seq }) // a user in twice
	if !pos.TS.IsZero() {
		d.Newest = "/accounts/" + url.PathEscape(d.Account.ID) + "#timeline"
	}
	if len(all) > timelineLength {
		last := all[timelineLength-1]
		d.Older = fmt.Sprintf("/accounts/%s?before=%d.%d#timeline", url.PathEscape(d.Account.ID), last.Timestamp.UnixMilli(), last.Seq)
		all = all[:timelineLength]
	}
	for _, e := range all {
		user := e.UserID
		if user == "" {
			user = "visitor " + e.AnonymousID
		}
		d.Events = append(d.Events, eventRow{At: e.Timestamp, User: user, Type: e.Type, Name: e.Name})
	}
	return nil
}

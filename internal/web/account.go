package web

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"html/template"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/beaconplg/beacon/internal/growth"
	"github.com/beaconplg/beacon/internal/identity"
	"github.com/beaconplg/beacon/internal/queue"
	"github.com/beaconplg/beacon/internal/score"
	"github.com/beaconplg/beacon/internal/store"
)

type accountData struct {
	chrome
	Back    string
	Now     time.Time
	Account store.Account
	// CRM is, for a workspace linked to one, its CRM record; Linked are,
	// for a CRM account, the workspaces linked to it.
	CRM      *store.Account
	Linked   []store.Account
	People   []personRow
	Scores   []scoreBlock
	Activity template.HTML
	Quotas   []quota
	Holds    []holdRow
	Cards    []cardOption // the account scorecards, for the hold form
	Notes    []store.Note
	Alerts   []alertRow
	Timeline timeline
	Tomorrow string // the earliest date a snooze may run to
	// Quarantined are what the stages set aside about the subject and
	// have not applied since; Whom names the subject in their notice.
	Quarantined []store.Quarantined
	Whom        string
	// Revenue is what billing says of the account; nil without metrics.
	Revenue *growth.AccountRevenue
}

type personRow struct {
	queue.Person
	Method     string
	Confidence float64
	Since      time.Time
	Champion   bool
}

type scoreBlock struct {
	Card, Label, Tier, TierLabel, Route string
	Score                               float64
	Change                              *float64
	TierSince                           time.Time
	Reasons                             []reasonRow
	Chart                               template.HTML
}

type reasonRow struct {
	Label   string
	Points  float64
	Signals []prop
}

type quota struct {
	Name, Text string
	Percent    float64 // as drawn: at most 100
	Level      string  // ok, amber (over 80 %), red (over 100 %)
}

type holdRow struct {
	store.Hold
	CardLabel string
}

type cardOption struct{ Name, Label, Tier string }

type alertRow struct {
	store.Alert
	Change     string // "Watching → Hot PQL"
	Segment    string
	Zone       string
	Actions    []string
	Band, Took string
	Deliveries []store.Delivery
}

func (w *Web) account(rw http.ResponseWriter, r *http.Request, v viewer) {
	ctx, id := r.Context(), r.PathValue("id")
	acc, err := w.db.Account(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		w.message(rw, http.StatusNotFound, v, "No such account", "Beacon knows no account "+id+".")
		return
	}
	if err != nil {
		w.fail(rw, err)
		return
	}
	d := accountData{chrome: chromeOf(v), Back: r.URL.RequestURI(), Now: w.clock(), Account: acc,
		Tomorrow: w.clock().AddDate(0, 0, 1).Format(time.DateOnly)}
	d.Timeline.Path = "/accounts/" + url.PathEscape(id)
	if err := w.fillAccount(r, &d); err != nil {
		w.fail(rw, err)
		return
	}
	if w.metrics != nil {
		rev, err := w.metrics.AccountRevenue(ctx, id)
		if err != nil {
			w.fail(rw, err)
			return
		}
		d.Revenue = &rev
	}
	status := http.StatusOK
	if d.Timeline.Error != "" {
		status = http.StatusBadRequest
	}
	w.render(rw, status, "account", d)
}

func (w *Web) fillAccount(r *http.Request, d *accountData) error {
	ctx, rules := r.Context(), w.rules.Rules()
	subject := score.Subject(score.OfAccount, d.Account.ID)
	if err := w.fillCRM(ctx, d); err != nil {
		return err
	}
	ids, err := w.fillPeople(ctx, rules, d)
	if err != nil {
		return err
	}
	if err := w.fillScores(ctx, rules, d, subject); err != nil {
		return err
	}
	if err := w.fillHolds(ctx, rules, d, subject); err != nil {
		return err
	}
	d.Whom = "this account"
	if d.Quarantined, err = w.db.QuarantinedList(ctx, store.QuarantineQuery{Open: true, AccountID: d.Account.ID, Limit: 20}); err != nil {
		return err
	}
	if d.Notes, err = w.db.Notes(ctx, d.Account.ID, 50); err != nil {
		return err
	}
	if err := w.fillAlerts(ctx, rules, d, subject); err != nil {
		return err
	}
	today := d.Now.UTC().Truncate(24 * time.Hour)
	days, err := w.db.DailyActivity(ctx, ids, today.AddDate(0, 0, -(activityDays-1)), today.AddDate(0, 0, 1))
	if err != nil {
		return err
	}
	d.Activity = activityChart(days, today)
	return w.fillTimeline(ctx, r.URL.Query(), &d.Timeline, ids, d.People)
}

// fillCRM reads the other side of a CRM link: a workspace's record, or a
// record's workspaces.
func (w *Web) fillCRM(ctx context.Context, d *accountData) error {
	a := d.Account
	if a.Kind == store.KindCRM {
		linked, err := w.db.LinkedAccounts(ctx, a.ID)
		d.Linked = linked
		return err
	}
	if a.CRMID == "" {
		return nil
	}
	rec, err := w.db.Account(ctx, a.CRMID)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	d.CRM = &rec
	return err
}

// fillPeople lists the account's users, champion first, then the most
// recently seen, and returns their ids.
func (w *Web) fillPeople(ctx context.Context, rules *score.Rules, d *accountData) ([]string, error) {
	members, err := w.db.AccountUsers(ctx, d.Account.ID)
	if err != nil {
		return nil, err
	}
	champions, people, err := queue.Champions(ctx, w.db, rules, members)
	if err != nil {
		return nil, err
	}
	champ := champions[d.Account.ID]
	ids := make([]string, len(members))
	for i, m := range members {
		ids[i] = m.UserID
		p := people[m.UserID]
		p.ID = m.UserID
		d.People = append(d.People, personRow{Person: p, Method: m.Method, Confidence: m.Confidence, Since: m.CreatedAt,
			Champion: champ.ID != "" && champ.ID == m.UserID})
	}
	slices.SortStableFunc(d.People, func(a, b personRow) int {
		if a.Champion != b.Champion {
			if a.Champion {
				return -1
			}
			return 1
		}
		return b.LastSeen.Compare(a.LastSeen)
	})
	return ids, nil
}

func (w *Web) fillScores(ctx context.Context, rules *score.Rules, d *accountData, subject string) error {
	ss, err := w.db.SubjectScores(ctx, subject)
	if err != nil {
		return err
	}
	routing, _ := queue.CardOf(rules, "")
	for _, s := range ss {
		b := blockOf(rules, s)
		hist, err := w.db.ScoreHistory(ctx, s.Scorecard, subject, 100)
		if err != nil {
			return err
		}
		var tiers []score.TierSpec
		if c, ok := rules.Card(s.Scorecard); ok {
			tiers = c.Tiers
		}
		b.Chart = scoreChart(hist, tiers, d.Now)
		before, err := w.db.ScoresAt(ctx, s.Scorecard, []string{subject}, d.Now.AddDate(0, 0, -queue.ChangeDays))
		if err != nil {
			return err
		}
		if then, ok := before[subject]; ok {
			change := s.Score - then
			b.Change = &change
		}
		if routing != nil && s.Scorecard == routing.Name {
			d.Quotas = quotasOf(s.Signals)
		}
		d.Scores = append(d.Scores, b)
	}
	return nil
}

// blockOf lays a score out: its card's and tier's labels, its route, and
// its reasons with the values behind them, for people.
func blockOf(rules *score.Rules, s store.Score) scoreBlock {
	b := scoreBlock{Card: s.Scorecard, Label: s.Scorecard, Tier: s.Tier, TierLabel: tierLabel(rules, s.Scorecard, s.Tier),
		Score: s.Score, TierSince: s.TierSince}
	if c, ok := rules.Card(s.Scorecard); ok {
		b.Label = cmp.Or(c.Label, c.Name)
		if t, ok := c.Tier(s.Tier); ok {
			b.Route = t.Route
		}
	}
	var reasons []score.Reason
	_ = json.Unmarshal(s.Reasons, &reasons) // written by Beacon as JSON
	for _, x := range reasons {
		row := reasonRow{Label: x.Label, Points: x.Points}
		for _, k := range slices.Sorted(maps.Keys(x.Signals)) {
			row.Signals = append(row.Signals, prop{Key: signalLabel(k), Value: signalValue(k, x.Signals[k])})
		}
		b.Reasons = append(b.Reasons, row)
	}
	return b
}

// quotasOf reads the quota signals of a score: used over the plan's limit.
func quotasOf(signals json.RawMessage) []quota {
	var sig map[string]any
	_ = json.Unmarshal(signals, &sig) // written by Beacon as JSON
	var out []quota
	for _, name := range slices.Sorted(maps.Keys(sig)) {
		f, ok := sig[name].(float64)
		if !ok || !strings.HasSuffix(name, "_quota") {
			continue
		}
		q := quota{Name: signalLabel(strings.TrimSuffix(name, "_quota")), Text: percent(f), Percent: min(100, f*100), Level: "ok"}
		switch {
		case f > 1:
			q.Level = "red"
		case f > 0.8:
			q.Level = "amber"
		}
		out = append(out, q)
	}
	return out
}

func (w *Web) fillHolds(ctx context.Context, rules *score.Rules, d *accountData, subject string) error {
	hs, err := w.db.HoldsOf(ctx, subject)
	if err != nil {
		return err
	}
	for _, h := range hs {
		if h.Active(d.Now) {
			row := holdRow{Hold: h, CardLabel: h.Scorecard}
			if c, ok := rules.Card(h.Scorecard); ok {
				row.CardLabel = cmp.Or(c.Label, c.Name)
			}
			d.Holds = append(d.Holds, row)
		}
	}
	for _, name := range queue.AccountCards(rules) {
		c, _ := rules.Card(name)
		opt := cardOption{Name: c.Name, Label: cmp.Or(c.Label, c.Name)}
		for _, b := range d.Scores {
			if b.Card == c.Name {
				opt.Tier = b.TierLabel
			}
		}
		d.Cards = append(d.Cards, opt)
	}
	return nil
}

func (w *Web) fillAlerts(ctx context.Context, rules *score.Rules, d *accountData, subject string) error {
	as, _, err := w.db.ListAlerts(ctx, store.AlertQuery{Subject: subject, Limit: 20})
	if err != nil {
		return err
	}
	segments, zones := routingLabels(rules)
	for _, al := range as {
		row := alertRow{Alert: al, Segment: cmp.Or(segments[al.Segment], al.Segment), Zone: cmp.Or(zones[al.Zone], al.Zone)}
		row.Change = tierLabel(rules, al.Scorecard, al.PreviousTier) + " → " + tierLabel(rules, al.Scorecard, al.Tier)
		if rt := rules.Routing; rt != nil {
			for _, name := range al.Actions {
				a, _ := rt.Action(name)
				row.Actions = append(row.Actions, cmp.Or(a.Label, name))
			}
		} else {
			row.Actions = al.Actions
		}
		var took time.Duration
		row.Band, took = queue.Band(al, d.Now)
		row.Took = since(took)
		if row.Deliveries, err = w.db.ListDeliveries(ctx, store.DeliveryQuery{AlertID: al.ID, Limit: 50}); err != nil {
			return err
		}
		d.Alerts = append(d.Alerts, row)
	}
	return nil
}

// tierLabel names a tier of a card for people; "none" for no tier.
func tierLabel(rules *score.Rules, card, tier string) string {
	if tier == "" {
		return "none"
	}
	if c, ok := rules.Card(card); ok {
		if t, ok := c.Tier(tier); ok {
			return cmp.Or(t.Label, t.Name)
		}
	}
	return tier
}

// fillTimeline reads the page of the people's events the request asks
// for; a request it cannot take is said on the page.
func (w *Web) fillTimeline(ctx context.Context, v url.Values, t *timeline, ids []string, people []personRow) error {
	labels := map[string]string{}
	for _, p := range people {
		labels[p.ID] = p.Label()
		t.Users = append(t.Users, option{Value: p.ID, Label: p.Label()})
	}
	t.ShowUserLabel = true
	q, err := parseTimeline(v, ids)
	if err != nil {
		t.Error = err.Error()
		return nil
	}
	return readTimeline(ctx, w.db, t, ids, q, func(id string) string { return cmp.Or(labels[id], id) })
}

// Hold and note forms.

// addNote writes a note on an account.
func (w *Web) addNote(rw http.ResponseWriter, r *http.Request, v viewer) {
	id := r.PathValue("id")
	n, err := queue.NewNote(id, v.person.Email, r.PostFormValue("body"), w.clock())
	if err != nil {
		w.formFailed(rw, v, "Note not saved", err)
		return
	}
	if !w.accountExists(rw, r, v, id) {
		return
	}
	if _, err := w.db.AddNote(r.Context(), n); err != nil {
		w.fail(rw, err)
		return
	}
	http.Redirect(rw, r, "/accounts/"+url.PathEscape(id)+"#notes", http.StatusSeeOther)
}

// hold snoozes or disqualifies an account on one scorecard's queue.
func (w *Web) hold(rw http.ResponseWriter, r *http.Request, v viewer) {
	id := r.PathValue("id")
	h, err := queue.NewHold(w.rules.Rules(), queue.HoldRequest{Scorecard: r.PostFormValue("scorecard"),
		Kind: r.PostFormValue("kind"), Until: r.PostFormValue("until"), Reason: r.PostFormValue("reason"),
		By: v.person.Email}, w.clock())
	if err != nil {
		w.formFailed(rw, v, "Not held", err)
		return
	}
	if !w.accountExists(rw, r, v, id) {
		return
	}
	h.Subject = score.Subject(score.OfAccount, id)
	if _, err := w.db.PutHold(r.Context(), h, queue.HoldNote(id, h)); err != nil {
		w.fail(rw, err)
		return
	}
	http.Redirect(rw, r, "/accounts/"+url.PathEscape(id), http.StatusSeeOther)
}

// release returns an account to a scorecard's queue.
func (w *Web) release(rw http.ResponseWriter, r *http.Request, v viewer) {
	id, card := r.PathValue("id"), r.PostFormValue("scorecard")
	err := w.db.DeleteHold(r.Context(), card, score.Subject(score.OfAccount, id), queue.ReleaseNote(id, card, v.person.Email, w.clock()))
	if errors.Is(err, store.ErrNotFound) {
		w.message(rw, http.StatusNotFound, v, "Not held", "This account is not snoozed or disqualified on "+card+".")
		return
	}
	if err != nil {
		w.fail(rw, err)
		return
	}
	http.Redirect(rw, r, "/accounts/"+url.PathEscape(id), http.StatusSeeOther)
}

// formFailed says what a form got wrong, or fails.
func (w *Web) formFailed(rw http.ResponseWriter, v viewer, title string, err error) {
	var bad *queue.ParamError
	if !errors.As(err, &bad) {
		w.fail(rw, err)
		return
	}
	w.message(rw, http.StatusBadRequest, v, title, strings.ToUpper(bad.Message[:1])+bad.Message[1:]+".")
}

// accountExists answers for a missing account and reports whether it is
// there.
func (w *Web) accountExists(rw http.ResponseWriter, r *http.Request, v viewer, id string) bool {
	_, err := w.db.Account(r.Context(), id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		w.message(rw, http.StatusNotFound, v, "No such account", "Beacon knows no account "+id+".")
		return false
	case err != nil:
		w.fail(rw, err)
		return false
	}
	return true
}

// personName is the name the pages give a user.
func personName(u store.User) string {
	return cmp.Or(identity.PersonName(u.Traits), u.Email, u.ID)
}

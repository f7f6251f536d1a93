package score

import (
	"context"
	"encoding/json"
	"github.com/beaconplg/beacon/internal/alert"
	"slices"
	"time"

	"github.com/beaconplg/beacon/internal/identity"
	"github.com/beaconplg/beacon/internal/signal"
	"github.com/beaconplg/beacon/internal/store"
)

// The alert wire format is package alert's: these names keep scoring's
// code reading as it did.
type (
	AlertPayload = alert.Payload
	AccountRef   = alert.AccountRef
	Person       = alert.Person
	ActionRef    = alert.ActionRef
)

// MaxPeople bounds the users an alert lists.
const MaxPeople = alert.MaxPeople

// draft is an alert of this pass whose people are still to be read: they are
// read for every alert of the pass at once (people), not one query each.
type draft struct {
	at      int // in the batch's alerts
	payload AlertPayload
	members []string
}

// alert adds an alert to b, and its draft to drafts, when a routed account
// moved up into a tier whose route has actions. Moving down is history, not
// news.
func (s *Service) alert(b *store.ScoreBatch, drafts *[]draft, card *Card, sc scored, res Result, prevTier string, now time.Time) {
	rt := s.rules.Routing
	if rt == nil || rt.Card != card || res.Route == nil || len(res.Route.Actions) == 0 || !card.higher(res.Tier, prevTier) {
		return
	}
	res.fill() // a copy: the pass's result stays in short
	_, id := store.SubjectID(sc.subject)
	p := AlertPayload{Account: AccountRef{ID: id}, Scorecard: card.Name, Score: res.Score, Tier: res.Tier,
		PreviousTier: prevTier, Segment: res.Route.Segment, Zone: res.Route.Zone, Coexists: res.Route.Coexists,
		Reasons: nonNil(res.Reasons), Signals: res.Signals, RulesVersion: s.rules.Version, At: now}
	if t, ok := card.Tier(res.Tier); ok {
		p.TierLabel = t.Label
	}
	var members []string
	if c := s.dir.accounts[id]; c != nil {
		a := c.info
		p.Account = AccountRef{ID: id, Name: a.Name, Domains: a.Domains, Owner: a.Owner, Employees: a.Employees,
			Industry: a.Industry, CRMID: identity.RecordID(a), Users: len(c.members)}
		members = c.members[:min(len(c.members), MaxPeople)]
	}
	var dests []string
	for _, name := range res.Route.Actions {
		a, _ := rt.Action(name) // compiled: every action named exists
		p.Actions = append(p.Actions, ActionRef{Name: a.Name, Label: a.Label})
		for _, d := range a.To {
			if !slices.Contains(dests, d) {
				dests = append(dests, d)
			}
		}
	}
	if sc.active < signal.Day(now)-1 {
		p.Quiet, dests = true, nil
	}
	*drafts = append(*drafts, draft{at: len(b.Alerts), payload: p, members: members})
	b.Alerts = append(b.Alerts, store.Alert{Scorecard: card.Name, Subject: sc.subject, Tier: res.Tier,
		PreviousTier: prevTier, Score: res.Score, Segment: res.Route.Segment, Zone: res.Route.Zone,
		Actions: res.Route.Actions, CreatedAt: now, Destinations: dests,
		// Self-serve accounts convert on their own: nobody is to answer.
		NeedsAck: !p.Quiet && res.Route.Zone != ZoneSelfServe})
}

// people reads the users of every draft at once, lists those with an email
// in the order of their account's members, and writes each alert's payload.
func (s *Service) people(ctx context.Context, b *store.ScoreBatch, drafts []draft) error {
	if len(drafts) == 0 {
		return nil
	}
	seen := map[string]bool{}
	var ids []string
	for _, d := range drafts {
		for _, m := range d.members {
			if !seen[m] {
				seen[m] = true
				ids = append(ids, m)
			}
		}
	}
	users, err := s.db.UsersIn(ctx, ids)
	if err != nil {
		return err
	}
	email := make(map[string]string, len(users))
	for _, u := range users {
		email[u.ID] = u.Email
	}
	for _, d := range drafts {
		for _, m := range d.members {
			if e := email[m]; e != "" {
				d.payload.Account.People = append(d.payload.Account.People, Person{ID: m, Email: e})
			}
		}
		b.Alerts[d.at].Payload, _ = json.Marshal(d.payload) // plain values: cannot fail
	}
	return nil
}

// higher reports whether tier a ranks above tier b ("" is below all).
func (c *Card) higher(a, b string) bool {
	rank := func(t string) int {
		return slices.IndexFunc(c.Tiers, func(x TierSpec) bool { return x.Name == t })
	}
	return rank(a) > rank(b)
}

package growth

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/beaconplg/beacon/internal/billing"
	"github.com/beaconplg/beacon/internal/revenue"
	"github.com/beaconplg/beacon/internal/store"
)

// Sources are what a report reads beside the book.
type Sources struct {
	Accounts []store.Account
	Members  []store.Membership
	// PQL is when each account first entered a PQL tier.
	PQL    map[string]time.Time
	Ledger *billing.Ledger
	// Alerts are the alerts that needed a person: when each was raised,
	// acknowledged, and first followed by outreach (zero if not yet).
	Alerts []store.AlertTime
	// AccountPrefix is what an alert's subject that is an account begins
	// with (score's "account:").
	AccountPrefix string
	// CRMWrites are the deliveries to CRM destinations: an alert (raised
	// by the event that moved a score) written to the CRM.
	CRMWrites []store.DeliveryTime
}

// acct is one account as the metrics see it. Times in Unix ms, 0 never.
type acct struct {
	id, segment, cohort, channel            string
	motion                                  string // of its first payment: self-serve or sales-assisted
	signup, activated, onboarded, pql, paid int64
	expanded                                int64
	crm, advanced, openOpportunity          bool
	users                                   []*person
	customers                               []string
}

// world is the book joined to the sources: every account with its users,
// and the people in no account.
type world struct {
	cfg      Config
	accounts []*acct
	people   []*person // every user
	alone    []*person // users in no account
	visitors map[int32]int
	channels []string
	ledger   *billing.Ledger
	links    map[string]billing.Link
	src      Sources
}

// join builds the world; the caller holds the book's read lock.
func (b *Book) join(src Sources) *world {
	w := &world{cfg: b.cfg, visitors: b.visitorDays, channels: b.channels, ledger: src.Ledger, src: src}
	if w.ledger == nil {
		w.ledger = billing.NewLedger()
	}
	w.links = w.ledger.Links(src.Accounts)
	byID := make(map[string]*acct, len(src.Accounts))
	for _, a := range src.Accounts {
		x := &acct{id: a.ID, segment: Segment(a.Employees), crm: a.CRMID != "", advanced: a.OpenOpportunity, openOpportunity: a.OpenOpportunity}
		byID[a.ID] = x
		w.accounts = append(w.accounts, x)
	}
	member := make(map[*person]bool, len(b.users))
	for _, m := range src.Members {
		p, a := b.users[m.UserID], byID[m.AccountID]
		if p != nil && a != nil {
			a.users = append(a.users, p)
			member[p] = true
		}
	}
	for _, p := range b.users {
		w.people = append(w.people, p)
		if !member[p] {
			if a := byID[p.group]; a != nil {
				a.users = append(a.users, p)
			} else {
				w.alone = append(w.alone, p)
			}
		}
	}
	for customer, l := range w.links {
		if a := byID[l.Account]; a != nil {
			a.customers = append(a.customers, customer)
		}
	}
	first := firstMoves(w.ledger)
	touched := salesTouches(src)
	for _, a := range w.accounts {
		w.fill(a, src.PQL, first)
		a.motion = motionOf(a, touched[a.id])
	}
	return w
}

// fill derives an account's moments from its users and customers.
func (w *world) fill(a *acct, pql map[string]time.Time, first map[string][2]int64) {
	var founder *person
	for _, p := range a.users {
		s := cmp.Or(p.signup, p.first)
		if s != 0 && (founder == nil || s < cmp.Or(founder.signup, founder.first)) {
			founder = p
		}
		a.activated = earliest(a.activated, p.activated)
		a.onboarded = earliest(a.onboarded, p.onboarded)
	}
	if founder != nil {
		a.signup = cmp.Or(founder.signup, founder.first)
		if founder.channel >= 0 {
			a.channel = w.channels[founder.channel]
		}
		a.cohort = time.UnixMilli(a.signup).UTC().Format("2006-01")
	}
	if t, ok := pql[a.id]; ok {
		a.pql = t.UnixMilli()
	}
	for _, c := range a.customers {
		a.paid = earliest(a.paid, first[c][0])
		a.expanded = earliest(a.expanded, first[c][1])
	}
	a.advanced = a.advanced || a.paid != 0
}

// firstMoves is each customer's first paying movement and first
// expansion, in Unix ms.
func firstMoves(l *billing.Ledger) map[string][2]int64 {
	out := map[string][2]int64{}
	for _, m := range l.Movements {
		f := out[m.Customer]
		switch m.Kind {
		case revenue.New:
			f[0] = earliest(f[0], m.At.UnixMilli())
		case revenue.Expansion:
			f[1] = earliest(f[1], m.At.UnixMilli())
		}
		out[m.Customer] = f
	}
	return out
}

// Segment is seed 004's segment of an account by its employees: SMB up to
// 50, mid-market up to 500, enterprise above; an account of unknown size
// counts as SMB, as routing does.
func Segment(employees int) string {
	switch {
	case employees > 500:
		return "enterprise"
	case employees > 50:
		return "mid-market"
	}
	return "smb"
}

// Segments in the seed's order.
var Segments = []string{"smb", "mid-market", "enterprise"}

// median of xs (sorted in place); ok false when empty.
func median(xs []float64) (float64, bool) {
	if len(xs) == 0 {
		return 0, false
	}
	slices.Sort(xs)
	n := len(xs)
	if n%2 == 1 {
		return xs[n/2], true
	}
	return (xs[n/2-1] + xs[n/2]) / 2, true
}

// The motions of a conversion.
const (
	SelfServe     = "self-serve"
	SalesAssisted = "sales-assisted"
)

// salesTouches is, by account, the first time sales touched it: an alert
// acknowledged, or the first outreach the CRM recorded after one.
func salesTouches(src Sources) map[string]int64 {
	out := map[string]int64{}
	for _, al := range src.Alerts {
		id, ok := strings.CutPrefix(al.Subject, src.AccountPrefix)
		if !ok {
			continue
		}
		for _, t := range []time.Time{al.Acked, al.Outreach} {
			if !t.IsZero() {
				out[id] = earliest(out[id], t.UnixMilli())
			}
		}
	}
	return out
}

// motionOf is how an account came to pay: sales-assisted when sales
// touched it before its first payment or the CRM shows an opportunity on
// it; self-serve otherwise.
func motionOf(a *acct, touched int64) string {
	switch {
	case a.paid == 0:
		return ""
	case a.openOpportunity, touched != 0 && touched <= a.paid:
		return SalesAssisted
	}
	return SelfServe
}

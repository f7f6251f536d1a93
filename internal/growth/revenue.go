package growth

import (
	"context"
	"math"
	"slices"
	"time"

	"github.com/beaconplg/beacon/internal/billing"
	"github.com/beaconplg/beacon/internal/revenue"
	"github.com/beaconplg/beacon/internal/store"
)

// MonthMoves is one month's MRR movements, by kind, in cents (churn and
// contraction as positive amounts).
type MonthMoves struct {
	Month string                 `json:"month"` // 2006-01
	Kinds map[revenue.Kind]int64 `json:"kinds"`
	MRR   int64                  `json:"mrr"` // at the month's end
}

// Movements are the MRR movements of each calendar month that overlaps
// [from, to), within it, and the MRR at each month's end (or at to).
func (s *Service) Movements(ctx context.Context, from, to time.Time) ([]MonthMoves, error) {
	if err := (Query{From: from, To: to}).Check(); err != nil {
		return nil, err
	}
	l, _, err := s.ledgers.Ledger(ctx)
	if err != nil {
		return nil, err
	}
	return movements(l, from, to), nil
}

// movements are the ledger's movements by calendar month of [from, to).
func movements(l *billing.Ledger, from, to time.Time) []MonthMoves {
	var out []MonthMoves
	mrr, total, j := map[string]int64{}, int64(0), 0
	for m := time.Date(from.Year(), from.Month(), 1, 0, 0, 0, 0, time.UTC); m.Before(to); m = m.AddDate(0, 1, 0) {
		mm := MonthMoves{Month: m.Format("2006-01"), Kinds: map[revenue.Kind]int64{}}
		end := m.AddDate(0, 1, 0)
		if end.After(to) {
			end = to
		}
		// The ledger's movements are in the order Stripe made them.
		for ; j < len(l.Movements) && l.Movements[j].At.Before(end); j++ {
			mv := l.Movements[j]
			total += mv.After - mrr[mv.Customer]
			mrr[mv.Customer] = mv.After
			if !mv.At.Before(from) && !mv.At.Before(m) {
				mm.Kinds[mv.Kind] += abs(mv.After - mv.Before)
			}
		}
		mm.MRR = total
		out = append(out, mm)
	}
	return out
}

// AccountRevenue is what billing says of one account: its customers with
// how each is linked, and their movements.
type AccountRevenue struct {
	Customers []LinkedCustomer `json:"customers"`
	MRR       int64            `json:"mrr"`
	// Motion is how it came to pay first: self-serve or sales-assisted;
	// "" if it never paid.
	Motion    string             `json:"motion"`
	Movements []billing.Movement `json:"movements"`
}

// LinkedCustomer is a billing customer of an account, and how it was
// linked.
type LinkedCustomer struct {
	billing.Customer
	Method string `json:"method"`
}

// AccountRevenue reads an account's customers and movements.
func (s *Service) AccountRevenue(ctx context.Context, id string) (AccountRevenue, error) {
	var out AccountRevenue
	l, _, err := s.ledgers.Ledger(ctx)
	if err != nil {
		return out, err
	}
	accounts, err := s.db.AllAccountsLean(ctx)
	if err != nil {
		return out, err
	}
	mine := map[string]bool{}
	a := &acct{id: id}
	for c, link := range l.Links(accounts) {
		if link.Account != id {
			continue
		}
		cust, _ := l.Customer(c)
		out.Customers = append(out.Customers, LinkedCustomer{Customer: cust, Method: link.Method})
		out.MRR += cust.MRR
		mine[c] = true
		if !cust.FirstPaid.IsZero() {
			a.paid = earliest(a.paid, cust.FirstPaid.UnixMilli())
		}
	}
	if i := slices.IndexFunc(accounts, func(x store.Account) bool { return x.ID == id }); i >= 0 {
		a.openOpportunity = accounts[i].OpenOpportunity
	}
	_, _, prefix := s.pql()
	alerts, err := s.db.AlertsOf(ctx, prefix+id, math.MaxInt32) // all of its own
	if err != nil {
		return out, err
	}
	src := Sources{AccountPrefix: prefix}
	for _, al := range alerts {
		src.Alerts = append(src.Alerts, store.AlertTime{Subject: al.Subject, Acked: al.AckedAt, Outreach: al.OutreachAt})
	}
	out.Motion = motionOf(a, salesTouches(src)[id])
	for _, m := range l.Movements {
		if mine[m.Customer] {
			out.Movements = append(out.Movements, m)
		}
	}
	return out, nil
}

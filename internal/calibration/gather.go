package calibration

import (
	"context"
	"fmt"
	"time"

	"github.com/beaconplg/beacon/internal/billing"
	"github.com/beaconplg/beacon/internal/revenue"
	"github.com/beaconplg/beacon/internal/score"
	"github.com/beaconplg/beacon/internal/store"
)

// Store is what calibration reads of identity's work.
type Store interface {
	AllAccounts(ctx context.Context) ([]store.Account, error)
	AllMemberships(ctx context.Context) ([]store.Membership, error)
}

// Ledgers gives the billing ledger, kept current by billing.Book.
type Ledgers interface {
	Ledger(ctx context.Context) (*billing.Ledger, map[string]string, error)
}

// Gather joins the book to identity's accounts and billing's payments:
// each account's members' days, its facts (icp says whether it fits the
// ideal customer profile) and the day it first paid.
func Gather(ctx context.Context, db Store, ledgers Ledgers, book *Book, icp func(store.Account) bool) (*Evidence, error) {
	accounts, err := db.AllAccounts(ctx)
	if err != nil {
		return nil, fmt.Errorf("calibration: reading accounts: %w", err)
	}
	links, err := db.AllMemberships(ctx)
	if err != nil {
		return nil, fmt.Errorf("calibration: reading memberships: %w", err)
	}
	l, _, err := ledgers.Ledger(ctx)
	if err != nil {
		return nil, err
	}
	facts := make(map[string]Facts, len(accounts))
	for _, a := range accounts {
		employees, industry := score.Firmographics(a)
		facts[a.ID] = Facts{ICP: icp(a), InCRM: a.Kind == store.KindCRM || a.CRMID != "", Employees: employees, Industry: industry}
	}
	return book.Evidence(links, facts, Billing(l, accounts)), nil
}

// Billed is what billing says of an account: when it first paid, and the
// days its MRR grew (expansion) or fell to nothing (churn).
type Billed struct {
	Paid              time.Time
	Expanded, Churned []time.Time
}

// Billing is, per account linked to a billing customer, what billing says
// of it: its customers' first payment, expansions and churns. An account
// with several customers counts each one's.
func Billing(l *billing.Ledger, accounts []store.Account) map[string]Billed {
	links := l.Links(accounts)
	out := map[string]Billed{}
	for c, link := range links {
		cust, ok := l.Customer(c)
		if !ok || cust.FirstPaid.IsZero() {
			continue
		}
		if b, seen := out[link.Account]; !seen || cust.FirstPaid.Before(b.Paid) {
			b.Paid = cust.FirstPaid
			out[link.Account] = b
		}
	}
	for _, m := range l.Movements {
		link, ok := links[m.Customer]
		if !ok {
			continue
		}
		b := out[link.Account]
		switch m.Kind {
		case revenue.Expansion:
			b.Expanded = append(b.Expanded, m.At)
		case revenue.Churn:
			b.Churned = append(b.Churned, m.At)
		}
		out[link.Account] = b
	}
	return out
}

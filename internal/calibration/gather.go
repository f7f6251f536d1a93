package calibration

import (
	"context"
	"fmt"
	"time"

	"github.com/beaconplg/beacon/internal/billing"
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
		facts[a.ID] = Facts{ICP: icp(a), InCRM: a.Kind == store.KindCRM || a.CRMID != ""}
	}
	return book.Evidence(links, facts, Payments(l, accounts)), nil
}

// Payments is, per account, when any of its billing customers first paid.
func Payments(l *billing.Ledger, accounts []store.Account) map[string]time.Time {
	out := map[string]time.Time{}
	for c, link := range l.Links(accounts) {
		cust, ok := l.Customer(c)
		if !ok || cust.FirstPaid.IsZero() {
			continue
		}
		if at, seen := out[link.Account]; !seen || cust.FirstPaid.Before(at) {
			out[link.Account] = cust.FirstPaid
		}
	}
	return out
}

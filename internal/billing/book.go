package billing

import (
	"context"
	"fmt"
	"math"
	"sync"

	"github.com/beaconplg/beacon/internal/store"
)

// BookStore is what a Book reads.
type BookStore interface {
	BillingEvents(ctx context.Context, limit int) ([]store.BillingEvent, error)
	BillingCount(ctx context.Context) (int, error)
}

// Book is the ledger of every stored billing event, for readers that want
// it current: webhooks and imports (from any process) both store events,
// so the book counts the stored events at each read and rebuilds the
// ledger, in the order the billing system made the events, when more came.
// A late event (made before others already taken) is then in its place,
// so movements stay exact.
type Book struct {
	db BookStore
	mu sync.Mutex
	l  *Ledger
	n  int // events the ledger was built from
	// errs are events the ledger could not take, by id, with the reason;
	// they are shown, not fatal: one bad event must not hide the revenue.
	errs map[string]string
}

// NewBook returns a book over db's billing events, built at its first read.
func NewBook(db BookStore) *Book { return &Book{db: db, n: -1} }

// Ledger returns the ledger as of every stored event, and the events it
// could not take. The ledger returned is not changed afterwards: a later
// read that finds more events builds a new one.
func (b *Book) Ledger(ctx context.Context) (*Ledger, map[string]string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	n, err := b.db.BillingCount(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("billing: counting events: %w", err)
	}
	if n == b.n {
		return b.l, b.errs, nil
	}
	evs, err := b.db.BillingEvents(ctx, math.MaxInt32)
	if err != nil {
		return nil, nil, fmt.Errorf("billing: reading events: %w", err)
	}
	l, errs := NewLedger(), map[string]string{}
	for _, e := range evs {
		if err := l.Add(e); err != nil {
			errs[e.ID] = err.Error()
		}
	}
	b.l, b.n, b.errs = l, len(evs), errs
	return l, errs, nil
}

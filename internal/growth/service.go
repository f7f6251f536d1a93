package growth

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/beaconplg/beacon/internal/billing"
	"github.com/beaconplg/beacon/internal/store"
)

// Store is what the metrics read from storage.
type Store interface {
	AllAccounts(ctx context.Context) ([]store.Account, error)
	AllMemberships(ctx context.Context) ([]store.Membership, error)
	TierEntries(ctx context.Context, scorecard string) ([]store.TierEntry, error)
	AlertTimes(ctx context.Context, since time.Time) ([]store.AlertTime, error)
}

// Ledgers gives the billing ledger as of every stored event.
type Ledgers interface {
	Ledger(ctx context.Context) (*billing.Ledger, map[string]string, error)
}

// PQL names the routing scorecard and its tiers, lowest first, in force,
// and what its subjects that are accounts begin with (score's
// "account:").
type PQL func() (scorecard string, tiers []string, prefix string)

// Service answers metrics queries from the book and the store.
type Service struct {
	cfg     Config
	book    *Book
	db      Store
	ledgers Ledgers
	pql     PQL
}

// New returns the metrics service over book (fed by the signal stage).
func New(cfg Config, book *Book, db Store, ledgers Ledgers, pql PQL) *Service {
	return &Service{cfg: cfg, book: book, db: db, ledgers: ledgers, pql: pql}
}

// Config is the metrics section in force.
func (s *Service) Config() Config { return s.cfg }

// Sources reads what a report needs beside the book.
func (s *Service) Sources(ctx context.Context) (Sources, error) {
	var src Sources
	var err error
	if src.Accounts, err = s.db.AllAccounts(ctx); err != nil {
		return src, fmt.Errorf("metrics: accounts: %w", err)
	}
	if src.Members, err = s.db.AllMemberships(ctx); err != nil {
		return src, fmt.Errorf("metrics: memberships: %w", err)
	}
	if src.Ledger, _, err = s.ledgers.Ledger(ctx); err != nil {
		return src, err
	}
	// Alerts of every time: a period's are picked by the metric.
	if src.Alerts, err = s.db.AlertTimes(ctx, time.Time{}); err != nil {
		return src, fmt.Errorf("metrics: alerts: %w", err)
	}
	src.PQL = map[string]time.Time{}
	scorecard, tiers, prefix := s.pql()
	if scorecard == "" {
		return src, nil
	}
	pqlTier := map[string]bool{}
	for _, t := range s.pqlTiers(tiers) {
		pqlTier[t] = true
	}
	entries, err := s.db.TierEntries(ctx, scorecard)
	if err != nil {
		return src, fmt.Errorf("metrics: PQL entries: %w", err)
	}
	for _, e := range entries {
		id, isAccount := strings.CutPrefix(e.Subject, prefix)
		if t, ok := src.PQL[id]; isAccount && pqlTier[e.Tier] && (!ok || e.At.Before(t)) {
			src.PQL[id] = e.At
		}
	}
	return src, nil
}

// pqlTiers are the configured PQL tiers, or every tier but the lowest.
func (s *Service) pqlTiers(tiers []string) []string {
	if len(s.cfg.PQLTiers) > 0 {
		return s.cfg.PQLTiers
	}
	if len(tiers) < 2 {
		return tiers
	}
	return tiers[1:]
}

// Report answers a metrics query.
func (s *Service) Report(ctx context.Context, q Query) (*Report, error) {
	if err := q.Check(); err != nil {
		return nil, err
	}
	src, err := s.Sources(ctx)
	if err != nil {
		return nil, err
	}
	return s.book.Report(src, q)
}

// Funnel is the funnel of the sign-ups of [from, to).
func (s *Service) Funnel(ctx context.Context, from, to time.Time) (*Funnel, error) {
	src, err := s.Sources(ctx)
	if err != nil {
		return nil, err
	}
	return s.book.Funnel(src, from, to)
}

// Cohorts is the retention grid of the sign-ups of [from, to).
func (s *Service) Cohorts(ctx context.Context, from, to time.Time, unit, of string) (*Cohorts, error) {
	src, err := s.Sources(ctx)
	if err != nil {
		return nil, err
	}
	return s.book.Cohorts(src, from, to, unit, of)
}

// Retention is each segment's NRR and GRR over [from, to).
func (s *Service) Retention(ctx context.Context, from, to time.Time) ([]SegmentNRR, error) {
	src, err := s.Sources(ctx)
	if err != nil {
		return nil, err
	}
	return s.book.Retention(src, from, to)
}

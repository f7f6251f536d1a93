package growth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/beaconplg/beacon/internal/billing"
	"github.com/beaconplg/beacon/internal/store"
)

// Store is what the metrics read from storage.
type Store interface {
	AllAccountsLean(ctx context.Context) ([]store.Account, error)
	AllMembershipPairs(ctx context.Context) ([]store.Membership, error)
	TierEntries(ctx context.Context, scorecard string) ([]store.TierEntry, error)
	AlertTimes(ctx context.Context, since time.Time) ([]store.AlertTime, error)
	AlertsOf(ctx context.Context, subject string, limit int) ([]store.Alert, error)
	DeliveryTimes(ctx context.Context, since time.Time, destinations []string) ([]store.DeliveryTime, error)
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
	crm     []string // the CRM destinations: their deliveries time events to the CRM
	book    *Book
	db      Store
	ledgers Ledgers
	pql     PQL
}

// New returns the metrics service over book (fed by the signal stage).
func New(cfg Config, book *Book, db Store, ledgers Ledgers, pql PQL) *Service {
	return &Service{cfg: cfg, book: book, db: db, ledgers: ledgers, pql: pql}
}

// TimeCRM has the service time the writes to these CRM destinations, for
// the pipeline's latency from product events to the CRM.
func (s *Service) TimeCRM(destinations []string) { s.crm = destinations }

// Sources reads what a report needs beside the book. The reads are
// independent, and on two cores most of a report's time: they run at once.
func (s *Service) Sources(ctx context.Context) (Sources, error) {
	var src Sources
	var entries []store.TierEntry
	scorecard, tiers, prefix := s.pql()
	reads := []func() error{
		func() (err error) { src.Accounts, err = s.db.AllAccountsLean(ctx); return wrap("accounts", err) },
		func() (err error) { src.Members, err = s.db.AllMembershipPairs(ctx); return wrap("memberships", err) },
		func() (err error) { src.Ledger, _, err = s.ledgers.Ledger(ctx); return err },
		// Alerts of every time: a period's are picked by the metric.
		func() (err error) { src.Alerts, err = s.db.AlertTimes(ctx, time.Time{}); return wrap("alerts", err) },
		func() (err error) {
			src.CRMWrites, err = s.db.DeliveryTimes(ctx, time.Time{}, s.crm)
			return wrap("CRM writes", err)
		},
		func() (err error) {
			if scorecard != "" {
				entries, err = s.db.TierEntries(ctx, scorecard)
			}
			return wrap("PQL entries", err)
		},
	}
	errs := make([]error, len(reads))
	var wg sync.WaitGroup
	for i, read := range reads {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = read() }()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return src, err
	}
	src.PQL, src.AccountPrefix = s.pqlEntries(entries, tiers, prefix), prefix
	return src, nil
}

func wrap(what string, err error) error {
	if err != nil {
		return fmt.Errorf("metrics: %s: %w", what, err)
	}
	return nil
}

// pqlEntries is when each account first entered a PQL tier.
func (s *Service) pqlEntries(entries []store.TierEntry, tiers []string, prefix string) map[string]time.Time {
	pqlTier := map[string]bool{}
	for _, t := range s.pqlTiers(tiers) {
		pqlTier[t] = true
	}
	out := map[string]time.Time{}
	for _, e := range entries {
		id, isAccount := strings.CutPrefix(e.Subject, prefix)
		if t, ok := out[id]; isAccount && pqlTier[e.Tier] && (!ok || e.At.Before(t)) {
			out[id] = e.At
		}
	}
	return out
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

// Overview is the dashboard: a report, each segment's retention over its
// period, and the movements of the six months to its end.
type Overview struct {
	Report    *Report
	Segments  []SegmentNRR
	Movements []MonthMoves
}

// Overview computes the dashboard of q from one read of the sources.
func (s *Service) Overview(ctx context.Context, q Query) (*Overview, error) {
	if err := q.Check(); err != nil {
		return nil, err
	}
	src, err := s.Sources(ctx)
	if err != nil {
		return nil, err
	}
	o := &Overview{}
	if o.Report, o.Segments, err = s.book.report(src, q, true); err != nil {
		return nil, err
	}
	o.Movements = movements(src.Ledger, q.To.AddDate(0, -6, 0), q.To)
	return o, nil
}

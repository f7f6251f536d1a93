// Standings: every account's scores at an instant, evaluated and handed
// back without writing anything, for a backtest to judge the rules by.

package score

import (
	"context"
	"fmt"

	"github.com/beaconplg/beacon/internal/signal"
)

// Standing is an account's result on one scorecard at an instant.
type Standing struct {
	Account string
	Card    string
	Applies bool
	Score   float64
	Tier    string
	Reasons []Reason
}

// Standings brings the rollups up to where identity stands (as of the
// service's AsOf, if set) and evaluates every account on every account
// card at the clock's time. Nothing is written: the store's scores stay
// those of now, whatever instant is asked about.
func (s *Service) Standings(ctx context.Context) ([]Standing, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.signals.TakeIn(ctx, marks{s}); err != nil {
		return nil, err
	}
	if err := s.freshen(ctx); err != nil {
		return nil, err
	}
	var accounts []string
	for _, id := range sortedKeys(s.dir.accounts) {
		// Only accounts with users then are scored: a CRM record alone,
		// or a workspace whose users all came later, is not a lead yet.
		if len(s.dir.accounts[id].members) > 0 {
			accounts = append(accounts, id)
		}
	}
	today := signal.Day(s.clock())
	per := make([][]Result, len(accounts))
	err := eachParallel(len(accounts), func(i int) error {
		sc, err := s.scoreAccount(accounts[i], today)
		if err != nil {
			return fmt.Errorf("standings: %w", err)
		}
		per[i] = sc.results
		return nil
	})
	if err != nil {
		return nil, err
	}
	var out []Standing
	for i, rs := range per {
		for _, r := range rs {
			r.fill()
			out = append(out, Standing{Account: accounts[i], Card: r.Card, Applies: r.Applies, Score: r.Score, Tier: r.Tier, Reasons: r.Reasons})
		}
	}
	return out, nil
}

package calibration_test

import (
	"context"
	"testing"
	"time"

	"github.com/beaconplg/beacon/internal/calibration"
	"github.com/beaconplg/beacon/internal/score"
	"github.com/beaconplg/beacon/internal/signal"
)

// A backtest counts, besides the account-days each tier held, the accounts
// that came into a tier since the cut-off before, once each, and those of
// them that paid within the horizon: a PQL's conversion per PQL. The first
// cut-off has nothing before it and counts no entry.
func TestBacktestCountsEntries(t *testing.T) {
	const first = 20000 // a day, as signal numbers them
	ev := &calibration.Evidence{Accounts: []*calibration.Account{
		{ID: "a", First: first - 5, Paid: first + 2, Activated: calibration.Never},
		{ID: "b", First: first - 5, Paid: first + 10, Activated: calibration.Never},
		{ID: "c", First: first - 5, Paid: calibration.Never, Activated: calibration.Never},
	}}
	tiers := map[int32]map[string]string{ // by cut-off, each account's pql tier
		first:     {"a": "hot", "b": "warm", "c": ""},
		first + 1: {"a": "hot", "b": "hot", "c": "warm"},
		first + 2: {"b": "hot", "c": "hot"}, // a paid that day
	}
	at := func(_ context.Context, _ *score.Rules, when time.Time) ([]score.Standing, error) {
		var out []score.Standing
		for id, tier := range tiers[signal.Day(when)] {
			out = append(out, score.Standing{Account: id, Card: "pql", Applies: true, Tier: tier})
		}
		return out, nil
	}
	res, err := ev.Backtest(context.Background(), at, "pql-150", preset(t, "pql-150"),
		calibration.Period{First: first, Last: first + 2, Step: 1, Horizon: 30})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		tier                    string
		held, entered, enteredP int
	}{
		{"hot", 5, 2, 1},      // a held three days (entered before the first cut-off); b and c came in, b paid
		{"warm", 2, 1, 0},     // b on the first day; c came in on the second and never paid
		{"watching", 0, 0, 0}, // nobody
	}
	for _, tt := range tests {
		r, ok := res.Total.Tier(tt.tier)
		if !ok || r.Held != tt.held || r.Entered != tt.entered || r.EnteredConverted != tt.enteredP {
			t.Errorf("%s: held %d, entered %d, of them paid %d; want %d, %d, %d", tt.tier, r.Held, r.Entered, r.EnteredConverted, tt.held, tt.entered, tt.enteredP)
		}
	}
	if r, _ := res.Total.Tier("hot"); r.EnteredPrecision != 0.5 {
		t.Errorf("hot: %.2f of those entering paid, want 0.50", r.EnteredPrecision)
	}
}

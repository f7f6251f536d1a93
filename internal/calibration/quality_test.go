package calibration_test

import (
	"cmp"
	"fmt"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/beaconplg/beacon/internal/calibration"
	"github.com/beaconplg/beacon/internal/score"
	"github.com/beaconplg/beacon/internal/store/storetest"
)

// The cut-off of the quality targets: as of day 60 of 90 (the end of its
// 60th day), followed for the 30 days left.
const (
	cutDay  = 59
	horizon = 30
)

// trial is one random-driver world put through discovery and a backtest
// out of sample.
type trial struct {
	seed                      uint64
	drivers, noise, picked    []string
	named, noiseNamed         int
	open, hot                 int
	hotShare                  float64
	precision, oracle, preset float64
	presetHeld                int
}

func runTrial(t *testing.T, seed uint64, accounts int) trial {
	t.Helper()
	w := driversWorld(t, seed, accounts)
	db := storetest.SQLite(t)
	shipped := preset(t, "pql-150")
	ev := w.load(t, db, shipped)
	cut := w.day(cutDay)
	o := calibration.DefaultOptions()
	o.Until = cut
	d, err := ev.Discover(o)
	if err != nil {
		t.Fatal(err)
	}
	prop, proposed := propose(t, ev, d)
	tr := trial{seed: seed, drivers: w.truth.Plan.Drivers, noise: w.truth.Plan.Noise}
	seen := map[string]bool{}
	for _, r := range prop.Rules {
		tr.picked = append(tr.picked, r.Label)
		if seen[r.Behaviour] {
			continue // a step up of a behaviour already named
		}
		seen[r.Behaviour] = true
		switch {
		case w.truth.Plan.IsDriver(r.Behaviour):
			tr.named++
		case w.truth.Plan.IsNoise(r.Behaviour):
			tr.noiseNamed++
		}
	}
	at := w.p.Start.AddDate(0, 0, cutDay+1).Add(-time.Millisecond)
	judge := func(rules *score.Rules) calibration.TierResult {
		st := standingsAt(t, db, rules, at)
		card, tiers := rules.RoutedTiers()
		snap := ev.Judge(cut, horizon, card, tiers, st)
		tr.open = snap.Open
		top, _ := snap.Tier(tiers[len(tiers)-1])
		return top
	}
	hot := judge(proposed)
	tr.hot, tr.hotShare, tr.precision = hot.Held, hot.Share, hot.Precision
	shippedHot := judge(shipped)
	tr.preset, tr.presetHeld = shippedHot.Precision, shippedHot.Held
	tr.oracle = oraclePrecision(w, ev, cut, max(1, hot.Held))
	return tr
}

// oraclePrecision ranks the open accounts by the simulator's true hazard
// on the cut-off day and returns the share of the top n that paid within
// the horizon.
func oraclePrecision(w world, ev *calibration.Evidence, cut int32, n int) float64 {
	type ranked struct {
		h    float64
		paid bool
	}
	var open []ranked
	for _, a := range ev.Accounts {
		if a.First > cut || a.Paid <= cut {
			continue
		}
		var i int
		if _, err := fmt.Sscanf(a.ID, "ws-%d", &i); err != nil {
			continue
		}
		open = append(open, ranked{w.gen.Hazard(i-1, cutDay), a.Paid <= cut+horizon})
	}
	slices.SortStableFunc(open, func(x, y ranked) int { return cmp.Compare(y.h, x.h) })
	hit := 0
	for _, r := range open[:min(n, len(open))] {
		if r.paid {
			hit++
		}
	}
	return float64(hit) / float64(min(n, len(open)))
}

// The quality targets over ten worlds whose drivers the seed
// draws (1,000 accounts, 90 days, conversions during the world):
// discovery, learning only from what happened up to day 60, names at
// least 2 of the 3 drivers and no noise behaviour in 8 of 10; its
// proposal's top tier, backtested on the 30 days after, holds at most
// 15 % of the open accounts, beats the shipped preset's, and reaches 80 %
// of the precision of an oracle that ranks by the simulator's true hazard
// at the same share, on every seed (docs/scoring.md has every seed's
// figure).
//
// That is the full form (BEACON_QUALITY=full go test
// ./internal/calibration -run TestRandomDriverWorlds -v). The short form
// CI runs takes the first three seeds, with the same bounds per seed and
// 8 in 10 of them found: ten worlds under the race detector take minutes.
func TestRandomDriverWorlds(t *testing.T) {
	const accounts = 1000
	seeds, full := 3, os.Getenv("BEACON_QUALITY") == "full"
	if full {
		seeds = 10
	}
	trials := make([]trial, seeds)
	t.Run("seeds", func(t *testing.T) {
		for i := range trials {
			t.Run(fmt.Sprint("seed", i+1), func(t *testing.T) {
				t.Parallel()
				trials[i] = runTrial(t, uint64(i+1), accounts)
			})
		}
	})
	if t.Failed() {
		return
	}
	found := 0
	ratios := make([]float64, 0, len(trials))
	for _, tr := range trials {
		ratio := tr.precision / tr.oracle
		ratios = append(ratios, ratio)
		t.Logf("seed %2d: drivers %v, noise %v\n\tpicked %v\n\tnamed %d drivers, %d noise; top tier %d of %d open (%.1f %%) converts at %.1f %%; oracle %.1f %% (%.2f of it); shipped preset %.1f %% (%d held)",
			tr.seed, tr.drivers, tr.noise, tr.picked, tr.named, tr.noiseNamed, tr.hot, tr.open, 100*tr.hotShare,
			100*tr.precision, 100*tr.oracle, ratio, 100*tr.preset, tr.presetHeld)
		if tr.named >= 2 && tr.noiseNamed == 0 {
			found++
		}
		if tr.hotShare > 0.15 || tr.hot == 0 {
			t.Errorf("seed %d: the top tier holds %d of %d open accounts (%.1f %%): want some, at most 15 %%", tr.seed, tr.hot, tr.open, 100*tr.hotShare)
		}
		if tr.precision <= tr.preset {
			t.Errorf("seed %d: the proposal's top tier converts at %.1f %%, the shipped preset's at %.1f %%: want better", tr.seed, 100*tr.precision, 100*tr.preset)
		}
	}
	if found*10 < 8*seeds {
		t.Errorf("discovery named 2+ drivers and no noise in %d of %d worlds: want 8 in 10", found, seeds)
	}
	for i, r := range ratios {
		if r < 0.8 {
			t.Errorf("seed %d: the top tier's precision is %.2f of the oracle's at the same share: want 0.8 or more", trials[i].seed, r)
		}
	}
}

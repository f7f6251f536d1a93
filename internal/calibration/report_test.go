package calibration_test

import (
	"context"
	"testing"
	"time"

	"github.com/beaconplg/beacon/internal/billing"
	"github.com/beaconplg/beacon/internal/calibration"
	"github.com/beaconplg/beacon/internal/score"
	"github.com/beaconplg/beacon/internal/store/storetest"
)

type fixedRules struct{ r *score.Rules }

func (f fixedRules) Rules() *score.Rules { return f.r }

// The calibration page's report on a world with drivers: the rules in
// force backtested on weekly cut-offs that end a horizon before the last
// day (of 90 days, days 3 to 59: 9 cut-offs); discovery and a proposal that compiles; both rubrics judged on the
// same open accounts out of sample. A report serves until it is Fresh no
// more, then is computed again from a new replay of the stream.
func TestReport(t *testing.T) {
	ctx := context.Background()
	w := driversWorld(t, 4, 300)
	db := storetest.SQLite(t)
	rules := preset(t, "pql-150")
	w.load(t, db, rules)
	now := w.p.End()
	scorings, replays := 0, 0
	fill := func(_ context.Context, book *calibration.Book) error {
		replays++
		replay(t, db, rules, book, w.p.End())
		return nil
	}
	s := calibration.NewService(calibration.ServiceDeps{Replay: fill, Store: db, Ledgers: billing.NewBook(db), Rules: fixedRules{rules},
		Clock: func() time.Time { return now },
		Standings: func(ctx context.Context, r *score.Rules, at time.Time) ([]score.Standing, error) {
			scorings++
			sv := score.New(db, r, quiet, func() time.Time { return at })
			sv.OneShot()
			sv.AsOf(at)
			return sv.Standings(ctx)
		}})
	r, err := s.Report(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if r.Over == nil || len(r.Over.CutOffs) != 9 || r.Discovery == nil || len(r.Proposal) == 0 || r.OutOfSample == nil {
		t.Fatalf("report: backtest %v, discovery %v, %d bytes proposed, out of sample %v; why: %q",
			r.Over != nil, r.Discovery != nil, len(r.Proposal), r.OutOfSample != nil, r.Why)
	}
	last := r.Over.CutOffs[len(r.Over.CutOffs)-1]
	if calibration.DateOf(last.Day) != r.OutOfSample.Until || last.Day != w.day(w.p.Days-1)-30 {
		t.Errorf("last cut-off %s, out of sample until %s; want the last day %s less the 30-day horizon", calibration.DateOf(last.Day), r.OutOfSample.Until, r.LastDay)
	}
	for i := 1; i < len(r.Over.CutOffs); i++ {
		if r.Over.CutOffs[i].Day-r.Over.CutOffs[i-1].Day != 7 {
			t.Fatalf("cut-offs %d and %d: not a week apart", i-1, i)
		}
	}
	if c := r.OutOfSample; c.Configured.Open != c.Proposed.Open || c.Configured.Converted != c.Proposed.Converted || c.Configured.Open == 0 {
		t.Errorf("out of sample, the rubrics judged on different accounts: %+v against %+v", c.Configured, c.Proposed)
	}
	if r.Conversions == 0 || r.Conversions < r.Discovery.Converters {
		t.Errorf("%d conversions in all, %d learnt from", r.Conversions, r.Discovery.Converters)
	}
	done := scorings
	if again, err := s.Report(ctx); err != nil || again != r || scorings != done || replays != 1 {
		t.Errorf("a second viewer within %v: a new report (%v) after %d scorings and %d replays more", calibration.Fresh, err, scorings-done, replays-1)
	}
	now = now.Add(calibration.Fresh)
	if later, err := s.Report(ctx); err != nil || later == r || scorings == done || replays != 2 {
		t.Errorf("after %v: the same report (%v), %d replays", calibration.Fresh, err, replays)
	}
}

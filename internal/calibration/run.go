// Backtests over days: a rules file scored as of each cut-off, its tiers
// followed, added up over the period and by month, and diagnosed.

package calibration

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/beaconplg/beacon/internal/score"
	"github.com/beaconplg/beacon/internal/signal"
)

// StandingsAt scores every account with rules as of at, writing nothing
// (score.Service.Standings on a service set to AsOf(at)).
type StandingsAt func(ctx context.Context, rules *score.Rules, at time.Time) ([]score.Standing, error)

// ErrNoRouting is a rules file without a routing scorecard: there are no
// tiers to judge.
var ErrNoRouting = errors.New("the rules have no routing scorecard to judge")

// Snapshot scores every account as of the end of day with rules and
// follows the routing card's tiers for horizon days.
func (ev *Evidence) Snapshot(ctx context.Context, at StandingsAt, rules *score.Rules, day int32, horizon int) (Snapshot, error) {
	s, _, _, err := ev.snapshots(ctx, at, rules, day, horizon, nil)
	return s, err
}

// snapshots is Snapshot, counting as entering a tier the accounts not in
// it in before (the routing card's tiers at the cut-off before; nil: no
// count), and beside it every other account card with tiers judged from
// the same scores (JudgeCard), in the rules' order. It returns the routing
// card's tiers for the next cut-off.
func (ev *Evidence) snapshots(ctx context.Context, at StandingsAt, rules *score.Rules, day int32, horizon int, before map[string]string) (Snapshot, []CardSnapshot, map[string]string, error) {
	card, tiers := rules.RoutedTiers()
	if card == "" {
		return Snapshot{}, nil, nil, ErrNoRouting
	}
	st, err := at(ctx, rules, endOf(day))
	if err != nil {
		return Snapshot{}, nil, nil, err
	}
	var others []CardSnapshot
	for _, c := range otherCards(rules) {
		others = append(others, CardSnapshot{Card: c.Name, Snapshot: ev.JudgeCard(day, horizon, c.Name, c.TierNames(), st)})
	}
	tierOf := tiersOn(card, st)
	return ev.judgeOpen(day, horizon, tiers, tierOf, before), others, tierOf, nil
}

// CardSnapshot is a card other than the routing one, judged.
type CardSnapshot struct {
	Card string `json:"scorecard"`
	Snapshot
}

// otherCards are the rules' account cards with tiers but the routing one.
func otherCards(rules *score.Rules) []*score.Card {
	routing, _ := rules.RoutedTiers()
	var out []*score.Card
	for _, c := range rules.Cards {
		if c.Of == score.OfAccount && c.Name != routing && len(c.Tiers) > 0 {
			out = append(out, c)
		}
	}
	return out
}

// Result is one rules file backtested: the cut-offs added up, by month
// (seed 004: "track PQL-to-paid conversion by tier monthly"), each
// cut-off, and seed 004's diagnosis in words.
type Result struct {
	Rules string   `json:"rules"`
	Card  string   `json:"scorecard"`
	Total Snapshot `json:"total"`
	// Others are the other account cards with tiers, added up over the
	// cut-offs: a health card's tiers against churn, an expansion card's
	// against expansion, a grade's against payment.
	Others []CardSnapshot `json:"other_scorecards"`
	// PQL is the PQL tiers (those that route to sales) taken together.
	PQL       PQL        `json:"pql"`
	Months    []Month    `json:"months"`
	CutOffs   []Snapshot `json:"cut_offs"`
	Diagnosis []string   `json:"diagnosis"`
}

// Month is the cut-offs of one calendar month added up.
type Month struct {
	Month string `json:"month"` // YYYY-MM
	Snapshot
}

// Period is a backtest's cut-offs: from first to last, every step days,
// each followed for horizon days.
type Period struct {
	First, Last int32
	Step        int
	Horizon     int
}

// Backtest scores rules as of every cut-off of p and judges its routing
// card's tiers; name names the rules in the result.
func (ev *Evidence) Backtest(ctx context.Context, at StandingsAt, name string, rules *score.Rules, p Period) (Result, error) {
	if p.Step < 1 || p.First > p.Last {
		return Result{}, fmt.Errorf("backtest: no cut-off from %s to %s every %dd", DateOf(p.First), DateOf(p.Last), p.Step)
	}
	card, tiers := rules.RoutedTiers()
	if card == "" {
		return Result{}, ErrNoRouting
	}
	res := Result{Rules: name, Card: card}
	others := map[string][]Snapshot{}
	var before map[string]string
	for d := p.First; d <= p.Last; d += int32(p.Step) {
		s, more, tierOf, err := ev.snapshots(ctx, at, rules, d, p.Horizon, before)
		if err != nil {
			return Result{}, err
		}
		before = tierOf
		res.CutOffs = append(res.CutOffs, s)
		for _, o := range more {
			others[o.Card] = append(others[o.Card], o.Snapshot)
		}
	}
	res.Total, res.Months = Combine(res.CutOffs), byMonth(res.CutOffs)
	for _, c := range otherCards(rules) {
		res.Others = append(res.Others, CardSnapshot{Card: c.Name, Snapshot: Combine(others[c.Name])})
	}
	res.PQL = pqlOf(res.Total, routed(rules))
	res.Diagnosis = Diagnose(res.Total, tiers[len(tiers)-1], routed(rules))
	return res, nil
}

// PQL is the tiers that route to sales taken together: what seed 004's
// PQL-to-paid bands judge, and what two rules files compare on.
type PQL struct {
	Tiers            []string `json:"tiers"`
	Held             int      `json:"held"`
	Share            float64  `json:"share"`
	Converted        int      `json:"converted"`
	Precision        float64  `json:"precision"`
	Entered          int      `json:"entered"`
	EnteredConverted int      `json:"entered_converted"`
	EnteredPrecision float64  `json:"entered_precision"`
}

func pqlOf(s Snapshot, tiers []string) PQL {
	p := PQL{Tiers: tiers}
	for _, name := range tiers {
		if t, ok := s.Tier(name); ok {
			p.Held, p.Converted = p.Held+t.Held, p.Converted+t.Converted
			p.Entered, p.EnteredConverted = p.Entered+t.Entered, p.EnteredConverted+t.EnteredConverted
		}
	}
	p.Share, p.Precision, p.EnteredPrecision = share(p.Held, s.Open), share(p.Converted, p.Held), share(p.EnteredConverted, p.Entered)
	return p
}

// byMonth adds up the cut-offs of each calendar month, in order.
func byMonth(snaps []Snapshot) []Month {
	var out []Month
	for i := 0; i < len(snaps); {
		m := DateOf(snaps[i].Day)[:7]
		j := i
		for j < len(snaps) && DateOf(snaps[j].Day)[:7] == m {
			j++
		}
		out = append(out, Month{Month: m, Snapshot: Combine(snaps[i:j])})
		i = j
	}
	return out
}

// routed names the routing card's PQL tiers: those above its lowest, as
// seed 004's Watching tier is nurture only and sales does not engage (a
// card of one tier: that tier).
func routed(r *score.Rules) []string {
	_, tiers := r.RoutedTiers()
	if len(tiers) > 1 {
		return tiers[1:]
	}
	return tiers
}

// endOf is the last instant of a day: a cut-off sees everything of it.
func endOf(day int32) time.Time { return signal.DayTime(day + 1).Add(-time.Millisecond) }

// DateOf writes a signal day as YYYY-MM-DD.
func DateOf(day int32) string { return signal.DayTime(day).Format(time.DateOnly) }

package calibration

import (
	"slices"

	"github.com/beaconplg/beacon/internal/score"
)

// Snapshot judges one scorecard's tiers on one day: of the accounts it
// judges (for the routing card, those open then: active by the day, not
// paying; for another card, those it applies to), how many each tier held
// and what became of them within the horizon after it.
type Snapshot struct {
	Day       int32        `json:"day"` // days since 1970-01-01, UTC
	Horizon   int          `json:"horizon_days"`
	Open      int          `json:"open"`      // accounts judged on the day
	Converted int          `json:"converted"` // of them, first paid within the horizon
	Expanded  int          `json:"expanded"`  // grew their MRR within it
	Churned   int          `json:"churned"`   // stopped paying within it
	Tiers     []TierResult `json:"tiers"`     // highest tier first; "" holds those in none
}

// TierResult is one tier's accounts on a day and what became of them.
type TierResult struct {
	Tier        string     `json:"tier"`
	Held        int        `json:"held"`
	Share       float64    `json:"share"` // of the accounts judged
	Converted   int        `json:"converted"`
	Precision   float64    `json:"precision"`    // converted over held
	PrecisionCI [2]float64 `json:"precision_ci"` // 95 % Wilson
	Lift        float64    `json:"lift"`         // precision over the judged accounts' rate
	Recall      float64    `json:"recall"`       // of all conversions, the share this tier held
	MedianDays  float64    `json:"median_days"`  // from the day to payment, of those converted
	Activated   int        `json:"activated"`    // of those held, activated by the day (Evidence.SetActivation)
	// Expanded and Churned are those held whose MRR grew, or fell to
	// nothing, within the horizon: what a health or expansion card
	// foretells. Their rates are over Held.
	Expanded      int     `json:"expanded"`
	ExpansionRate float64 `json:"expansion_rate"`
	Churned       int     `json:"churned"`
	ChurnRate     float64 `json:"churn_rate"`
	// Entered counts the accounts that came into the tier since the
	// cut-off before (a backtest's first cut-off has none before it), and
	// EnteredConverted those of them that paid within the horizon: a PQL's
	// conversion counted once per PQL rather than once per day held.
	Entered          int     `json:"entered"`
	EnteredConverted int     `json:"entered_converted"`
	EnteredPrecision float64 `json:"entered_precision"`
	took             []int   // days to payment of those converted
}

// Judge places every open account of the evidence in its tier on card
// by standings (score.Service.Standings as of the end of day) and follows
// it for horizon days. tiers names the card's tiers, lowest first.
func (ev *Evidence) Judge(day int32, horizon int, card string, tiers []string, standings []score.Standing) Snapshot {
	return ev.judgeOpen(day, horizon, tiers, tiersOn(card, standings), nil)
}

// judgeOpen is Judge of the accounts' tiers in tierOf, counting as
// entering a tier those that were not in it in before (nil: none).
func (ev *Evidence) judgeOpen(day int32, horizon int, tiers []string, tierOf, before map[string]string) Snapshot {
	return ev.judge(day, horizon, tiers, tierOf, before, func(a *Account) bool { return a.Paid > day })
}

// JudgeCard is Judge for a card other than the routing one: it judges the
// accounts the card applies to on the day (a health card's paying
// customers, say), whatever they pay.
func (ev *Evidence) JudgeCard(day int32, horizon int, card string, tiers []string, standings []score.Standing) Snapshot {
	tierOf := tiersOn(card, standings)
	return ev.judge(day, horizon, tiers, tierOf, nil, func(a *Account) bool {
		_, applies := tierOf[a.ID]
		return applies
	})
}

// tiersOn maps each account the card applies to to its tier ("" for none).
func tiersOn(card string, standings []score.Standing) map[string]string {
	tierOf := map[string]string{}
	for _, s := range standings {
		if s.Card == card && s.Applies {
			tierOf[s.Account] = s.Tier
		}
	}
	return tierOf
}

// judge follows the accounts active by day that in says to judge, and
// counts as entering a tier those not in it in before (nil: none).
func (ev *Evidence) judge(day int32, horizon int, tiers []string, tierOf, before map[string]string, in func(*Account) bool) Snapshot {
	snap := Snapshot{Day: day, Horizon: horizon}
	order := append([]string{""}, tiers...)
	slices.Reverse(order)
	results := make(map[string]*TierResult, len(order))
	for _, t := range order {
		results[t] = &TierResult{Tier: t}
	}
	for _, a := range ev.Accounts {
		if a.First > day || !in(a) {
			continue
		}
		t := tierOf[a.ID]
		r := results[t]
		if r == nil {
			continue // a tier the card no longer has
		}
		snap.Open++
		r.Held++
		if a.Activated <= day {
			r.Activated++
		}
		paid := a.Paid > day && a.Paid <= day+int32(horizon)
		if paid {
			snap.Converted++
			r.Converted++
			r.took = append(r.took, int(a.Paid-day))
		}
		if was, in := before[a.ID]; before != nil && t != "" && (!in || was != t) {
			r.Entered++
			if paid {
				r.EnteredConverted++
			}
		}
		if within(a.Expanded, day, horizon) {
			snap.Expanded++
			r.Expanded++
		}
		if within(a.Churned, day, horizon) {
			snap.Churned++
			r.Churned++
		}
	}
	for _, t := range order {
		snap.Tiers = append(snap.Tiers, *results[t])
	}
	snap.rate()
	return snap
}

// rate sets each tier's shares, rates and median from its counts.
func (s *Snapshot) rate() {
	base := s.Rate()
	for i := range s.Tiers {
		r := &s.Tiers[i]
		r.Share, r.Precision, r.PrecisionCI = share(r.Held, s.Open), share(r.Converted, r.Held), wilson(r.Converted, r.Held)
		r.ExpansionRate, r.ChurnRate = share(r.Expanded, r.Held), share(r.Churned, r.Held)
		r.EnteredPrecision = share(r.EnteredConverted, r.Entered)
		r.Recall, r.Lift = share(r.Converted, s.Converted), 0
		if base > 0 {
			r.Lift = r.Precision / base
		}
		r.MedianDays = median(r.took)
	}
}

// Entries reports whether any tier counts accounts entering it.
func (s Snapshot) Entries() bool {
	return slices.ContainsFunc(s.Tiers, func(r TierResult) bool { return r.Entered > 0 })
}

// Rate is the share of the open accounts that paid within the horizon.
func (s Snapshot) Rate() float64 { return share(s.Converted, s.Open) }

// Tier returns the result of a tier by name.
func (s Snapshot) Tier(name string) (TierResult, bool) {
	i := slices.IndexFunc(s.Tiers, func(r TierResult) bool { return r.Tier == name })
	if i < 0 {
		return TierResult{}, false
	}
	return s.Tiers[i], true
}

func median(xs []int) float64 {
	if len(xs) == 0 {
		return 0
	}
	slices.Sort(xs)
	n := len(xs)
	if n%2 == 1 {
		return float64(xs[n/2])
	}
	return float64(xs[n/2-1]+xs[n/2]) / 2
}

package calibration

import (
	"slices"

	"github.com/beaconplg/beacon/internal/score"
)

// Snapshot judges one scorecard's tiers on one day: of the accounts open
// then (active by the day, not paying), how many each tier held and how
// many of those paid within the horizon after it.
type Snapshot struct {
	Day       int32        `json:"day"` // days since 1970-01-01, UTC
	Horizon   int          `json:"horizon_days"`
	Open      int          `json:"open"`      // accounts open on the day
	Converted int          `json:"converted"` // of them, paid within the horizon
	Tiers     []TierResult `json:"tiers"`     // highest tier first; "" holds those in none
}

// TierResult is one tier's accounts on a day and what became of them.
type TierResult struct {
	Tier        string     `json:"tier"`
	Held        int        `json:"held"`
	Share       float64    `json:"share"` // of the open accounts
	Converted   int        `json:"converted"`
	Precision   float64    `json:"precision"`    // converted over held
	PrecisionCI [2]float64 `json:"precision_ci"` // 95 % Wilson
	Lift        float64    `json:"lift"`         // precision over the open accounts' rate
	Recall      float64    `json:"recall"`       // of all conversions, the share this tier held
	MedianDays  float64    `json:"median_days"`  // from the day to payment, of those converted
	Activated   int        `json:"activated"`    // of those held, activated by the day (Evidence.SetActivation)
}

// Judge places every open account of the evidence in its tier on card
// by standings (score.Service.Standings as of the end of day) and follows
// it for horizon days. tiers names the card's tiers, lowest first.
func (ev *Evidence) Judge(day int32, horizon int, card string, tiers []string, standings []score.Standing) Snapshot {
	tierOf := map[string]string{}
	for _, s := range standings {
		if s.Card == card && s.Applies {
			tierOf[s.Account] = s.Tier
		}
	}
	snap := Snapshot{Day: day, Horizon: horizon}
	order := append([]string{""}, tiers...)
	slices.Reverse(order)
	held := make(map[string][]int32, len(order)) // days to payment, or -1
	activated := map[string]int{}
	for _, a := range ev.Accounts {
		if a.First > day || a.Paid <= day {
			continue
		}
		snap.Open++
		if a.Activated <= day {
			activated[tierOf[a.ID]]++
		}
		days := int32(-1)
		if a.Paid != Never && a.Paid <= day+int32(horizon) {
			snap.Converted++
			days = a.Paid - day
		}
		t := tierOf[a.ID]
		held[t] = append(held[t], days)
	}
	base := snap.Rate()
	for _, t := range order {
		r := TierResult{Tier: t, Held: len(held[t]), Activated: activated[t]}
		var took []int
		for _, d := range held[t] {
			if d >= 0 {
				r.Converted++
				took = append(took, int(d))
			}
		}
		r.Share, r.Precision = share(r.Held, snap.Open), share(r.Converted, r.Held)
		r.PrecisionCI = wilson(r.Converted, r.Held)
		if base > 0 {
			r.Lift = r.Precision / base
		}
		r.Recall = share(r.Converted, snap.Converted)
		r.MedianDays = median(took)
		snap.Tiers = append(snap.Tiers, r)
	}
	return snap
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

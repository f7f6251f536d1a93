package calibration

import "fmt"

// Seed 004's validation of a PQL definition ("Validation", "Building the
// PQL criteria") and its infrastructure benchmark for scoring precision.
const (
	SeedHotFloor      = 0.25 // "If Hot PQLs convert below 25%, the scoring threshold is too low -- raise it."
	SeedLoose         = 0.15 // "Below 15% means the definition is too loose."
	SeedTargetLow     = 0.25 // "PQL conversion should be 25-30% with sales engagement."
	SeedTargetHigh    = 0.30
	SeedTight         = 0.40 // "Above 40% means it is too tight."
	SeedPrecisionGood = 0.70 // "> 70% of PQLs convert or advance"
	SeedPrecisionWarn = 0.50 // "50-70%"; "< 50% (scoring is noise)"
	SeedActivatedPQL  = 0.05 // "If fewer than 5% of activated users become PQLs, the criteria are too strict"
)

// Combine adds up snapshots of one card, day by day: account-days held and
// converted, so that precision and recall are over the whole period.
func Combine(snaps []Snapshot) Snapshot {
	if len(snaps) == 0 {
		return Snapshot{}
	}
	out := Snapshot{Day: snaps[0].Day, Horizon: snaps[0].Horizon}
	byTier := map[string]int{}
	for _, s := range snaps {
		out.Open += s.Open
		out.Converted += s.Converted
		out.Expanded += s.Expanded
		out.Churned += s.Churned
		for _, t := range s.Tiers {
			i, ok := byTier[t.Tier]
			if !ok {
				i = len(out.Tiers)
				out.Tiers = append(out.Tiers, TierResult{Tier: t.Tier})
				byTier[t.Tier] = i
			}
			r := &out.Tiers[i]
			r.Held += t.Held
			r.Converted += t.Converted
			r.Activated += t.Activated
			r.Expanded += t.Expanded
			r.Churned += t.Churned
			r.Entered += t.Entered
			r.EnteredConverted += t.EnteredConverted
			r.took = append(r.took, t.took...)
		}
	}
	out.rate()
	return out
}

// Diagnose says in words what seed 004 would of a card's tiers: the top
// tier (Hot) against its 25 % floor, the tiers that route to sales
// (PQLs) against the 15 % / 25-30 % / 40 % bands and the precision bands.
func Diagnose(s Snapshot, top string, routed []string) []string {
	var out []string
	if t, ok := s.Tier(top); ok && t.Held > 0 {
		switch p := t.Precision; {
		case p < SeedHotFloor:
			out = append(out, fmt.Sprintf("%s converts at %.1f %%, below seed 004's 25 %%: the threshold is too low — raise it", top, 100*p))
		default:
			out = append(out, fmt.Sprintf("%s converts at %.1f %%, at or above seed 004's 25 %%", top, 100*p))
		}
	}
	var held, conv, activatedPQL, activated int
	for _, name := range routed {
		if t, ok := s.Tier(name); ok {
			held, conv, activatedPQL = held+t.Held, conv+t.Converted, activatedPQL+t.Activated
		}
	}
	for _, t := range s.Tiers {
		activated += t.Activated
	}
	if activated > 0 {
		out = append(out, activatedLine(share(activatedPQL, activated)))
	}
	if held == 0 {
		return append(out, "no account reached a tier that routes to sales: the criteria are too strict — loosen them")
	}
	p := share(conv, held)
	switch {
	case p < SeedLoose:
		out = append(out, fmt.Sprintf("PQLs convert at %.1f %%, below 15 %%: the definition is too loose — tighten it", 100*p))
	case p > SeedTight:
		out = append(out, fmt.Sprintf("PQLs convert at %.1f %%, above 40 %%: the definition is too tight — loosen it", 100*p))
	case p >= SeedTargetLow && p <= SeedTargetHigh:
		out = append(out, fmt.Sprintf("PQLs convert at %.1f %%, within seed 004's 25-30 %%", 100*p))
	default:
		out = append(out, fmt.Sprintf("PQLs convert at %.1f %%, outside seed 004's 25-30 %% but within 15-40 %%", 100*p))
	}
	switch {
	case p > SeedPrecisionGood:
		out = append(out, fmt.Sprintf("precision %.1f %%: good (> 70 %%)", 100*p))
	case p >= SeedPrecisionWarn:
		out = append(out, fmt.Sprintf("precision %.1f %%: warning (50-70 %%)", 100*p))
	default:
		out = append(out, fmt.Sprintf("precision %.1f %%: below 50 %%, seed 004's \"scoring is noise\" (it counts PQLs that convert or advance; this counts payments only)", 100*p))
	}
	return out
}

// activatedLine judges the share of activated accounts that are PQLs. The
// seed counts users; Beacon scores accounts, so it counts accounts.
func activatedLine(p float64) string {
	if p < SeedActivatedPQL {
		return fmt.Sprintf("%.1f %% of activated accounts are PQLs, fewer than seed 004's 5 %%: the criteria are too strict — loosen the product usage thresholds", 100*p)
	}
	return fmt.Sprintf("%.1f %% of activated accounts are PQLs (seed 004: at least 5 %%)", 100*p)
}

// ActivationNote says why the share of activated accounts that become
// PQLs was not judged in total, if it was not: no activation milestone
// named (name, the metrics' activation_event), or no open account had
// reached it by a cut-off.
func ActivationNote(name string, total Snapshot) []string {
	if name == "" {
		return []string{"no activation milestone (metrics.activation_event in beacon.yaml): the share of activated accounts that become PQLs is not judged"}
	}
	for _, t := range total.Tiers {
		if t.Activated > 0 {
			return nil
		}
	}
	return []string{fmt.Sprintf("no open account had done the activation milestone %q by a cut-off: the share of activated accounts that become PQLs is not judged", name)}
}

package calibration_test

import (
	"strings"
	"testing"

	"github.com/beaconplg/beacon/internal/calibration"
)

// Seed 004's validation, in words: Hot below 25 % means raise the
// threshold; PQLs converting below 15 % are too loose, 25-30 % on target,
// above 40 % too tight; fewer than 5 % of activated accounts becoming PQLs
// is too strict; precision above 70 % is good, 50-70 % a warning, below
// 50 % "scoring is noise".
func TestDiagnoseQuotesTheSeed(t *testing.T) {
	if calibration.SeedHotFloor != 0.25 || calibration.SeedLoose != 0.15 || calibration.SeedTargetLow != 0.25 ||
		calibration.SeedTargetHigh != 0.30 || calibration.SeedTight != 0.40 || calibration.SeedActivatedPQL != 0.05 ||
		calibration.SeedPrecisionGood != 0.70 || calibration.SeedPrecisionWarn != 0.50 {
		t.Fatal("seed 004's bands: 25 %, 15 %, 25-30 %, 40 %, 5 % of activated, > 70 % and 50-70 % precision")
	}
	// tiers builds a snapshot: hot and warm route to sales, watching does
	// not; each tier is {held, converted, activated}.
	tiers := func(hot, warm, watching, none [3]int) calibration.Snapshot {
		var s calibration.Snapshot
		for _, tr := range []struct {
			name string
			n    [3]int
		}{{"hot", hot}, {"warm", warm}, {"watching", watching}, {"", none}} {
			s.Tiers = append(s.Tiers, calibration.TierResult{Tier: tr.name, Held: tr.n[0], Converted: tr.n[1], Activated: tr.n[2],
				Precision: float64(tr.n[1]) / float64(max(tr.n[0], 1))})
		}
		return s
	}
	for _, c := range []struct {
		name string
		snap calibration.Snapshot
		want []string
	}{
		{"hot converts at 18 %", tiers([3]int{100, 18, 0}, [3]int{100, 10, 0}, [3]int{100, 1, 0}, [3]int{700, 1, 0}),
			[]string{"hot converts at 18.0 %, below seed 004's 25 %: the threshold is too low — raise it",
				"PQLs convert at 14.0 %, below 15 %: the definition is too loose — tighten it",
				"below 50 %, seed 004's \"scoring is noise\""}},
		{"on target", tiers([3]int{50, 20, 0}, [3]int{150, 35, 0}, [3]int{100, 2, 0}, [3]int{700, 1, 0}),
			[]string{"hot converts at 40.0 %, at or above seed 004's 25 %", "PQLs convert at 27.5 %, within seed 004's 25-30 %"}},
		{"between the bands", tiers([3]int{50, 15, 0}, [3]int{50, 5, 0}, [3]int{100, 2, 0}, [3]int{800, 1, 0}),
			[]string{"PQLs convert at 20.0 %, outside seed 004's 25-30 % but within 15-40 %"}},
		{"too tight, precision warning", tiers([3]int{10, 6, 0}, [3]int{10, 6, 0}, [3]int{100, 2, 0}, [3]int{880, 1, 0}),
			[]string{"PQLs convert at 60.0 %, above 40 %: the definition is too tight — loosen it", "precision 60.0 %: warning (50-70 %)"}},
		{"precision good", tiers([3]int{10, 8, 0}, [3]int{0, 0, 0}, [3]int{100, 2, 0}, [3]int{890, 1, 0}),
			[]string{"precision 80.0 %: good (> 70 %)"}},
		{"3 % of activated are PQLs", tiers([3]int{10, 3, 2}, [3]int{10, 3, 1}, [3]int{100, 2, 40}, [3]int{880, 1, 57}),
			[]string{"3.0 % of activated accounts are PQLs, fewer than seed 004's 5 %: the criteria are too strict"}},
		{"8 % of activated are PQLs", tiers([3]int{10, 3, 5}, [3]int{10, 3, 3}, [3]int{100, 2, 40}, [3]int{880, 1, 52}),
			[]string{"8.0 % of activated accounts are PQLs (seed 004: at least 5 %)"}},
		{"no PQL at all", tiers([3]int{0, 0, 0}, [3]int{0, 0, 0}, [3]int{100, 2, 0}, [3]int{900, 1, 0}),
			[]string{"no account reached a tier that routes to sales: the criteria are too strict — loosen them"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := strings.Join(calibration.Diagnose(c.snap, "hot", []string{"hot", "warm"}), "\n")
			for _, w := range c.want {
				if !strings.Contains(got, w) {
					t.Errorf("diagnosis lacks %q:\n%s", w, got)
				}
			}
			if strings.Contains(got, "activated") != strings.Contains(c.name, "activated") {
				t.Errorf("the activated share judged without activation counts, or not with them:\n%s", got)
			}
		})
	}
}

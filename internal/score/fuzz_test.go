package score_test

import (
	"testing"

	"github.com/beaconplg/beacon/internal/score"
)

// FuzzCompile: whatever a rules file says, loading it returns rules or an
// error, never a panic; and rules that load can score an empty subject.
func FuzzCompile(f *testing.F) {
	for _, name := range score.Presets() {
		b, err := score.PresetFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(base))
	f.Add([]byte("scoring:\n  signals:\n    - {name: x, measure: trend, window: 1d, baseline: 1d}\n  scorecards:\n    - {name: a, of: user, rules: [{name: r, label: l, when: 'x > 0', points: 1}], tiers: [{name: t, min: 0}]}\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		sp, err := score.ParseFile(src, "fuzz.yaml")
		if err != nil {
			return
		}
		r, err := score.Compile(*sp)
		if err != nil {
			return
		}
		for _, kind := range []string{score.OfAccount, score.OfUser} {
			_, _ = r.Evaluate(kind, nil, 20000, score.Facts{})
		}
		for _, tier := range []string{"", "hot", "no such tier"} {
			_, _ = r.RouteFor(tier, nil, 20000, score.Facts{})
		}
		_, _ = score.NudgesFor(r, nil, 20000, score.Facts{})
	})
}

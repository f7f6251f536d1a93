package calibration

import (
	"math"
	"testing"
)

// Textbook figures: the Wilson interval of 81/263 (Newcombe 1998, table
// I: 0.2553 to 0.3662); a ratio of shares with no strata to pool; and
// the Mantel–Haenszel odds ratio of two strata whose own odds ratios are
// both 4, with its interval around 4.
func TestIntervals(t *testing.T) {
	w := wilson(81, 263)
	if math.Abs(w[0]-0.2553) > 5e-4 || math.Abs(w[1]-0.3662) > 5e-4 {
		t.Errorf("wilson(81, 263) = %v; want [0.2553 0.3662]", w)
	}
	if w := wilson(0, 10); w[0] != 0 || w[1] < 0.27 || w[1] > 0.28 {
		t.Errorf("wilson(0, 10) = %v; want [0 0.278]", w)
	}
	r, ci := ratio(40, 50, 20, 100)
	if math.Abs(r-4) > 1e-9 || ci[0] > 4 || ci[1] < 4 || ci[0] < 2.5 || ci[1] > 6.5 {
		t.Errorf("ratio(40/50 over 20/100) = %v %v; want 4 within about [2.7 5.9]", r, ci)
	}
	or, ci, ok := mantelHaenszel([]stratum{{a: 20, b: 10, c: 10, d: 20}, {a: 40, b: 20, c: 20, d: 40}})
	if !ok || math.Abs(or-4) > 1e-9 || ci[0] > 4 || ci[1] < 4 || ci[0] < 2 {
		t.Errorf("pooled odds ratio %v %v %v; want 4 inside its interval, above 2", or, ci, ok)
	}
	if _, _, ok := mantelHaenszel(nil); ok {
		t.Error("no strata gave an odds ratio")
	}
}

// The joint odds ratios: one rule alone gives its table's odds ratio,
// shrunk a little toward 1 by the penalty (within 10 % beside 800
// samples); the same rule twice shares it, each copy worth about its
// square root, rather than counting it twice.
func TestJointOdds(t *testing.T) {
	var x [][]bool
	var y []bool
	add := func(n int, conv bool, row ...bool) {
		for range n {
			x, y = append(x, row), append(y, conv)
		}
	}
	// 300 converters and 100 others with the rule, 100 and 300 without:
	// an odds ratio of 9.
	add(300, true, true)
	add(100, false, true)
	add(100, true, false)
	add(300, false, false)
	one := jointOdds(x, y)[0]
	if one > 9 || one < 8.1 {
		t.Errorf("one rule: odds ratio %.2f, want 9 shrunk by under 10 %%", one)
	}
	for i := range x {
		x[i] = []bool{x[i][0], x[i][0]}
	}
	both := jointOdds(x, y)
	if math.Abs(both[0]-both[1]) > 1e-6 || math.Abs(both[0]*both[1]-one) > 0.5 {
		t.Errorf("the rule twice: %.2f and %.2f, want equal halves of %.2f", both[0], both[1], one)
	}
}

// A behaviour every converter shows leaves no converter without it: the
// plain odds ratio is infinite. Half an observation more in each cell
// (Haldane-Anscombe) gives (20.5 × 30.5) / (2.5 × 0.5) = 500.2, with an
// interval well above 1, so that it can still be proposed.
func TestOddsWithAZero(t *testing.T) {
	or, ci, ok := mantelHaenszel([]stratum{{a: 20, b: 2, c: 0, d: 30}})
	if !ok || math.Abs(or-500.2) > 0.01 || ci[0] <= 1 || ci[1] <= or {
		t.Errorf("odds ratio %v [%v] (%v); want 500.2 with its interval above 1", or, ci, ok)
	}
	// Strata where nobody shows it say nothing: corrected, they would
	// weigh in with the ten non-converters sampled per converter.
	again, _, _ := mantelHaenszel([]stratum{{a: 20, b: 2, c: 0, d: 30}, {c: 5, d: 50}, {c: 3, d: 30}})
	if math.Abs(again-or) > 0.01 {
		t.Errorf("with strata where nobody shows it: odds ratio %v, want %v as without them", again, or)
	}
}

// A candidate no account in the sample shows is no evidence either way,
// not ten to one (the sampling's ratio of non-converters to converters).
func TestOddsOfWhatNobodyShows(t *testing.T) {
	if or, ci, ok := mantelHaenszel([]stratum{{c: 30, d: 300}, {c: 20, d: 200}}); ok {
		t.Errorf("odds ratio %v [%v] of a candidate nobody shows: want none", or, ci)
	}
}

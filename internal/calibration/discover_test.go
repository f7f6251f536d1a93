package calibration_test

import (
	"strings"
	"testing"
	"time"

	"github.com/beaconplg/beacon/internal/calibration"
	"github.com/beaconplg/beacon/internal/store/storetest"
)

// Seed 004, "Building the PQL criteria": "Pull the last 50 conversions",
// "actions that appear in 70%+ of conversions in the 7-14 days before
// payment". Windows outside 7-14 days are refused, naming the seed; fewer
// than 50 conversions are used, with a warning that says so; every
// finding says whether it passes the seed's 70 % test.
func TestSeedRecipe(t *testing.T) {
	o := calibration.DefaultOptions()
	if calibration.SeedConversions != 50 || calibration.SeedPresence != 0.70 ||
		calibration.SeedWindowMin != 7 || calibration.SeedWindowMax != 14 ||
		o.Conversions != 50 || o.Window != 14 {
		t.Fatalf("seed 004's recipe: 50 conversions, 70 %%, 7-14 days; have %d, %v, %d-%d, defaults %+v",
			calibration.SeedConversions, calibration.SeedPresence, calibration.SeedWindowMin, calibration.SeedWindowMax, o)
	}
	for _, days := range []int{6, 15} {
		bad := o
		bad.Window = days
		if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), "7 to 14 days") {
			t.Errorf("window %dd: %v; want refused, naming 7 to 14 days", days, err)
		}
	}
	w := driversWorld(t, 1, 150)
	ev := w.load(t, storetest.SQLite(t), preset(t, "pql-150"))
	d, err := ev.Discover(o)
	if err != nil {
		t.Fatal(err)
	}
	if d.Converters == 0 || d.Converters >= 50 || !strings.Contains(d.Warning, "fewer than the 50") {
		t.Errorf("%d conversions: warning %q; want one saying fewer than the 50 seed 004 asks for", d.Converters, d.Warning)
	}
	if d.NonConverters != o.Matched*d.Converters || o.Matched != 10 {
		t.Errorf("%d accounts compared for %d conversions: want %d each", d.NonConverters, d.Converters, o.Matched)
	}
	present := 0
	for _, f := range d.Findings {
		if f.SeedPresent != (f.Share >= 0.70) {
			t.Errorf("%s: shown by %.0f %% of conversions, seed's 70 %% test %v", f.Label, 100*f.Share, f.SeedPresent)
		}
		if f.SeedPresent {
			present++
		}
	}
	if present == 0 {
		t.Error("no finding passes the seed's 70 % test: the test cannot tell")
	}
	// "Do not over-engineer with machine learning until you have 1,000+
	// conversions to train on."
	paid := 0
	for _, a := range w.truth.Accounts {
		if a.Converted {
			paid++
		}
	}
	if calibration.SeedModelConversions != 1000 || d.Conversions != paid ||
		!strings.Contains(d.Model, "fewer than the 1000 seed 004 asks before a model: stay with threshold rules") {
		t.Errorf("%d conversions in all (the truth: %d): %q; want rules, below seed 004's 1,000", d.Conversions, paid, d.Model)
	}
}

// Whether sales knows an account is known as of today only, and sales
// records the customers that paid: marked so on every converter, it sets
// them apart perfectly, and is shown but never proposed, nor read by a
// model.
func TestCRMFactNeverProposed(t *testing.T) {
	w := driversWorld(t, 1, 150)
	ev := w.load(t, storetest.SQLite(t), preset(t, "pql-150"))
	for _, a := range ev.Accounts {
		a.Facts.InCRM = a.Paid != calibration.Never
	}
	d, err := ev.Discover(calibration.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	shown := false
	for _, f := range d.Findings {
		if f.Kind == calibration.KindInCRM {
			shown = true
			if f.Picked || f.Share != 1 || f.LiftCI[0] < 1.25 {
				t.Errorf("the CRM fact: picked %v, %.2f of converters against %.2f (ratio from %.1f): want strong, and not picked",
					f.Picked, f.Share, f.NonShare, f.LiftCI[0])
			}
		}
	}
	if !shown {
		t.Error("the CRM fact is not shown")
	}
	o := calibration.DefaultModelOptions()
	o.MinConversions = 1
	m, err := ev.TrainModel(o)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range m.Features {
		if strings.Contains(f.Signal, "CRM") {
			t.Errorf("the model reads %q", f.Signal)
		}
	}
}

// A proposed rule says in beacon.yaml what discovery counted: for one
// finding of each kind, the rules file proposed, scored by the scoring
// engine as of the day discovery read up to, holds for exactly the
// accounts for which discovery's own count holds.
func TestProposedRulesMeanWhatDiscoveryCounted(t *testing.T) {
	w := driversWorld(t, 3, 300)
	db := storetest.SQLite(t)
	ev := w.load(t, db, preset(t, "pql-150"))
	o := calibration.DefaultOptions()
	o.Until = w.day(cutDay)
	d, err := ev.Discover(o)
	if err != nil {
		t.Fatal(err)
	}
	kinds := []string{calibration.KindCount, calibration.KindDays, calibration.KindUsers, calibration.KindFirst,
		calibration.KindActiveDays, calibration.KindActiveUsers, calibration.KindICP, calibration.KindIndustry,
		calibration.KindEmployees}
	var picked []calibration.Finding
	for _, kind := range kinds {
		// The kind's form shown by the most converters but not by all, so
		// that its rule can both hold and fail.
		best := -1
		for i, f := range d.Findings {
			if f.Kind == kind && f.With < f.Converters && (best < 0 || f.With > d.Findings[best].With) {
				best = i
			}
		}
		if best < 0 {
			t.Fatalf("no finding of kind %s", kind)
		}
		f := d.Findings[best]
		f.Joint = 2
		picked = append(picked, f)
	}
	d.Picked = picked
	prop, rules := propose(t, ev, d)
	standings := standingsAt(t, db, rules, w.p.Start.AddDate(0, 0, cutDay+1).Add(-time.Millisecond))
	fired := map[string]map[string]bool{} // account → rules that held
	for _, st := range standings {
		if st.Card != prop.Card || !st.Applies {
			continue
		}
		fired[st.Account] = map[string]bool{}
		for _, r := range st.Reasons {
			fired[st.Account][r.Rule] = true
		}
	}
	for i, r := range prop.Rules {
		held, wrong := 0, 0
		for _, a := range ev.Accounts {
			if a.First > o.Until || a.Paid <= o.Until {
				continue // the card scores open accounts only
			}
			want := d.HoldsOn(picked[i], a, o.Until, len(ev.Names))
			if want {
				held++
			}
			if fired[a.ID][r.Name] != want {
				if wrong++; wrong <= 3 {
					t.Errorf("%s (%s), account %s: the rule holds %v, discovery counted %v", r.Name, r.Kind, a.ID, fired[a.ID][r.Name], want)
				}
			}
		}
		if held == 0 {
			t.Errorf("%s (%s) holds for no account: the test cannot tell", r.Name, r.Kind)
		}
		if wrong > 0 {
			t.Errorf("%s (%s): %d accounts of %d disagree", r.Name, r.Kind, wrong, len(ev.Accounts))
		}
	}
}

package calibration

import (
	"fmt"
	"slices"
	"testing"

	"github.com/beaconplg/beacon/internal/score"
)

// Of a behaviour's forms, discovery picks the one most converters show
// among those the evidence cannot tell apart from the strongest, and steps
// up only to a form clearly stronger that enough converters show.
func TestPickForms(t *testing.T) {
	form := func(kind string, min int, share, or, lo, hi float64) Finding {
		f := Finding{Candidate: Candidate{Kind: kind, Behaviour: "Search Performed", Min: min}, Share: share,
			Adjusted: or, AdjustedCI: [2]float64{lo, hi}}
		f.Label = f.Candidate.Label(14)
		return f
	}
	tests := []struct {
		name  string
		forms []Finding // strongest evidence first, as Discover sorts them
		want  []string
	}{{
		name: "twice is no clearer than once",
		forms: []Finding{form(KindCount, 2, 0.28, 8.7, 3.8, 20), form(KindCount, 1, 0.46, 6.1, 3.1, 12),
			form(KindCount, 5, 0.10, 18, 5.2, 60)},
		want: []string{"Search Performed in the last 14 days"},
	}, {
		name:  "five times is clearly stronger than once",
		forms: []Finding{form(KindCount, 5, 0.30, 9, 4, 20), form(KindCount, 1, 0.60, 1.5, 1.3, 1.8)},
		want:  []string{"Search Performed 5+ times in the last 14 days"},
	}, {
		name: "a step up most converters show",
		forms: []Finding{form(KindCount, 1, 0.60, 3, 2, 4.5), form(KindUsers, 3, 0.25, 6, 3, 12),
			form(KindCount, 10, 0.02, 50, 2, 1000)},
		want: []string{"Search Performed in the last 14 days", "Search Performed by 3+ users in the last 14 days"},
	}, {
		name:  "a step up one converter shows is chance",
		forms: []Finding{form(KindCount, 1, 0.60, 3, 2, 4.5), form(KindCount, 10, 0.02, 50, 2, 1000)},
		want:  []string{"Search Performed in the last 14 days"},
	}, {
		name:  "too few converters show any form",
		forms: []Finding{form(KindCount, 1, 0.10, 9, 3, 20)},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := &Discovery{Options: DefaultOptions(), Findings: tt.forms}
			d.pick()
			var got []string
			for _, f := range d.Picked {
				got = append(got, f.Label)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("picked %q, want %q", got, tt.want)
			}
		})
	}
}

// Each conversion is compared with accounts drawn for it: fifty
// conversions on one day (the last fifty of a large product) are not all
// compared with the same ten accounts.
func TestSamplesPerConversion(t *testing.T) {
	const day = 20000
	ev := &Evidence{}
	add := func(id string, paid int32) {
		ev.Accounts = append(ev.Accounts, &Account{ID: id, First: day - 30, Paid: paid, Activated: Never, idHash: hashID(id)})
	}
	for i := range 50 {
		add(fmt.Sprintf("paid-%02d", i), day)
	}
	for i := range 300 {
		add(fmt.Sprintf("open-%03d", i), Never)
	}
	seen := map[string]bool{}
	others := 0
	for _, s := range ev.samples(DefaultOptions()) {
		if !s.converter {
			others++
			seen[s.a.ID] = true
		}
	}
	// Ten of 300 drawn afresh for each of 50 conversions reach about 245
	// accounts; one draw for the day, ten.
	if others != 500 || len(seen) < 200 {
		t.Errorf("%d accounts compared, %d of them distinct: want 500, most of the 300 open", others, len(seen))
	}
}

// Behaviours and industries whose names differ only in case or
// punctuation make the same slug; their proposed rules and signals are
// named apart, and the proposal compiles.
func TestProposedNamesApart(t *testing.T) {
	count := func(name string) Finding {
		return Finding{Candidate: Candidate{Kind: KindCount, Behaviour: name, Min: 1}, Joint: 2}
	}
	industry := func(name string) Finding {
		return Finding{Candidate: Candidate{Kind: KindIndustry, Value: name}, Joint: 2}
	}
	first := Finding{Candidate: Candidate{Kind: KindFirst, Behaviour: "Signed Up", Min: 1}, Joint: 2}
	d := &Discovery{Options: DefaultOptions(), Picked: []Finding{count("Signed Up"), count("signed_up"), first,
		industry("R&D"), industry("R D"), industry("Café")}}
	for i := range d.Picked {
		d.Picked[i].Label = d.Picked[i].Candidate.Label(14)
	}
	sp, err := score.Preset("pql-150")
	if err != nil {
		t.Fatal(err)
	}
	p, err := (&Evidence{}).Propose(d, *sp)
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, r := range p.Rules {
		if names[r.Name] {
			t.Errorf("rule %s twice", r.Name)
		}
		names[r.Name] = true
	}
	src, err := p.YAML(d)
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := score.ParseFile(src, "proposal.yaml")
	if err == nil {
		_, err = score.Compile(*parsed)
	}
	if err != nil {
		t.Fatalf("%v\n%s", err, src)
	}
}

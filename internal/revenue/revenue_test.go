package revenue

import (
	"math"
	"strings"
	"testing"
)

// Seed 004's worked example: ($100K + $15K − $3K − $5K) / $100K = 107 %.
// Gross retention leaves the expansion out: 92 %.
func TestRetentionSeedExample(t *testing.T) {
	p := Period{Starting: 100_000_00, Expansion: 15_000_00, Contraction: 3_000_00, Churn: 5_000_00}
	if nrr, ok := p.NRR(); !ok || math.Abs(nrr-107) > 1e-9 {
		t.Fatalf("NRR %v (%v), want 107%%", nrr, ok)
	}
	if grr, ok := p.GRR(); !ok || math.Abs(grr-92) > 1e-9 {
		t.Fatalf("GRR %v (%v), want 92%%", grr, ok)
	}
	if _, ok := (Period{Expansion: 5}).NRR(); ok {
		t.Fatal("NRR without starting MRR")
	}
}

// The bands are seed 004's "Net Revenue Retention (NRR) Benchmarks" row
// by row, and an NRR is judged with the seed's interpretation.
func TestNRRBands(t *testing.T) {
	seed := []struct {
		segment, low     string
		median, topQuart float64
	}{
		{"SMB PLG", "< 90%", 97, 110},
		{"Mid-Market PLG", "95-100%", 108, 120},
		{"Enterprise PLG", "105-110%", 118, 130},
	}
	for i, row := range seed {
		b := NRRBands[i]
		if b.Segment != row.segment || b.LowBand != row.low || b.Median != row.median || b.High != row.topQuart {
			t.Errorf("band %d = %+v, want %+v", i, b, row)
		}
	}
	for _, c := range []struct {
		band int
		nrr  float64
		want []string
	}{
		{0, 85, []string{"in the SMB PLG low band (< 90%)", "shrinking from within"}},
		{0, 104, []string{"at or above the SMB PLG median (97%)", "Healthy baseline"}},
		{1, 99, []string{"in the Mid-Market PLG low band (95-100%)", "Address immediately"}},
		{1, 107, []string{"under the Mid-Market PLG median (108%)", "Expansion covers churn"}},
		{2, 131, []string{"in the Enterprise PLG top quartile (130%+)", "Strong indicator of product-market fit"}},
	} {
		got := NRRBands[c.band].Judge(c.nrr)
		for _, w := range c.want {
			if !strings.Contains(got, w) {
				t.Errorf("%s at %v%%: %q lacks %q", NRRBands[c.band].Segment, c.nrr, got, w)
			}
		}
	}
}

// Every interval is brought to a month; trials and subscriptions that do
// not collect are 0; a lasting discount lowers MRR and a one-time one
// does not; what is not Stripe's is refused, naming the field.
func TestMRR(t *testing.T) {
	month := func(cents, qty int64) Item { return Item{UnitAmount: cents, Quantity: qty, Interval: "month"} }
	for _, c := range []struct {
		name string
		sub  Subscription
		want int64
		err  string
	}{
		{"5 seats at $20 a month", Subscription{Status: "active", Items: []Item{month(2000, 5)}}, 10000, ""},
		{"quantity left out counts once", Subscription{Status: "active", Items: []Item{{UnitAmount: 2000, Interval: "month"}}}, 2000, ""},
		{"$1,200 a year", Subscription{Status: "active", Items: []Item{{UnitAmount: 120000, Interval: "year"}}}, 10000, ""},
		{"$300 a quarter", Subscription{Status: "active", Items: []Item{{UnitAmount: 30000, Interval: "month", IntervalCount: 3}}}, 10000, ""},
		{"$10 a week", Subscription{Status: "active", Items: []Item{{UnitAmount: 1000, Interval: "week"}}}, 4333, ""},
		{"two items", Subscription{Status: "past_due", Items: []Item{month(2000, 5), {UnitAmount: 120000, Interval: "year"}}}, 20000, ""},
		{"trialing", Subscription{Status: "trialing", Items: []Item{month(2000, 5)}}, 0, ""},
		{"canceled", Subscription{Status: "canceled", Items: []Item{month(2000, 5)}}, 0, ""},
		{"20% off forever", Subscription{Status: "active", Items: []Item{month(10000, 1)}, Discount: &Coupon{PercentOff: 20, Duration: "forever"}}, 8000, ""},
		{"$10 off each invoice", Subscription{Status: "active", Items: []Item{month(10000, 1)}, Discount: &Coupon{AmountOff: 1000, Duration: "repeating"}}, 9000, ""},
		{"a one-time discount", Subscription{Status: "active", Items: []Item{month(10000, 1)}, Discount: &Coupon{PercentOff: 50, Duration: "once"}}, 10000, ""},
		{"a fortnightly interval", Subscription{Status: "active", Items: []Item{{UnitAmount: 1, Interval: "fortnight"}}}, 0, `items[0].interval "fortnight"`},
		{"an unknown status", Subscription{Status: "sleeping"}, 0, `status "sleeping"`},
	} {
		got, err := MRR(c.sub)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: %v, want an error with %q", c.name, err, c.err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%s: MRR %d (%v), want %d", c.name, got, err, c.want)
		}
	}
}

// Each change of MRR is one movement.
func TestClassify(t *testing.T) {
	for _, c := range []struct {
		before, after int64
		paid          bool
		want          Kind
	}{
		{0, 5000, false, New},
		{0, 5000, true, Reactivation},
		{5000, 7000, true, Expansion},
		{7000, 5000, true, Contraction},
		{5000, 0, true, Churn},
		{5000, 5000, true, None},
		{0, 0, false, None},
	} {
		if got := Classify(c.before, c.after, c.paid); got != c.want {
			t.Errorf("%d → %d (paid before %v): %q, want %q", c.before, c.after, c.paid, got, c.want)
		}
	}
}

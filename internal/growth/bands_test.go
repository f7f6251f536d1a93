package growth

import (
	"strings"
	"testing"
)

// Seed 004, "PLG Funnel Conversion Benchmarks", row by row: each row's
// columns as written, and a value in each column judged as the seed
// interprets it.
func TestFunnelBandsQuoteSeed004(t *testing.T) {
	rows := []struct {
		key, metric, low, typical, high string
		inLow, inTypical, inHigh        float64
	}{
		{"visitor_to_signup", "Visitor-to-Signup", "1-2%", "3-5%", "7-10%", 1.5, 4, 8},
		{"signup_to_activation", "Signup-to-Activation", "15-20%", "25-35%", "40-60%", 17, 34.6, 50},
		{"free_to_paid_freemium", "Free-to-Paid (Freemium)", "1-2%", "3-5%", "7-10%", 1, 5, 7.5},
		{"free_to_paid_trial", "Free-to-Paid (Free Trial)", "8-12%", "15-17%", "20-25%", 10, 17, 22},
		{"pql_to_paid", "PQL-to-Paid", "15-20%", "25-30%", "35-40%", 18, 27, 39},
		{"time_to_activation", "Time to Activation", "> 7 days", "1-3 days", "< 1 hour", 8 * 24, 2 * 24, 0.5},
	}
	for _, r := range rows {
		b, ok := funnelBands[r.key]
		if !ok || b.Metric != r.metric || b.Low != r.low || b.Typical != r.typical || b.High != r.high {
			t.Fatalf("%s: %+v, seed 004 says %s | %s | %s | %s", r.key, b, r.metric, r.low, r.typical, r.high)
		}
		if l, text := b.Judge(r.inLow); l != Red || !strings.Contains(text, BelowLow) {
			t.Errorf("%s %v: %s %q, want red: below low", r.key, r.inLow, l, text)
		}
		if l, _ := b.Judge(r.inTypical); l != Good {
			t.Errorf("%s %v: %s, want good (typical)", r.key, r.inTypical, l)
		}
		if l, text := b.Judge(r.inHigh); l != Good || !strings.Contains(text, AboveHigh) {
			t.Errorf("%s %v: %s %q, want above high", r.key, r.inHigh, l, text)
		}
	}
	if !strings.Contains(BelowLow, "Diagnose which stage leaks first") {
		t.Fatal("the seed's interpretation of below low is lost")
	}
}

// Seed 004, "Quick Reference Thresholds" and "PLG Infrastructure
// Benchmarks": each row's Good, Warning and Red Flag columns, and a value
// in each judged so.
func TestQuickAndInfrastructureBandsQuoteSeed004(t *testing.T) {
	rows := []struct {
		key, question, good, warning, red string
		g, w, r                           float64
	}{
		{"activation_rate", "Is our activation rate healthy?", "> 35%", "20-35%", "< 20%", 40, 30, 10},
		{"free_to_paid_freemium", "Is our free-to-paid conversion viable?", "> 5% (freemium)", "3-5%", "< 3%", 6, 4, 2},
		{"free_to_paid_trial", "Is our free-to-paid conversion viable?", "> 15% (trial)", "10-15%", "< 10%", 16, 12, 9},
		{"pql_to_customer", "Are PQLs converting?", "> 25% PQL-to-opportunity", "15-25%", "< 15%", 30, 20, 10},
		{"nrr", "Is expansion working?", "NRR > 110%", "100-110%", "< 100%", 115, 105, 95},
		{"alert_to_outreach", "Is the sales handoff timely?", "PQL to outreach < 1 hour", "1-24 hours", "> 24 hours", 0.5, 12, 30},
		{"crm_latency", "Data pipeline latency (product events to CRM)", "< 1 hour", "1-24 hours", "> 24 hours or manual", 0.2, 5, 48},
		{"pql_precision", "PQL scoring model accuracy (precision)", "> 70% of PQLs convert or advance", "50-70%", "< 50% (scoring is noise)", 75, 60, 40},
		{"checkout_completion", "Self-serve checkout completion rate", "> 60%", "40-60%", "< 40% (checkout friction)", 65, 50, 30},
		{"identity_match_rate", "Identity resolution match rate", "> 85% of product users matched to CRM", "70-85%", "< 70% (data model gaps)", 90, 80, 60},
	}
	for _, r := range rows {
		b, ok := quickBands[r.key]
		if !ok || b.Question != r.question || b.Good != r.good || b.Warning != r.warning || b.RedAt != r.red {
			t.Fatalf("%s: %+v, seed 004 says %q | %s | %s | %s", r.key, b, r.question, r.good, r.warning, r.red)
		}
		for v, want := range map[float64]Level{r.g: Good, r.w: Warning, r.r: Red} {
			if l, text := b.Judge(v); l != want {
				t.Errorf("%s %v: %s (%s), want %s", r.key, v, l, text, want)
			}
		}
	}
}

// Seed 002's "PLG Metrics Framework" names its sixteen metrics in four
// tables; the dashboard shows each under the seed's name, in its table.
func TestSeed002MetricNames(t *testing.T) {
	seed := map[string][]string{
		"acquisition":  {"Monthly Signups", "Organic vs Paid Split", "Signup Conversion Rate", "Time to First Signup"},
		"activation":   {"Day 1 Activation Rate", "Time to Aha Moment", "Feature Adoption (Core)", "Onboarding Completion"},
		"engagement":   {"Weekly Active Users (WAU)", "DAU/MAU Ratio (Stickiness)", "Session Frequency", "Feature Breadth Score"},
		"monetization": {"Free-to-Paid Conversion", "Time to Conversion", "Average Contract Value", "PQL to Customer Rate"},
	}
	for table, labels := range seed {
		var have []string
		for _, d := range Defs {
			if d.Table == table {
				have = append(have, d.Label)
			}
		}
		for _, l := range labels {
			if !strings.Contains(strings.Join(have, "|"), l) {
				t.Errorf("%s: no metric labelled %q (have %v)", table, l, have)
			}
		}
	}
}

package revenue

import "fmt"

// Period is the MRR of the accounts paying at a period's start, and what
// became of it: expansion, contraction and churn, all positive amounts.
// New and reactivated accounts are not in it: retention measures the
// accounts one started with.
type Period struct {
	Starting    int64 `json:"starting"`
	Expansion   int64 `json:"expansion"`
	Contraction int64 `json:"contraction"`
	Churn       int64 `json:"churn"`
}

// NRR is net revenue retention in percent, as seed 004 defines it:
// (starting MRR + expansion − contraction − churn) / starting MRR × 100.
// It is undefined (ok false) without starting MRR.
func (p Period) NRR() (pct float64, ok bool) {
	if p.Starting <= 0 {
		return 0, false
	}
	return float64(p.Starting+p.Expansion-p.Contraction-p.Churn) / float64(p.Starting) * 100, true
}

// GRR is gross revenue retention in percent: what stays of the starting
// MRR without counting expansion, (starting − contraction − churn) /
// starting × 100, so never above 100.
func (p Period) GRR() (pct float64, ok bool) {
	if p.Starting <= 0 {
		return 0, false
	}
	return float64(p.Starting-p.Contraction-p.Churn) / float64(p.Starting) * 100, true
}

// Band is where a segment's NRR stands against seed 004's benchmarks
// (ChartMogul SaaS Retention Report).
type Band struct {
	Segment string
	// LowBand is the seed's low band as written; Low is its top, Median
	// the typical NRR, High the top quartile's, all in percent.
	LowBand           string
	Low, Median, High float64
}

// NRRBands are seed 004's "Net Revenue Retention (NRR) Benchmarks".
var NRRBands = []Band{
	{Segment: "SMB PLG", LowBand: "< 90%", Low: 90, Median: 97, High: 110},
	{Segment: "Mid-Market PLG", LowBand: "95-100%", Low: 100, Median: 108, High: 120},
	{Segment: "Enterprise PLG", LowBand: "105-110%", Low: 110, Median: 118, High: 130},
}

// Judge says where nrr stands in b and what seed 004 says of it.
func (b Band) Judge(nrr float64) string {
	place := ""
	switch {
	case nrr < b.Low:
		place = fmt.Sprintf("in the %s low band (%s)", b.Segment, b.LowBand)
	case nrr < b.Median:
		place = fmt.Sprintf("under the %s median (%.0f%%)", b.Segment, b.Median)
	case nrr < b.High:
		place = fmt.Sprintf("at or above the %s median (%.0f%%)", b.Segment, b.Median)
	default:
		place = fmt.Sprintf("in the %s top quartile (%.0f%%+)", b.Segment, b.High)
	}
	return place + ": " + interpret(nrr)
}

// interpret is seed 004's interpretation of an NRR.
func interpret(nrr float64) string {
	switch {
	case nrr < 100:
		return "Company is shrinking from within. Churn and contraction exceed expansion. Address immediately."
	case nrr <= 110:
		return "Healthy baseline. Expansion covers churn. Focus on increasing expansion rate."
	case nrr > 120:
		return "Strong indicator of product-market fit and successful expansion motion."
	}
	// Seed 004 says nothing of 110–120%: between its healthy baseline and
	// its strong indicator.
	return "Above the healthy baseline; 120% and more marks a strong expansion motion."
}

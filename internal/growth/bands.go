package growth

import "fmt"

// Level is where a metric stands against its band.
type Level string

// The levels, as seed 004's tables colour them.
const (
	Good    Level = "good"
	Warning Level = "warning"
	Red     Level = "red"
)

// Band is one row of seed 004's benchmark tables: the text of each column
// as the seed writes it, and the limits that decide between them. Higher
// values are better unless Lower says otherwise.
type Band struct {
	Table, Question      string
	Good, Warning, RedAt string // the columns' text
	// GoodFrom and WarnFrom: a value at or above GoodFrom is good, at or
	// above WarnFrom a warning, below it red (mirrored when Lower).
	GoodFrom, WarnFrom float64
	Lower              bool
	// Above is the text for a value above the band's high column, where
	// the seed has one.
	Above string
}

// Judge places v in the band.
func (b Band) Judge(v float64) (Level, string) {
	good, warn := v >= b.GoodFrom, v >= b.WarnFrom
	if b.Lower {
		good, warn = v <= b.GoodFrom, v <= b.WarnFrom
	}
	switch {
	case good:
		return Good, b.Good
	case warn:
		return Warning, b.Warning
	}
	return Red, b.RedAt
}

// Seed 004's table names.
const (
	FunnelTable = "PLG Funnel Conversion Benchmarks"
	InfraTable  = "PLG Infrastructure Benchmarks"
	QuickTable  = "Quick Reference Thresholds"
)

// Funnel rows are read as their Low / Typical / High columns: below Low's
// top is red ("Below low"), up to Typical's bottom a warning, and from
// Typical on good. Percentages are in percent; times in hours.
var funnelBands = map[string]FunnelBand{
	"visitor_to_signup":     {Metric: "Visitor-to-Signup", Low: "1-2%", Typical: "3-5%", High: "7-10%", LowTop: 2, TypicalFrom: 3, HighFrom: 7},
	"signup_to_activation":  {Metric: "Signup-to-Activation", Low: "15-20%", Typical: "25-35%", High: "40-60%", LowTop: 20, TypicalFrom: 25, HighFrom: 40},
	"free_to_paid_freemium": {Metric: "Free-to-Paid (Freemium)", Low: "1-2%", Typical: "3-5%", High: "7-10%", LowTop: 2, TypicalFrom: 3, HighFrom: 7},
	"free_to_paid_trial":    {Metric: "Free-to-Paid (Free Trial)", Low: "8-12%", Typical: "15-17%", High: "20-25%", LowTop: 12, TypicalFrom: 15, HighFrom: 20},
	"pql_to_paid":           {Metric: "PQL-to-Paid", Low: "15-20%", Typical: "25-30%", High: "35-40%", LowTop: 20, TypicalFrom: 25, HighFrom: 35},
	"time_to_activation":    {Metric: "Time to Activation", Low: "> 7 days", Typical: "1-3 days", High: "< 1 hour", LowTop: 7 * 24, TypicalFrom: 3 * 24, HighFrom: 1, Lower: true},
}

// FunnelBand is a row of seed 004's "PLG Funnel Conversion Benchmarks".
type FunnelBand struct {
	Metric, Low, Typical, High    string
	LowTop, TypicalFrom, HighFrom float64
	Lower                         bool // lower is better (a time)
}

// The seed's interpretation of the funnel table.
const (
	BelowLow  = "Below low: Product has onboarding friction, unclear value proposition, or wrong-fit traffic. Diagnose which stage leaks first."
	AboveHigh = "Above high: Verify data accuracy. If real, the company has strong product-market fit and should invest in scaling volume."
)

// Judge places v in the funnel band.
func (f FunnelBand) Judge(v float64) (Level, string) {
	below, typical, high := v < f.LowTop, v >= f.TypicalFrom, v >= f.HighFrom
	if f.Lower {
		below, typical, high = v > f.LowTop, v <= f.TypicalFrom, v <= f.HighFrom
	}
	switch {
	case below:
		return Red, fmt.Sprintf("%s low band (%s). %s", f.Metric, f.Low, BelowLow)
	case high:
		return Good, fmt.Sprintf("%s high band (%s). %s", f.Metric, f.High, AboveHigh)
	case typical:
		return Good, fmt.Sprintf("%s typical band (%s)", f.Metric, f.Typical)
	}
	return Warning, fmt.Sprintf("%s between low (%s) and typical (%s)", f.Metric, f.Low, f.Typical)
}

// quickBands are seed 004's "Quick Reference Thresholds" that Beacon can
// measure, and its "PLG Infrastructure Benchmarks", by the metric each
// judges. Percentages in percent, times in hours.
var quickBands = map[string]Band{
	"activation_rate":       {Table: QuickTable, Question: "Is our activation rate healthy?", Good: "> 35%", Warning: "20-35%", RedAt: "< 20%", GoodFrom: 35, WarnFrom: 20},
	"free_to_paid_freemium": {Table: QuickTable, Question: "Is our free-to-paid conversion viable?", Good: "> 5% (freemium)", Warning: "3-5%", RedAt: "< 3%", GoodFrom: 5, WarnFrom: 3},
	"free_to_paid_trial":    {Table: QuickTable, Question: "Is our free-to-paid conversion viable?", Good: "> 15% (trial)", Warning: "10-15%", RedAt: "< 10%", GoodFrom: 15, WarnFrom: 10},
	"pql_to_customer":       {Table: QuickTable, Question: "Are PQLs converting?", Good: "> 25% PQL-to-opportunity", Warning: "15-25%", RedAt: "< 15%", GoodFrom: 25, WarnFrom: 15},
	"nrr":                   {Table: QuickTable, Question: "Is expansion working?", Good: "NRR > 110%", Warning: "100-110%", RedAt: "< 100%", GoodFrom: 110, WarnFrom: 100},
	"alert_to_outreach":     {Table: QuickTable, Question: "Is the sales handoff timely?", Good: "PQL to outreach < 1 hour", Warning: "1-24 hours", RedAt: "> 24 hours", GoodFrom: 1, WarnFrom: 24, Lower: true},
	"pql_precision":         {Table: InfraTable, Question: "PQL scoring model accuracy (precision)", Good: "> 70% of PQLs convert or advance", Warning: "50-70%", RedAt: "< 50% (scoring is noise)", GoodFrom: 70, WarnFrom: 50},
	"checkout_completion":   {Table: InfraTable, Question: "Self-serve checkout completion rate", Good: "> 60%", Warning: "40-60%", RedAt: "< 40% (checkout friction)", GoodFrom: 60, WarnFrom: 40},
	"identity_match_rate":   {Table: InfraTable, Question: "Identity resolution match rate", Good: "> 85% of product users matched to CRM", Warning: "70-85%", RedAt: "< 70% (data model gaps)", GoodFrom: 85, WarnFrom: 70},
	"crm_latency":           {Table: InfraTable, Question: "Data pipeline latency (product events to CRM)", Good: "< 1 hour", Warning: "1-24 hours", RedAt: "> 24 hours or manual", GoodFrom: 1, WarnFrom: 24, Lower: true},
}

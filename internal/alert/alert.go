// Package alert owns the wire format of Beacon's alerts: what scoring
// writes when an account moves into a routed tier, and what routing carries
// to webhooks, Slack and CRMs (docs/routing.md). It is neutral: scoring and
// routing both import it, and neither imports the other.
package alert

import (
	"cmp"
	"slices"
	"time"
)

// Payload is what destinations carry of an alert: the account, where it
// stands and why. Its JSON is the public shape of Beacon's alerts.
type Payload struct {
	Account      AccountRef     `json:"account"`
	Scorecard    string         `json:"scorecard"`
	Score        float64        `json:"score"`
	Tier         string         `json:"tier"`
	TierLabel    string         `json:"tier_label"`
	PreviousTier string         `json:"previous_tier"`
	Segment      string         `json:"segment"`
	Zone         string         `json:"zone"`
	Coexists     bool           `json:"coexists"`
	Actions      []ActionRef    `json:"actions"`
	Reasons      []Reason       `json:"reasons"`
	Signals      map[string]any `json:"signals"`
	RulesVersion string         `json:"rules_version"`
	At           time.Time      `json:"at"`
	// Quiet alerts are kept in Beacon but sent nowhere: the account had
	// not been active for a day when it moved (new rules, imported history).
	Quiet bool `json:"quiet,omitempty"`
	// Metric, on a band alert, is the metric that crossed into a worse
	// band; such an alert names no account.
	Metric *Metric `json:"metric,omitempty"`
}

// Metric is a PLG metric that crossed into warning or red at a check:
// its value over the window to the check, its band, and the part of a
// breakdown that moved most from the window before.
type Metric struct {
	Name          string    `json:"name"`
	Label         string    `json:"label"`
	Window        string    `json:"window"` // 30d (each day's close) or 7d (each week's)
	From          time.Time `json:"from"`
	To            time.Time `json:"to"`
	Value         float64   `json:"value"`
	Text          string    `json:"text"` // the value as the dashboard writes it
	Level         string    `json:"level"`
	PreviousLevel string    `json:"previous_level"`
	Band          string    `json:"band"`
	MovedMost     *Moved    `json:"moved_most,omitempty"`
}

// Moved is one part of a breakdown and how its value moved.
type Moved struct {
	By     string `json:"by"` // segment or channel
	Group  string `json:"group"`
	Before string `json:"before"`
	After  string `json:"after"`
}

// AccountRef is an account as alerts name it.
type AccountRef struct {
	ID        string   `json:"id"`
	Name      string   `json:"name,omitempty"`
	Domains   []string `json:"domains,omitempty"`
	Owner     string   `json:"owner,omitempty"`
	Employees int      `json:"employees,omitempty"`
	Industry  string   `json:"industry,omitempty"`
	CRMID     string   `json:"crm_id,omitempty"`
	Users     int      `json:"users"`
	// People are the account's users with an email address, at most
	// MaxPeople, for destinations that write per person (CRM contacts).
	People []Person `json:"people,omitempty"`
}

// MaxPeople bounds the users an alert lists.
const MaxPeople = 100

// Person is one of an account's users as alerts name them.
type Person struct {
	ID    string `json:"id"`
	Email string `json:"email"`
}

// ActionRef is an action as alerts name it.
type ActionRef struct {
	Name  string `json:"name"`
	Label string `json:"label"`
}

// Reason is a rule that held, with the signal values it read.
type Reason struct {
	Rule    string         `json:"rule"`
	Label   string         `json:"label"`
	Points  float64        `json:"points"`
	Signals map[string]any `json:"signals,omitempty"`
}

// TopReasons returns the n reasons worth most points (all of them if n is
// 0), most first; equal points keep their order.
func TopReasons(rs []Reason, n int) []Reason {
	rs = slices.Clone(rs)
	slices.SortStableFunc(rs, func(x, y Reason) int { return cmp.Compare(y.Points, x.Points) })
	if n > 0 && len(rs) > n {
		rs = rs[:n]
	}
	return rs
}

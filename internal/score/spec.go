package score

import (
	"github.com/beaconplg/beacon/internal/signal"
)

// Spec is the scoring section of beacon.yaml.
type Spec struct {
	// Plans maps a plan name to its limits (seats, projects, api_calls …);
	// quota signals divide by them.
	Plans map[string]map[string]float64 `yaml:"plans,omitempty" json:"plans,omitempty"`
	// DefaultPlan is the plan of an account whose traits name none.
	DefaultPlan string          `yaml:"default_plan,omitempty" json:"default_plan,omitempty"`
	ICP         ICP             `yaml:"icp,omitempty" json:"icp"`
	Signals     []signal.Spec   `yaml:"signals" json:"signals"`
	Scorecards  []ScorecardSpec `yaml:"scorecards" json:"scorecards"`
	// Routing, if set, acts on accounts entering a tier of one scorecard.
	Routing *RoutingSpec `yaml:"routing,omitempty" json:"routing,omitempty"`
	// Nudges are what the customer's product may show a user, in order.
	Nudges []NudgeSpec `yaml:"nudges,omitempty" json:"nudges,omitempty"`
	// Grade, if set, combines a fit and an engagement scorecard into a
	// grade card, A to E.
	Grade *GradeSpec `yaml:"grade,omitempty" json:"grade,omitempty"`
	// Model, if set, is a model `beacon train` wrote: every account
	// condition may read its probability as propensity.
	Model *ModelSpec `yaml:"model,omitempty" json:"model,omitempty"`

	// Source and File are the YAML the spec was read from, for messages
	// that name lines; Path is where the spec sits in it ("$.scoring").
	Source []byte `yaml:"-" json:"-"`
	File   string `yaml:"-" json:"-"`
	Path   string `yaml:"-" json:"-"`
}

// ICP is the ideal customer profile: firmographic fit.
type ICP struct {
	Employees  Range    `yaml:"employees,omitempty" json:"employees"`
	Industries []string `yaml:"industries,omitempty" json:"industries,omitempty"`
}

// Range is an inclusive range; a zero bound is open.
type Range struct {
	Min int `yaml:"min,omitempty" json:"min,omitempty"`
	Max int `yaml:"max,omitempty" json:"max,omitempty"`
}

// ScorecardSpec is one score: its rules and tiers.
type ScorecardSpec struct {
	Name  string `yaml:"name" json:"name"`
	Label string `yaml:"label,omitempty" json:"label,omitempty"`
	// Of is what the card scores: "account" or "user".
	Of string `yaml:"of" json:"of"`
	// When, if set, limits the card to subjects for which it holds.
	When string `yaml:"when,omitempty" json:"when,omitempty"`
	// Rank is the order of the card's queue: highest_first (the default),
	// or lowest_first for a score whose low end needs a person first (a
	// health score: churn risk first).
	Rank  string     `yaml:"rank,omitempty" json:"rank,omitempty"`
	Rules []RuleSpec `yaml:"rules" json:"rules"`
	Tiers []TierSpec `yaml:"tiers" json:"tiers"`
}

// Queue orders of a scorecard (ScorecardSpec.Rank).
const (
	HighestFirst = "highest_first"
	LowestFirst  = "lowest_first"
)

// LowestFirst reports whether the card's queue puts the lowest scores first.
func (cs ScorecardSpec) LowestFirst() bool { return cs.Rank == LowestFirst }

// RuleSpec awards points when its condition holds.
type RuleSpec struct {
	Name   string  `yaml:"name" json:"name"`
	Label  string  `yaml:"label" json:"label"`
	When   string  `yaml:"when" json:"when"`
	Points float64 `yaml:"points" json:"points"`
}

// TierSpec is a band of scores: from Min up to the next tier's Min.
type TierSpec struct {
	Name  string  `yaml:"name" json:"name"`
	Label string  `yaml:"label,omitempty" json:"label,omitempty"`
	Min   float64 `yaml:"min" json:"min"`
	Route string  `yaml:"route,omitempty" json:"route,omitempty"`
}

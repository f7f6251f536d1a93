package score

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/vm"

	"github.com/beaconplg/beacon/internal/signal"
)

// The zones of the handoff continuum (seed 004): who may act on an account.
const (
	ZoneSelfServe      = "self_serve"      // the product converts it; sales does not engage
	ZoneSalesAvailable = "sales_available" // sales may reach out on signals
	ZoneSalesRequired  = "sales_required"  // sales runs the deal
)

// Zones lists the zones in order along the continuum.
var Zones = []string{ZoneSelfServe, ZoneSalesAvailable, ZoneSalesRequired}

// RoutingSpec says what happens when an account enters a tier of one
// scorecard: its segment puts it in a zone, and each tier of each zone lists
// the actions to take.
type RoutingSpec struct {
	// Scorecard is the account scorecard whose tiers route (the PQL score).
	Scorecard string `yaml:"scorecard" json:"scorecard"`
	// Segments are tried in order; the first whose when holds (or that has
	// none) is the account's.
	Segments []SegmentSpec `yaml:"segments" json:"segments"`
	// Coexistence keeps accounts sales already works out of self-serve
	// (seed 004, edge case 1).
	Coexistence CoexistenceSpec     `yaml:"coexistence,omitempty" json:"coexistence"`
	Zones       map[string]ZoneSpec `yaml:"zones" json:"zones"`
	Actions     []ActionSpec        `yaml:"actions" json:"actions"`
}

// SegmentSpec is a kind of account, by firmographics or any condition.
type SegmentSpec struct {
	Name  string `yaml:"name" json:"name"`
	Label string `yaml:"label,omitempty" json:"label,omitempty"`
	When  string `yaml:"when,omitempty" json:"when,omitempty"`
	Zone  string `yaml:"zone" json:"zone"`
}

// CoexistenceSpec: an account for which When holds (an open opportunity, a
// named account) is moved from self-serve to Zone, and Actions are taken on
// top of that zone's (alert its owner with the usage data).
type CoexistenceSpec struct {
	When    string   `yaml:"when,omitempty" json:"when,omitempty"`
	Zone    string   `yaml:"zone,omitempty" json:"zone,omitempty"`
	Actions []string `yaml:"actions,omitempty" json:"actions,omitempty"`
}

// ZoneSpec maps each tier of the routing scorecard to its actions.
type ZoneSpec struct {
	Label string              `yaml:"label,omitempty" json:"label,omitempty"`
	Tiers map[string][]string `yaml:"tiers" json:"tiers"`
}

// ActionSpec is one thing to do: what sales and success read, and the
// destinations (beacon.yaml's destinations) that carry it. An action without
// destinations is kept as an alert in Beacon only.
type ActionSpec struct {
	Name  string   `yaml:"name" json:"name"`
	Label string   `yaml:"label" json:"label"`
	To    []string `yaml:"to,omitempty" json:"to,omitempty"`
}

// Routing is a compiled RoutingSpec.
type Routing struct {
	RoutingSpec
	Card     *Card
	segments []*vm.Program // nil: matches every account
	coexist  *vm.Program
	actions  map[string]ActionSpec
}

// Route is where an account stands on the continuum and what its tier asks.
type Route struct {
	Segment  string   `json:"segment"`
	Zone     string   `json:"zone"`
	Coexists bool     `json:"coexists,omitempty"` // sales already works it
	Actions  []string `json:"actions"`
}

func compileRouting(sp *RoutingSpec, r *Rules, env map[string]any, fail func(path, format string, args ...any)) *Routing {
	rt := &Routing{RoutingSpec: *sp, actions: map[string]ActionSpec{}}
	card, ok := r.Card(sp.Scorecard)
	switch {
	case !ok:
		fail("routing.scorecard", "unknown scorecard %q", sp.Scorecard)
	case card.Of != OfAccount:
		fail("routing.scorecard", "%q scores users: routing takes an account scorecard", sp.Scorecard)
	default:
		rt.Card = card
	}
	condition := func(path, src string) *vm.Program {
		if src == "" {
			return nil
		}
		prog, err := expr.Compile(src, expr.Env(env), expr.AsBool())
		if err != nil {
			fail(path, "%s", exprError(err))
		}
		return prog
	}
	zone := func(path, z string) {
		if !slices.Contains(Zones, z) {
			fail(path, "%q: want one of %s", z, strings.Join(Zones, ", "))
		}
	}
	for i, a := range sp.Actions {
		at := fmt.Sprintf("routing.actions[%d]", i)
		switch _, dup := rt.actions[a.Name]; {
		case !cardName.MatchString(a.Name):
			fail(at+".name", "%q: want lower-case letters, digits, - or _", a.Name)
		case dup:
			fail(at+".name", "action %q is defined twice", a.Name)
		}
		if strings.TrimSpace(a.Label) == "" {
			fail(at+".label", "an action needs the label sales will read")
		}
		rt.actions[a.Name] = a
	}
	if len(sp.Segments) == 0 {
		fail("routing.segments", "no segments: add at least one")
	}
	for i, s := range sp.Segments {
		at := fmt.Sprintf("routing.segments[%d]", i)
		if !cardName.MatchString(s.Name) {
			fail(at+".name", "%q: want lower-case letters, digits, - or _", s.Name)
		}
		zone(at+".zone", s.Zone)
		rt.segments = append(rt.segments, condition(at+".when", s.When))
	}
	rt.coexist = condition("routing.coexistence.when", sp.Coexistence.When)
	if sp.Coexistence.When != "" {
		if rt.Coexistence.Zone == "" {
			rt.Coexistence.Zone = ZoneSalesRequired
		}
		zone("routing.coexistence.zone", rt.Coexistence.Zone)
		if rt.Coexistence.Zone == ZoneSelfServe {
			fail("routing.coexistence.zone", "accounts sales already works are never self-serve")
		}
		rt.checkActions("routing.coexistence.actions", sp.Coexistence.Actions, fail)
	}
	for _, z := range sortedKeys(sp.Zones) {
		at := "routing.zones." + z
		zone(at, z)
		for _, tier := range sortedKeys(sp.Zones[z].Tiers) {
			if rt.Card != nil {
				if _, ok := rt.Card.Tier(tier); !ok {
					fail(at+".tiers."+tier, "%q is not a tier of scorecard %q", tier, rt.Card.Name)
				}
			}
			rt.checkActions(at+".tiers."+tier, sp.Zones[z].Tiers[tier], fail)
		}
	}
	return rt
}

func (rt *Routing) checkActions(at string, names []string, fail func(path, format string, args ...any)) {
	for i, n := range names {
		if _, ok := rt.actions[n]; !ok {
			fail(fmt.Sprintf("%s[%d]", at, i), "unknown action %q", n)
		}
	}
}

// Action returns an action by name.
func (rt *Routing) Action(name string) (ActionSpec, bool) {
	a, ok := rt.actions[name]
	return a, ok
}

// Destinations lists every destination an action names.
func (rs RoutingSpec) Destinations() []string {
	var out []string
	for _, a := range rs.Actions {
		for _, d := range a.To {
			if !slices.Contains(out, d) {
				out = append(out, d)
			}
		}
	}
	slices.Sort(out)
	return out
}

// decide routes an account in tier, given its variables.
func (rt *Routing) decide(sc *scope, tier string) (*Route, error) {
	r := &Route{Actions: []string{}}
	for i, prog := range rt.segments {
		ok := prog == nil
		if !ok {
			var err error
			if ok, err = sc.run(prog); err != nil {
				return nil, fmt.Errorf("routing: segment %s: %w", rt.Segments[i].Name, err)
			}
		}
		if ok {
			r.Segment, r.Zone = rt.Segments[i].Name, rt.Segments[i].Zone
			break
		}
	}
	if rt.coexist != nil {
		ok, err := sc.run(rt.coexist)
		if err != nil {
			return nil, fmt.Errorf("routing: coexistence: %w", err)
		}
		if ok {
			r.Coexists = true
			if r.Zone == ZoneSelfServe || r.Zone == "" {
				r.Zone = rt.Coexistence.Zone
			}
		}
	}
	if tier == "" || r.Zone == "" {
		return r, nil
	}
	r.Actions = append(r.Actions, rt.Zones[r.Zone].Tiers[tier]...)
	if r.Coexists {
		for _, a := range rt.Coexistence.Actions {
			if !slices.Contains(r.Actions, a) {
				r.Actions = append(r.Actions, a)
			}
		}
	}
	return r, nil
}

// ErrNoRouting is returned by RouteFor when the rules have no routing.
var ErrNoRouting = errors.New("the rules have no routing section")

// RouteFor routes an account as if it were in tier of the routing
// scorecard.
func (r *Rules) RouteFor(tier string, actors []*signal.Actor, now int32, f Facts) (*Route, error) {
	if r.Routing == nil {
		return nil, ErrNoRouting
	}
	sc := r.scope(actors, now, f, r.need[r.Routing.Card.Of])
	defer r.release(sc)
	return r.Routing.decide(sc, tier)
}

// RoutedTiers are the routing scorecard and its tiers, lowest first; empty
// without routing.
func (r *Rules) RoutedTiers() (scorecard string, tiers []string) {
	if r.Routing == nil {
		return "", nil
	}
	card, ok := r.Card(r.Routing.Scorecard)
	if !ok {
		return "", nil
	}
	return card.Name, card.TierNames()
}

// TierNames are the card's tiers, lowest first.
func (c *Card) TierNames() []string {
	out := make([]string, 0, len(c.Tiers))
	for _, t := range c.Tiers {
		out = append(out, t.Name)
	}
	return out
}

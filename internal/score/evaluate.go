package score

import (
	"fmt"
	"slices"
	"strings"

	"github.com/expr-lang/expr/vm"

	"github.com/beaconplg/beacon/internal/alert"
	"github.com/beaconplg/beacon/internal/signal"
	"github.com/beaconplg/beacon/internal/store"
)

// Facts is what identity knows of a subject besides its activity: its account
// (a user's main account), whether its email is a company's, how many users
// the account has.
type Facts struct {
	Account       store.Account
	BusinessEmail bool
	Members       int
}

// Reason is a rule that held, with the signal values it read (package
// alert's, as alerts carry it).
type Reason = alert.Reason

// TopReasons returns the n reasons worth most points (all of them if n is
// 0), most first; equal points keep their order.
func TopReasons(rs []Reason, n int) []Reason { return alert.TopReasons(rs, n) }

// Result is a subject's score on one scorecard.
type Result struct {
	Card    string
	Applies bool // false when the card's when does not hold
	Score   float64
	Tier    string
	Reasons []Reason
	Signals map[string]any // every signal the card's rules read
	Route   *Route         // on the routing scorecard only

	// A result evaluated in short holds, until filled, what its maps will:
	// per name of its card's reads, the value read, and per reason, its
	// rule. A pass finds nearly every result unchanged, and making maps
	// for each was most of scoring a subject.
	card *Card
	read []any
	held []*Rule
}

// short reports whether a result is in short, its maps not made.
func (res *Result) short() bool { return res.card != nil && res.Signals == nil }

// ruleOf returns the rule of the i-th reason of a result in short; nil for
// a result with its maps.
func (res *Result) ruleOf(i int) *Rule {
	if !res.short() {
		return nil
	}
	return res.held[i]
}

// fill makes the maps of a result evaluated in short.
func (res *Result) fill() {
	if !res.short() {
		return
	}
	res.Signals = make(map[string]any, len(res.read))
	for i, v := range res.read {
		res.Signals[res.card.reads[i]] = v
	}
	for i, rule := range res.held {
		if len(rule.Signals) > 0 {
			res.Reasons[i].Signals = make(map[string]any, len(rule.Signals))
			for j, name := range rule.Signals {
				res.Reasons[i].Signals[name] = res.read[rule.at[j]]
			}
		}
	}
	res.card, res.read, res.held = nil, nil, nil
}

// Evaluate scores a subject of kind (account or user) on every card of that
// kind. actors are the subject's users' rollups.
func (r *Rules) Evaluate(kind string, actors []*signal.Actor, now int32, f Facts) ([]Result, error) {
	out, err := r.evaluate(kind, actors, now, f)
	for i := range out {
		out[i].fill()
	}
	return out, err
}

// evaluate is Evaluate with results in short (see Result.fill).
func (r *Rules) evaluate(kind string, actors []*signal.Actor, now int32, f Facts) ([]Result, error) {
	sc := r.scope(actors, now, f, r.need[kind])
	defer r.release(sc)
	out := make([]Result, 0, len(r.Cards))
	for _, c := range r.Cards {
		if c.Of != kind {
			continue
		}
		var res Result
		var err error
		if c.grade != nil {
			res, err = c.grade.evaluate(out)
		} else {
			res, err = c.evaluate(sc)
		}
		if err != nil {
			return nil, err
		}
		if rt := r.Routing; rt != nil && rt.Card == c && res.Applies {
			if res.Route, err = rt.decide(sc, res.Tier); err != nil {
				return nil, err
			}
		}
		out = append(out, res)
	}
	return out, nil
}

// scope is what conditions run in: one subject's variables, and a machine
// to run them on. Both are kept for the next subject: a pass evaluates
// every subject, and a fresh map for each was a tenth of it, a fresh
// machine's stack for each condition another tenth.
type scope struct {
	env  map[string]any
	vm   vm.VM
	vals []signal.Value // room for the signals' values
}

// run evaluates a condition compiled with expr.AsBool; a runtime error (a
// division by zero, say) is reported, never panicked.
func (sc *scope) run(prog *vm.Program) (bool, error) {
	out, err := sc.vm.Run(prog, sc.env)
	if err != nil {
		return false, err
	}
	b, _ := out.(bool)
	return b, nil
}

// scope makes the variables of a subject, computing the signals need says
// (nil: all).
func (r *Rules) scope(actors []*signal.Actor, now int32, f Facts, need []bool) *scope {
	a := f.Account
	plan := r.Spec.DefaultPlan
	if p, ok := a.Traits["plan"].(string); ok && p != "" {
		plan = strings.ToLower(p)
	}
	employees, industry := Firmographics(a)
	size, ind := r.Spec.ICP.fits(employees, industry)
	traits := a.Traits
	if traits == nil {
		traits = map[string]any{}
	}
	sc, _ := r.scopes.Get().(*scope)
	if sc == nil {
		// Sized for the signals to come: grown a key at a time, it was
		// rehashed several times for every subject scored.
		sc = &scope{env: make(map[string]any, 14+len(r.Signals.Defs))}
	}
	env := sc.env
	env["employees"], env["industry"], env["plan"], env["account_kind"], env["owner"] = employees, industry, plan, a.Kind, a.Owner
	env["in_crm"], env["named"], env["open_opportunity"] = a.Kind == store.KindCRM || a.CRMID != "", a.Named, a.OpenOpportunity
	env["icp_size"], env["icp_industry"], env["icp"] = size, ind, r.Spec.ICP.matches(size, ind)
	env["business_email"], env["traits"] = f.BusinessEmail, traits
	limits := r.Spec.Plans[plan]
	sc.vals = r.Signals.Eval(signal.Input{Actors: actors, Now: now, Members: f.Members,
		Limit: func(name string) float64 { return limits[name] }, Need: need}, sc.vals)
	for i, d := range r.Signals.Defs {
		switch {
		case need != nil && !need[i]:
		case d.IsString():
			env[d.Name] = sc.vals[i].Str
		default:
			env[d.Name] = sc.vals[i].Num
		}
	}
	env[Propensity] = 0.0
	if r.model != nil && r.modelNeeded(need) {
		env[Propensity] = r.model.propensity(env)
	}
	return sc
}

// release hands back a scope no result refers to: results copy the values
// they keep.
func (r *Rules) release(sc *scope) {
	clear(sc.env)
	r.scopes.Put(sc)
}

// Firmographics is an account's size and industry, as rules read them
// (employees, industry): its columns, or else its traits.
func Firmographics(a store.Account) (employees int, industry string) {
	employees = a.Employees
	if n, ok := a.Traits["employees"].(float64); ok && employees == 0 {
		employees = int(n)
	}
	industry = a.Industry
	if s, ok := a.Traits["industry"].(string); ok && industry == "" {
		industry = s
	}
	return employees, industry
}

// FitsICP reports whether an account matches the rules' ideal customer
// profile, as the variable icp tells rules.
func (r *Rules) FitsICP(a store.Account) bool {
	return r.Spec.ICP.matches(r.Spec.ICP.fits(Firmographics(a)))
}

func (icp ICP) fits(employees int, industry string) (size, ind bool) {
	e := icp.Employees
	size = employees > 0 && (e.Min > 0 || e.Max > 0) && employees >= e.Min && (e.Max == 0 || employees <= e.Max)
	ind = industry != "" && slices.ContainsFunc(icp.Industries, func(s string) bool { return strings.EqualFold(s, industry) })
	return size, ind
}

// matches: a company fits the ICP when it fits every part the ICP defines.
func (icp ICP) matches(size, ind bool) bool {
	hasSize := icp.Employees.Min > 0 || icp.Employees.Max > 0
	hasInd := len(icp.Industries) > 0
	return (hasSize || hasInd) && (!hasSize || size) && (!hasInd || ind)
}

func (c *Card) evaluate(sc *scope) (Result, error) {
	res := Result{Card: c.Name, card: c}
	if c.when != nil {
		ok, err := sc.run(c.when)
		if err != nil {
			return Result{}, fmt.Errorf("scorecard %s: when: %w", c.Name, err)
		}
		if !ok {
			return res, nil
		}
	}
	res.Applies = true
	res.read = make([]any, len(c.reads))
	for i, name := range c.reads {
		res.read[i] = sc.env[name]
	}
	for _, rule := range c.Rules {
		ok, err := sc.run(rule.prog)
		if err != nil {
			return Result{}, fmt.Errorf("scorecard %s: rule %s: %w", c.Name, rule.Name, err)
		}
		if !ok {
			continue
		}
		res.Reasons = append(res.Reasons, Reason{Rule: rule.Name, Label: rule.Label, Points: rule.Points})
		res.held = append(res.held, rule)
		res.Score += rule.Points
	}
	res.Tier = c.TierFor(res.Score)
	return res, nil
}

// TierFor is the highest tier whose minimum the score reaches; "" below all.
func (c *Card) TierFor(score float64) string {
	t := ""
	for _, tier := range c.Tiers {
		if score >= tier.Min {
			t = tier.Name
		}
	}
	return t
}

// Tier returns a tier of the card by name.
func (c *Card) Tier(name string) (TierSpec, bool) {
	i := slices.IndexFunc(c.Tiers, func(t TierSpec) bool { return t.Name == name })
	if i < 0 {
		return TierSpec{}, false
	}
	return c.Tiers[i], true
}

package score

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/vm"

	"github.com/beaconplg/beacon/internal/signal"
)

// Subject kinds a scorecard may score.
const (
	OfAccount = "account"
	OfUser    = "user"
)

// Rules is a compiled Spec, ready to score.
type Rules struct {
	Spec    Spec
	Version string // content hash of the spec: scores record it
	Signals *signal.Set
	Cards   []*Card
	Routing *Routing // nil without a routing section
	model   *model   // nil without a model section
	nudges  []*nudge
	scopes  sync.Pool // of *scope, spent, for the next subject
	// need is, per kind of subject, the signals its scoring reads (see
	// needs); a kind not there computes every one.
	need map[string][]bool
	// reads is, per kind of subject, what those signals move with: an
	// event that reaches none of it leaves that kind's scores as they are.
	reads map[string]*signal.Reads
}

// Card is a compiled scorecard.
type Card struct {
	ScorecardSpec
	when  *vm.Program
	Rules []*Rule
	Tiers []TierSpec // lowest first
	reads []string   // the signals its rules read, all told, sorted
	grade *gradeOf   // the grade card's sides; nil for a card of rules
}

// Rule is a compiled rule; Signals are the signals its condition reads,
// sorted.
type Rule struct {
	RuleSpec
	prog    *vm.Program
	Signals []string
	at      []int // per signal, its place in the card's reads
}

// builtins are the variables every condition may read besides the signals;
// their zero values give expr the types to check conditions against.
var builtins = map[string]any{
	"employees":        0,
	"industry":         "",
	"plan":             "",
	"account_kind":     "",
	"owner":            "",
	"in_crm":           false,
	"named":            false,
	"open_opportunity": false,
	"icp":              false,
	"icp_size":         false,
	"icp_industry":     false,
	"business_email":   false,
	"traits":           map[string]any{},
	"propensity":       0.0,
}

var cardName = regexp.MustCompile(`^[a-z][a-z0-9_-]*$`)

// Compile checks a spec and compiles it. Every problem is reported, each with
// the file, line and column it comes from.
func Compile(sp Spec) (*Rules, error) {
	pos := newPositions(sp)
	var errs []error
	fail := func(path, format string, args ...any) {
		errs = append(errs, pos.errorf(path, format, args...))
	}
	reserved := map[string]bool{}
	for k := range builtins {
		reserved[k] = true
	}
	specs := sp.Signals
	if sp.Model != nil {
		for i, s := range sp.Signals {
			if strings.HasPrefix(s.Name, modelPrefix) {
				fail(fmt.Sprintf("signals[%d].name", i), "%q: names starting %s are the model's", s.Name, modelPrefix)
			}
		}
		specs = append(slices.Clone(sp.Signals), modelSignals(sp.Model, fail)...)
	}
	set, err := signal.Compile(specs, reserved)
	for _, e := range unjoin(err) {
		var se *signal.Error
		switch {
		case errors.As(e, &se) && se.Index >= len(sp.Signals):
			fail("model", "%v", se.Err)
		case errors.As(e, &se):
			fail(fmt.Sprintf("signals[%d].%s", se.Index, se.Field), "%v", se.Err)
		default:
			fail("signals", "%v", e)
		}
	}
	checkPlans(sp, fail)
	if len(sp.Scorecards) == 0 {
		fail("scorecards", "no scorecards: add at least one")
	}
	if set == nil {
		// Without the signals the conditions cannot be checked; the tiers can.
		for i, cs := range sp.Scorecards {
			checkTiers(fmt.Sprintf("scorecards[%d]", i), cs.Tiers, fail)
		}
		return nil, errors.Join(errs...)
	}
	env := envTemplate(set)
	r := &Rules{Spec: sp, Signals: set}
	seen := map[string]bool{}
	for i, cs := range sp.Scorecards {
		at := fmt.Sprintf("scorecards[%d]", i)
		if !cardName.MatchString(cs.Name) {
			fail(at+".name", "%q: want lower-case letters, digits, - or _", cs.Name)
		} else if seen[cs.Name] {
			fail(at+".name", "scorecard %q is defined twice", cs.Name)
		}
		seen[cs.Name] = true
		c := compileCard(at, cs, env, set, fail)
		if sp.Model != nil && cs.Of == OfAccount {
			c.keep(Propensity) // shown beside the score, as of the scoring
		}
		r.Cards = append(r.Cards, c)
	}
	if sp.Grade != nil {
		r.Cards = append(r.Cards, compileGrade(sp.Grade, r.Cards, fail))
	}
	if sp.Routing != nil {
		r.Routing = compileRouting(sp.Routing, r, env, fail)
	}
	if sp.Model != nil {
		r.model = compileModel(sp.Model, set)
	}
	r.nudges = compileNudges(sp.Nudges, env, set, fail)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	r.need = r.needs()
	r.reads = r.readsOf()
	r.Version = version(sp)
	return r, nil
}

// needs returns, per kind of subject, which signals the conditions that
// score it read: only those are computed for it. A user's card reads a few
// of the signals an account's do, and users are most subjects.
func (r *Rules) needs() map[string][]bool {
	progs := map[string][]*vm.Program{}
	for _, c := range r.Cards {
		progs[c.Of] = append(progs[c.Of], c.when)
		for _, rule := range c.Rules {
			progs[c.Of] = append(progs[c.Of], rule.prog)
		}
		if rt := r.Routing; rt != nil && rt.Card == c {
			progs[c.Of] = append(append(progs[c.Of], rt.segments...), rt.coexist)
		}
	}
	out := map[string][]bool{}
	for kind, ps := range progs {
		var names []string
		every := false
		for _, p := range ps {
			if p == nil {
				continue
			}
			// $env reads variables by name: every signal.
			every = every || len(readNames(p, func(name string) bool { return name == "$env" })) > 0
			names = append(names, readSignals(p, r.Signals)...)
		}
		if kind == OfAccount && r.model != nil {
			// propensity is an account's, and reads the model's signals.
			for _, s := range r.model.signals {
				if s != "" {
					names = append(names, s)
				}
			}
		}
		if !every {
			out[kind] = r.Signals.Needs(names)
		}
	}
	return out
}

// readsOf returns, per kind of subject, what its needed signals move with.
// A kind no card scores reads nothing: no event rescores it.
func (r *Rules) readsOf() map[string]*signal.Reads {
	out := map[string]*signal.Reads{}
	for _, kind := range []string{OfAccount, OfUser} {
		need := r.need[kind] // nil, as for a kind not there: every signal
		scored := slices.ContainsFunc(r.Cards, func(c *Card) bool { return c.Of == kind })
		if !scored {
			need = make([]bool, len(r.Signals.Defs))
		}
		out[kind] = r.Signals.ReadsOf(need)
		if kind == OfAccount && scored {
			// An account's activity (the queue's momentum and sparkline)
			// moves with each day one of its users is newly active.
			out[kind] = out[kind].WithDays()
		}
	}
	return out
}

func unjoin(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

func checkPlans(sp Spec, fail func(path, format string, args ...any)) {
	if sp.DefaultPlan != "" {
		if _, ok := sp.Plans[sp.DefaultPlan]; !ok {
			fail("default_plan", "%q is not one of the plans", sp.DefaultPlan)
		}
	}
	for _, name := range sortedKeys(sp.Plans) {
		for _, limit := range sortedKeys(sp.Plans[name]) {
			if sp.Plans[name][limit] < 0 {
				fail("plans."+name+"."+limit, "a limit cannot be negative")
			}
		}
	}
	for i, s := range sp.Signals {
		if s.Measure != signal.Quota || s.Limit == "" {
			continue
		}
		found := false
		for _, limits := range sp.Plans {
			_, ok := limits[s.Limit]
			found = found || ok
		}
		if !found {
			fail(fmt.Sprintf("signals[%d].limit", i), "no plan has a limit named %q", s.Limit)
		}
	}
	e := sp.ICP.Employees
	if e.Min < 0 || (e.Max > 0 && e.Max < e.Min) {
		fail("icp.employees", "min %d and max %d: want 0 ≤ min ≤ max", e.Min, e.Max)
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func envTemplate(set *signal.Set) map[string]any {
	env := make(map[string]any, len(builtins)+len(set.Defs))
	for k, v := range builtins {
		env[k] = v
	}
	for _, d := range set.Defs {
		if d.IsString() {
			env[d.Name] = ""
		} else {
			env[d.Name] = 0.0
		}
	}
	return env
}

func compileCard(at string, cs ScorecardSpec, env map[string]any, set *signal.Set, fail func(path, format string, args ...any)) *Card {
	c := &Card{ScorecardSpec: cs}
	if cs.Of != OfAccount && cs.Of != OfUser {
		fail(at+".of", "%q: want account or user", cs.Of)
	}
	if cs.Rank != "" && cs.Rank != HighestFirst && cs.Rank != LowestFirst {
		fail(at+".rank", "%q: want %s or %s", cs.Rank, HighestFirst, LowestFirst)
	}
	if cs.When != "" {
		prog, err := expr.Compile(cs.When, expr.Env(env), expr.AsBool())
		if err != nil {
			fail(at+".when", "%s", exprError(err))
		}
		c.when = prog
	}
	if len(cs.Rules) == 0 {
		fail(at+".rules", "no rules")
	}
	names := map[string]bool{}
	for j, rs := range cs.Rules {
		rat := fmt.Sprintf("%s.rules[%d]", at, j)
		switch {
		case rs.Name == "":
			fail(rat+".name", "a rule needs a name")
		case names[rs.Name]:
			fail(rat+".name", "rule %q is defined twice in this scorecard", rs.Name)
		}
		names[rs.Name] = true
		if strings.TrimSpace(rs.Label) == "" {
			fail(rat+".label", "a rule needs the label sales will read")
		}
		prog, err := expr.Compile(rs.When, expr.Env(env), expr.AsBool())
		if err != nil {
			fail(rat+".when", "%s", exprError(err))
			continue
		}
		c.Rules = append(c.Rules, &Rule{RuleSpec: rs, prog: prog, Signals: readSignals(prog, set)})
	}
	reads := map[string]bool{}
	for _, r := range c.Rules {
		slices.Sort(r.Signals)
		for _, s := range r.Signals {
			reads[s] = true
		}
	}
	c.reads = sortedKeys(reads)
	for _, r := range c.Rules {
		for _, s := range r.Signals {
			i, _ := slices.BinarySearch(c.reads, s)
			r.at = append(r.at, i)
		}
	}
	c.Tiers = checkTiers(at, cs.Tiers, fail)
	return c
}

// keep has a card's results carry a variable besides its rules' signals.
func (c *Card) keep(name string) {
	if i, found := slices.BinarySearch(c.reads, name); !found {
		c.reads = slices.Insert(c.reads, i, name)
		for _, r := range c.Rules {
			for j, at := range r.at {
				if at >= i {
					r.at[j] = at + 1
				}
			}
		}
	}
}

// exprError keeps expr's message on one line; its caret drawing assumes a
// terminal showing only the expression.
func exprError(err error) string {
	msg, _, _ := strings.Cut(err.Error(), "\n")
	return msg
}

func checkTiers(at string, tiers []TierSpec, fail func(path, format string, args ...any)) []TierSpec {
	if len(tiers) == 0 {
		fail(at+".tiers", "no tiers")
	}
	names := map[string]bool{}
	for k, t := range tiers {
		tat := fmt.Sprintf("%s.tiers[%d]", at, k)
		if !cardName.MatchString(t.Name) {
			fail(tat+".name", "%q: want lower-case letters, digits, - or _", t.Name)
		} else if names[t.Name] {
			fail(tat+".name", "tier %q is defined twice", t.Name)
		}
		names[t.Name] = true
		if k > 0 && t.Min <= tiers[k-1].Min {
			fail(tat+".min", "tiers go from lowest to highest: %q (min %g) must come before %q (min %g)",
				t.Name, t.Min, tiers[k-1].Name, tiers[k-1].Min)
		}
	}
	return tiers
}

// readSignals lists the signals a condition reads, for the reasons.
func readSignals(prog *vm.Program, set *signal.Set) []string {
	return readNames(prog, func(name string) bool { _, ok := set.Lookup(name); return ok })
}

// readNames lists the variables a condition reads that keep says to.
func readNames(prog *vm.Program, keep func(string) bool) []string {
	var names []string
	node := prog.Node()
	ast.Walk(&node, visitor(func(n ast.Node) {
		if id, ok := n.(*ast.IdentifierNode); ok && keep(id.Value) && !slices.Contains(names, id.Value) {
			names = append(names, id.Value)
		}
	}))
	return names
}

type visitor func(ast.Node)

func (v visitor) Visit(n *ast.Node) { v(*n) }

// version hashes what the spec means, not how it is written: comments and
// layout do not change it.
func version(sp Spec) string {
	b, _ := json.Marshal(sp) // a Spec holds only JSON-friendly values
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:6])
}

// Card returns a scorecard by name.
func (r *Rules) Card(name string) (*Card, bool) {
	for _, c := range r.Cards {
		if c.Name == name {
			return c, true
		}
	}
	return nil, false
}

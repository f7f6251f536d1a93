package score

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"
	"text/template"
	"time"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/vm"

	"github.com/beaconplg/beacon/internal/signal"
)

// NudgeSpec is something the customer's own product can show a user (seeds
// 001, 002: an upgrade prompt at a natural limit, a premium trial), when its
// condition holds for the user's account.
type NudgeSpec struct {
	Name string `yaml:"name" json:"name"`
	// Kind tells the product what to show: upgrade, trial, tip …
	Kind string `yaml:"kind" json:"kind"`
	// When reads the account's signals and traits, and tier and zone: its
	// tier on the routing scorecard and its zone.
	When string `yaml:"when" json:"when"`
	// Message is a Go text/template over the same variables, with pct
	// (0.9 → "90%"): "{{pct .seat_quota}} of your seats are in use".
	Message string `yaml:"message" json:"message"`
}

// Nudge is a nudge that holds for a user now, and the values that made it.
type Nudge struct {
	Name    string         `json:"name"`
	Kind    string         `json:"kind"`
	Message string         `json:"message"`
	Because map[string]any `json:"because"`
}

type nudge struct {
	NudgeSpec
	when    *vm.Program
	message *template.Template
	reads   []string
}

var nudgeFuncs = template.FuncMap{
	"pct": func(v any) string {
		f, _ := v.(float64)
		return fmt.Sprintf("%.0f%%", f*100)
	},
}

func compileNudges(sp []NudgeSpec, env map[string]any, set *signal.Set, fail func(path, format string, args ...any)) []*nudge {
	env = maps.Clone(env)
	env["tier"], env["zone"] = "", ""
	seen := map[string]bool{}
	var out []*nudge
	for i, ns := range sp {
		at := fmt.Sprintf("nudges[%d]", i)
		switch {
		case !cardName.MatchString(ns.Name):
			fail(at+".name", "%q: want lower-case letters, digits, - or _", ns.Name)
		case seen[ns.Name]:
			fail(at+".name", "nudge %q is defined twice", ns.Name)
		}
		seen[ns.Name] = true
		if strings.TrimSpace(ns.Kind) == "" {
			fail(at+".kind", "say what the product shows: upgrade, trial, tip …")
		}
		n := &nudge{NudgeSpec: ns}
		prog, err := expr.Compile(ns.When, expr.Env(env), expr.AsBool())
		if err != nil {
			fail(at+".when", "%s", exprError(err))
			continue
		}
		n.when = prog
		n.reads = readNames(prog, func(name string) bool {
			_, signal := set.Lookup(name)
			return signal || name == "tier" || name == "zone"
		})
		tmpl, err := template.New(ns.Name).Funcs(nudgeFuncs).Option("missingkey=error").Parse(ns.Message)
		if err == nil {
			// The zero values of every variable: a name that is not one
			// fails here, at load, not when a user asks.
			err = tmpl.Execute(&strings.Builder{}, env)
		}
		if err != nil || strings.TrimSpace(ns.Message) == "" {
			fail(at+".message", "%v", firstLine(err, "a nudge needs the message the product shows"))
			continue
		}
		n.message = tmpl
		out = append(out, n)
	}
	return out
}

func firstLine(err error, otherwise string) string {
	if err == nil {
		return otherwise
	}
	msg, _, _ := strings.Cut(err.Error(), "\n")
	return msg
}

// ErrBusy means the scores are being rebuilt (a start, new rules) and a
// question about them cannot be answered in time; retrying later will.
var ErrBusy = errors.New("scores are being rebuilt; retry shortly")

// Nudges returns what the product should show a user now: every nudge that
// holds for the user's account (or the user alone, if in none), in the
// order the rules list them.
func (s *Service) Nudges(ctx context.Context, userID string) ([]Nudge, error) {
	if err := s.lock(ctx); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	if s.dir == nil || len(s.rules.nudges) == 0 {
		return []Nudge{}, nil
	}
	today := signal.Day(s.clock())
	f := Facts{Members: 1}
	actors := []*signal.Actor{s.signals.Actor(userID)}
	if p := s.dir.users[userID]; p != nil {
		f.BusinessEmail = p.business
	}
	if c := s.dir.accounts[s.dir.primary(userID)]; c != nil && len(c.members) > 0 {
		f.Account, f.Members = c.info, len(c.members)
		actors = actors[:0]
		for _, u := range c.members {
			actors = append(actors, s.signals.Actor(u))
		}
	}
	return s.rules.nudgesFor(actors, today, f)
}

// lock takes the service's lock, waiting no longer than ctx allows.
func (s *Service) lock(ctx context.Context) error {
	for !s.mu.TryLock() {
		select {
		case <-ctx.Done():
			return ErrBusy
		case <-time.After(5 * time.Millisecond):
		}
	}
	return nil
}

func (r *Rules) nudgesFor(actors []*signal.Actor, today int32, f Facts) ([]Nudge, error) {
	sc := r.scope(actors, today, f, nil) // messages may show any signal
	defer r.release(sc)
	env := sc.env
	env["tier"], env["zone"] = "", ""
	if rt := r.Routing; rt != nil {
		res, err := rt.Card.evaluate(sc)
		if err != nil {
			return nil, err
		}
		route, err := rt.decide(sc, res.Tier)
		if err != nil {
			return nil, err
		}
		env["tier"], env["zone"] = res.Tier, route.Zone
	}
	out := []Nudge{}
	for _, n := range r.nudges {
		ok, err := sc.run(n.when)
		if err != nil {
			return nil, fmt.Errorf("nudge %s: %w", n.Name, err)
		}
		if !ok {
			continue
		}
		var msg strings.Builder
		if err := n.message.Execute(&msg, env); err != nil {
			return nil, fmt.Errorf("nudge %s: message: %w", n.Name, err)
		}
		because := map[string]any{}
		for _, name := range n.reads {
			because[name] = env[name]
		}
		out = append(out, Nudge{Name: n.Name, Kind: n.Kind, Message: msg.String(), Because: because})
	}
	return out, nil
}

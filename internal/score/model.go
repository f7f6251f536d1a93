// A model beside the rules: the logistic regression `beacon train` writes
// as a model: section, read back here as the variable propensity every
// account condition may use (`propensity >= 0.4`).

package score

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/beaconplg/beacon/internal/signal"
)

// ModelSpec is a trained model: its intercept and features.
type ModelSpec struct {
	Intercept float64        `yaml:"intercept" json:"intercept"`
	Features  []ModelFeature `yaml:"features" json:"features"`
}

// ModelFeature is one input: a track event's or a page's count over the
// last ModelWindow, or an activity or fact (Activities); as log(1 + x),
// less Mean, over Scale, times Weight.
type ModelFeature struct {
	Event    string  `yaml:"event,omitempty" json:"event,omitempty"`
	Page     string  `yaml:"page,omitempty" json:"page,omitempty"`
	Activity string  `yaml:"activity,omitempty" json:"activity,omitempty"`
	Weight   float64 `yaml:"weight" json:"weight"`
	Mean     float64 `yaml:"mean" json:"mean"`
	Scale    float64 `yaml:"scale" json:"scale"`
}

// Propensity is the variable a model's probability goes by.
const Propensity = "propensity"

// ModelWindow is the span a model's counts are read over, as discovery's.
const ModelWindow = "14d"

// Activities a model feature may read: the days and users active over
// ModelWindow, and two facts (1 or 0).
var Activities = []string{"active_days", "active_users", "icp", "in_crm"}

// Propensity is the model's probability for the values value gives each
// feature (raw: counts, days, 1 or 0).
func (m ModelSpec) Propensity(value func(i int, f ModelFeature) float64) float64 {
	z := m.Intercept
	for i, f := range m.Features {
		z += f.Weight * (ModelScale(value(i, f)) - f.Mean) / f.Scale
	}
	return 1 / (1 + math.Exp(-z))
}

// ModelScale is how a model reads a raw value: log(1 + x), keeping the
// sign; a feature's Mean and Scale are of these.
func ModelScale(v float64) float64 { return math.Copysign(math.Log1p(math.Abs(v)), v) }

// Name is how a feature reads in messages and reasons.
func (f ModelFeature) Name() string {
	switch {
	case f.Event != "":
		return f.Event
	case f.Page != "":
		return "viewed " + f.Page
	}
	return f.Activity
}

// model is a compiled model: its spec and, per feature, the signal that
// counts it (-1 for a fact).
type model struct {
	spec    ModelSpec
	signals []string
	at      int // the place of its first signal among the rules', or -1
}

// modelSignals checks a model section and returns the signals its
// features count, named model_<n> (a name no rules file may take), to
// compile with the rules' own.
func modelSignals(m *ModelSpec, fail func(path, format string, args ...any)) []signal.Spec {
	var out []signal.Spec
	for i, f := range m.Features {
		at := fmt.Sprintf("model.features[%d]", i)
		set := 0
		for _, s := range []string{f.Event, f.Page, f.Activity} {
			if s != "" {
				set++
			}
		}
		if set != 1 {
			fail(at, "a feature reads one of event, page or activity")
			continue
		}
		if f.Scale <= 0 || math.IsNaN(f.Weight) || math.IsNaN(f.Mean) {
			fail(at+".scale", "scale %g: want above 0 (beacon train writes it)", f.Scale)
		}
		sp := signal.Spec{Name: fmt.Sprintf("%s%d", modelPrefix, i), Window: ModelWindow, Label: "the model's " + f.Name() + " over " + ModelWindow}
		switch {
		case f.Event != "":
			sp.Measure, sp.Events = signal.Count, []string{f.Event}
		case f.Page != "":
			sp.Measure, sp.Pages = signal.Count, []string{f.Page}
		case f.Activity == "active_days":
			sp.Measure = signal.ActiveDays
		case f.Activity == "active_users":
			sp.Measure = signal.ActiveUsers
		case f.Activity == "icp" || f.Activity == "in_crm":
			continue // builtins
		default:
			fail(at+".activity", "%q: want one of %s", f.Activity, strings.Join(Activities, ", "))
			continue
		}
		out = append(out, sp)
	}
	return out
}

// modelPrefix names the signals a model's features count.
const modelPrefix = "model_"

// compileModel ties a checked model section to its signals in set.
func compileModel(m *ModelSpec, set *signal.Set) *model {
	c := &model{spec: *m, signals: make([]string, len(m.Features)), at: -1}
	for i, f := range m.Features {
		if f.Event == "" && f.Page == "" && f.Activity != "active_days" && f.Activity != "active_users" {
			continue
		}
		c.signals[i] = fmt.Sprintf("%s%d", modelPrefix, i)
		if c.at < 0 {
			c.at = slices.IndexFunc(set.Defs, func(d *signal.Def) bool { return d.Name == c.signals[i] })
		}
	}
	return c
}

// propensity is the model's probability for the subject env describes.
func (c *model) propensity(env map[string]any) float64 {
	return c.spec.Propensity(func(i int, f ModelFeature) float64 {
		var v any
		if c.signals[i] != "" {
			v = env[c.signals[i]]
		} else {
			v = env[f.Activity]
		}
		switch x := v.(type) {
		case float64:
			return x
		case bool:
			if x {
				return 1
			}
		}
		return 0
	})
}

// modelNeeded reports whether a subject scored with need has the model's
// signals computed: accounts do (Rules.needs), users not.
func (r *Rules) modelNeeded(need []bool) bool {
	return need == nil || r.model.at < 0 || need[r.model.at]
}

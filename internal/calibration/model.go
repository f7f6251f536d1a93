// A model beside the rules: a logistic regression of conversion on the
// rules' own signals, trained on past cut-offs and validated on later ones
// ("do not over-engineer with machine learning until you have 1,000+
// conversions to train on"). Nothing of it leaves the process.

package calibration

import (
	"cmp"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"

	"github.com/beaconplg/beacon/internal/score"
)

// ModelOptions shape a training.
type ModelOptions struct {
	// MinConversions is how many conversions a model needs before it is
	// trained: seed 004's 1,000.
	MinConversions int
	// Step is the days between cut-offs, Horizon the days each is followed.
	Step, Horizon int
	// Train is the share of the cut-offs, the earliest, trained on; the
	// later ones, whose outcomes the training never saw, validate.
	Train float64
}

// DefaultModelOptions are seed 004's gate, weekly cut-offs, a 30-day
// horizon, and the first 70 % of them to train on.
func DefaultModelOptions() ModelOptions {
	return ModelOptions{MinConversions: SeedModelConversions, Step: 7, Horizon: 30, Train: 0.7}
}

// Model is a trained model and how it did on the cut-offs it did not see.
type Model struct {
	Features  []Feature `json:"features"`
	Intercept float64   `json:"intercept"`
	// Conversions counts every payment known; TrainSamples and
	// ValidSamples are account-days, TrainPaid and ValidPaid those that
	// paid within the horizon.
	Conversions             int
	TrainSamples, TrainPaid int
	ValidSamples, ValidPaid int
	TrainUntil              string // the last cut-off trained on
	AUC                     float64
	Deciles                 []Decile // of the validation account-days, lowest predicted first
	Top                     []Propensity
}

// Feature is one input: a behaviour's count in the 14 days to a cut-off
// (a page's named "page:Name"), or one of the activity and fact features
// in brackets, as log(1+x) and standardised over the training samples;
// Weight is its coefficient.
type Feature struct {
	Signal      string  `json:"signal"`
	Weight      float64 `json:"weight"`
	Mean, Scale float64
}

// Decile compares what the model predicted with what happened, for a
// tenth of the validation account-days.
type Decile struct {
	N                   int
	Predicted, Observed float64
}

// Propensity is an account's predicted chance to pay within the horizon,
// with the features that raise or lower it most.
type Propensity struct {
	Account     string
	Probability float64
	Reasons     []Contribution
}

// Contribution is a feature's part in one prediction, on the log-odds
// scale.
type Contribution struct {
	Signal string
	Value  float64
	LogOdd float64
}

type scored struct {
	p    float64
	paid bool
}

// sampleRow is one open account on one cut-off.
type sampleRow struct {
	account string
	day     int32
	signals map[string]float64
	paid    bool
}

// ErrTooFewConversions is a model asked for below the gate: stay with rules.
var ErrTooFewConversions = fmt.Errorf("too few conversions for a model")

// TrainModel trains a model on discovery's candidates (each behaviour's
// count in the 14 days to a cut-off, the days and users active, the ICP
// fact) as of weekly cut-offs, the earliest share o.Train of
// them, and validates it on the rest. Below o.MinConversions it trains
// nothing and says so.
func (ev *Evidence) TrainModel(o ModelOptions) (*Model, error) {
	n := ev.conversions(Never)
	if n < o.MinConversions {
		return nil, fmt.Errorf("%w: %d, fewer than the %d seed 004 asks (\"do not over-engineer with machine learning until you have 1,000+ conversions\"): stay with the rules",
			ErrTooFewConversions, n, o.MinConversions)
	}
	last := ev.LastDay() - int32(o.Horizon)
	var days []int32
	for d, start := last, ev.FirstDay(); d >= start; d -= int32(o.Step) {
		days = append(days, d)
	}
	slices.Reverse(days)
	if len(days) < 4 {
		return nil, fmt.Errorf("model: %d weekly cut-offs with %d days after them: want 4 or more to train and validate", len(days), o.Horizon)
	}
	split := max(1, min(len(days)-1, int(math.Round(o.Train*float64(len(days))))))
	var train, valid []sampleRow
	for i, d := range days {
		rows := ev.rowsAt(d, o.Horizon)
		if i < split {
			train = append(train, rows...)
		} else {
			valid = append(valid, rows...)
		}
	}
	m := &Model{Conversions: n, TrainUntil: DateOf(days[split-1])}
	m.fit(train)
	m.validate(valid)
	m.Top = m.top(valid, days[len(days)-1], 10)
	return m, nil
}

// modelWindow is the days to a cut-off a model reads, as discovery does.
const modelWindow = SeedWindowMax

// rowsAt reads every account open at the end of day d: what it did in the
// window to it, and whether it paid within horizon days after.
func (ev *Evidence) rowsAt(d int32, horizon int) []sampleRow {
	var out []sampleRow
	var t Tally
	for _, a := range ev.Accounts {
		if a.First > d || a.Paid <= d {
			continue
		}
		a.tally(d-modelWindow+1, d, len(ev.Names), &t)
		row := sampleRow{account: a.ID, day: d, signals: map[string]float64{},
			paid: a.Paid != Never && a.Paid <= d+int32(horizon)}
		for k, n := range t.Events {
			if n > 0 {
				row.signals[ev.Names[k]] = float64(n)
			}
		}
		row.signals[featureActiveDays], row.signals[featureActiveUsers] = float64(t.ActiveDays), float64(t.ActiveUsers)
		// Not whether sales knows it: known as of today only, it would
		// read the outcome (sales records the customers that paid).
		row.signals[featureICP] = flag(a.Facts.ICP)
		out = append(out, row)
	}
	return out
}

// The features besides the behaviours.
const (
	featureActiveDays  = "(active days)"
	featureActiveUsers = "(active users)"
	featureICP         = "(fits the ICP)"
)

func flag(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// fit chooses the features (every numeric signal the training rows have),
// standardises them and fits the regression.
func (m *Model) fit(rows []sampleRow) {
	names := map[string]bool{}
	for _, r := range rows {
		for k := range r.signals {
			names[k] = true
		}
	}
	for _, k := range slices.Sorted(maps.Keys(names)) {
		m.Features = append(m.Features, Feature{Signal: k})
	}
	for j := range m.Features {
		var sum, sq float64
		for _, r := range rows {
			v := score.ModelScale(r.signals[m.Features[j].Signal])
			sum, sq = sum+v, sq+v*v
		}
		n := float64(max(len(rows), 1))
		mean := sum / n
		m.Features[j].Mean, m.Features[j].Scale = mean, math.Max(math.Sqrt(sq/n-mean*mean), 1e-9)
	}
	x, y := make([][]float64, len(rows)), make([]bool, len(rows))
	for i, r := range rows {
		x[i], y[i] = m.inputs(r.signals), r.paid
		m.TrainSamples++
		if r.paid {
			m.TrainPaid++
		}
	}
	beta := logistic(x, y, ridgeLambda)
	for j := range m.Features {
		m.Features[j].Weight = beta[j]
	}
	m.Intercept = beta[len(beta)-1]
}

func (m *Model) inputs(signals map[string]float64) []float64 {
	x := make([]float64, len(m.Features))
	for j, f := range m.Features {
		x[j] = (score.ModelScale(signals[f.Signal]) - f.Mean) / f.Scale
	}
	return x
}

// predictor is the model's probability for an account with these signals:
// the scoring's own arithmetic (score.ModelSpec), which reads the model
// back as propensity.
func (m *Model) predictor() func(signals map[string]float64) float64 {
	spec := m.Spec()
	return func(signals map[string]float64) float64 {
		return spec.Propensity(func(i int, _ score.ModelFeature) float64 { return signals[m.Features[i].Signal] })
	}
}

// Strongest is the n features of largest weight either way.
func (m *Model) Strongest(n int) []Feature {
	out := slices.Clone(m.Features)
	slices.SortStableFunc(out, func(x, y Feature) int { return cmp.Compare(math.Abs(y.Weight), math.Abs(x.Weight)) })
	return out[:min(n, len(out))]
}

// Spec is the model as beacon.yaml's model: section writes it, for the
// rules to read as propensity.
func (m *Model) Spec() score.ModelSpec {
	sp := score.ModelSpec{Intercept: m.Intercept}
	for _, f := range m.Features {
		mf := score.ModelFeature{Weight: f.Weight, Mean: f.Mean, Scale: f.Scale}
		switch name := f.Signal; {
		case name == featureActiveDays:
			mf.Activity = "active_days"
		case name == featureActiveUsers:
			mf.Activity = "active_users"
		case name == featureICP:
			mf.Activity = "icp"
		case strings.HasPrefix(name, pagePrefix):
			mf.Page = strings.TrimPrefix(name, pagePrefix)
		default:
			mf.Event = name
		}
		sp.Features = append(sp.Features, mf)
	}
	return sp
}

// validate scores the rows the training never saw: the area under the ROC
// curve, and predicted against observed by tenths.
func (m *Model) validate(rows []sampleRow) {
	predict := m.predictor()
	var s []scored
	for _, r := range rows {
		s = append(s, scored{predict(r.signals), r.paid})
		m.ValidSamples++
		if r.paid {
			m.ValidPaid++
		}
	}
	slices.SortFunc(s, func(a, b scored) int { return cmp.Compare(a.p, b.p) })
	m.AUC, m.Deciles = auc(s), deciles(s)
}

// auc is the chance that a paying account-day is predicted above one
// that did not pay (ties count half); sorted is by prediction.
func auc(sorted []scored) float64 {
	var pos, neg, rankSum float64
	for i := 0; i < len(sorted); {
		j := i
		for j < len(sorted) && sorted[j].p == sorted[i].p {
			j++
		}
		rank := float64(i+j+1) / 2 // the tied run's mean rank, from 1
		for _, x := range sorted[i:j] {
			if x.paid {
				pos++
				rankSum += rank
			} else {
				neg++
			}
		}
		i = j
	}
	if pos == 0 || neg == 0 {
		return math.NaN()
	}
	return (rankSum - pos*(pos+1)/2) / (pos * neg)
}

// deciles are the tenths of sorted, by prediction.
func deciles(sorted []scored) []Decile {
	var out []Decile
	for k := range 10 {
		part := sorted[k*len(sorted)/10 : (k+1)*len(sorted)/10]
		if len(part) == 0 {
			continue
		}
		d := Decile{N: len(part)}
		for _, x := range part {
			d.Predicted += x.p
			if x.paid {
				d.Observed++
			}
		}
		d.Predicted, d.Observed = d.Predicted/float64(d.N), d.Observed/float64(d.N)
		out = append(out, d)
	}
	return out
}

// top is the n accounts most likely to pay as of day, each with the three
// features that move its prediction most.
func (m *Model) top(rows []sampleRow, day int32, n int) []Propensity {
	predict := m.predictor()
	var out []Propensity
	for _, r := range rows {
		if r.day != day {
			continue
		}
		p := Propensity{Account: r.account, Probability: predict(r.signals)}
		for j, v := range m.inputs(r.signals) {
			p.Reasons = append(p.Reasons, Contribution{Signal: m.Features[j].Signal, Value: r.signals[m.Features[j].Signal], LogOdd: m.Features[j].Weight * v})
		}
		slices.SortFunc(p.Reasons, func(a, b Contribution) int { return cmp.Compare(math.Abs(b.LogOdd), math.Abs(a.LogOdd)) })
		p.Reasons = p.Reasons[:min(3, len(p.Reasons))]
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b Propensity) int {
		return cmp.Or(cmp.Compare(b.Probability, a.Probability), cmp.Compare(a.Account, b.Account))
	})
	return out[:min(n, len(out))]
}

// The calibration page's report: computed on request from a replay of the
// stream, at most once per Fresh, for every viewer at once.

package calibration

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/beaconplg/beacon/internal/score"
)

// Fresh is how long a report serves before it is computed again: each is
// a dozen scorings of every account as of past days.
const Fresh = 10 * time.Minute

// Report is what the calibration page shows: whether the rules in force
// fit this product, and what the conversions propose instead.
type Report struct {
	At          time.Time `json:"at"`
	LastDay     string    `json:"last_day"`     // the last day anyone was active
	Conversions int       `json:"conversions"`  // accounts that paid, ever
	Advice      string    `json:"model_advice"` // seed 004's word on a model at that count
	// Over is the rules in force backtested weekly, each cut-off followed
	// for the horizon; absent, with Why, when the evidence is too short.
	Over *Result `json:"over,omitempty"`
	// Discovery and Proposal learn from every conversion; Proposal is
	// the beacon.yaml to download. Absent, with Why, with no conversion.
	Discovery *Discovery `json:"discovery,omitempty"`
	Proposal  []byte     `json:"-"`
	// OutOfSample learns up to Until only and judges both rubrics there.
	OutOfSample *Comparison `json:"out_of_sample,omitempty"`
	// Activation is seed 004's activation milestone, from users' first
	// week, and the weekly cohorts' time to the configured one (or to it).
	Activation *Activation `json:"activation,omitempty"`
	// Model is a model beside the rules, from 1,000 conversions on (Advice
	// says so when there are fewer).
	Model *Model   `json:"model,omitempty"`
	Why   []string `json:"why,omitempty"` // what could not be computed, and why
}

// Comparison is the rules in force and a proposal learnt up to Until,
// both judged on the days after it.
type Comparison struct {
	Until      string   `json:"until"`
	Configured Snapshot `json:"configured"`
	Proposed   Snapshot `json:"proposed"`
}

// Cut-offs of the page's backtest: a week apart, as many as fit.
const (
	reportStep    = 7
	reportCutOffs = 12
)

// RulesSource gives the rules in force.
type RulesSource interface{ Rules() *score.Rules }

// ServiceDeps are what the report reads: a replay of the stream into a
// book, identity's accounts, billing's payments, the rules, and a scorer
// as of past instants.
type ServiceDeps struct {
	// Replay fills a book from the stream. A book kept live by the signal
	// stage cost the live path a fifth of its intake and doubled its
	// latency (docs/benchmarks.md); a report every ten minutes at most
	// replays instead.
	Replay     func(ctx context.Context, book *Book) error
	Store      Store
	Ledgers    Ledgers
	Rules      RulesSource
	Standings  StandingsAt
	Activation string // the metrics' activation milestone, if named
	Clock      func() time.Time
}

// Service computes the page's report.
type Service struct {
	d    ServiceDeps
	mu   sync.Mutex // one computation at a time; later viewers wait for it
	last *Report
}

// NewService returns a report service over d.
func NewService(d ServiceDeps) *Service {
	if d.Clock == nil {
		d.Clock = time.Now
	}
	return &Service{d: d}
}

// Report returns the last report if it is fresh, else computes one.
func (s *Service) Report(ctx context.Context) (*Report, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.d.Clock()
	if s.last != nil && now.Sub(s.last.At) < Fresh {
		return s.last, nil
	}
	rules := s.d.Rules.Rules()
	book := NewBook()
	if err := s.d.Replay(ctx, book); err != nil {
		return nil, fmt.Errorf("calibration: replaying the stream: %w", err)
	}
	ev, err := Gather(ctx, s.d.Store, s.d.Ledgers, book, rules.FitsICP)
	if err != nil {
		return nil, err
	}
	if s.d.Activation != "" {
		ev.SetActivation(s.d.Activation)
	}
	r, err := ev.report(ctx, s.d.Standings, rules)
	if err != nil {
		return nil, err
	}
	if r.Over != nil {
		r.Over.Diagnosis = append(r.Over.Diagnosis, ActivationNote(s.d.Activation, r.Over.Total)...)
	}
	switch m, err := ev.TrainModel(DefaultModelOptions()); {
	case err == nil:
		r.Model = m
	case !errors.Is(err, ErrTooFewConversions):
		r.Why = append(r.Why, err.Error())
	}
	if r.Activation, err = book.FindActivation(MilestoneOptions{Within: 7, Event: s.d.Activation}); err != nil {
		r.Activation, r.Why = nil, append(r.Why, err.Error())
	}
	r.At, s.last = now, r
	return r, nil
}

// report computes a report from ev with the rules in force: the rules
// backtested over the last weeks whose horizon has passed, discovery from
// every conversion, and the out-of-sample comparison at the last of them.
func (ev *Evidence) report(ctx context.Context, at StandingsAt, rules *score.Rules) (*Report, error) {
	o := DefaultOptions()
	last := ev.LastDay()
	n := ev.conversions(Never)
	r := &Report{LastDay: DateOf(last), Conversions: n, Advice: modelAdvice(n)}
	var err error
	end := last - int32(o.Horizon)
	// The cut-offs end at end, a week apart, as many as there are days.
	start := ev.FirstDay()
	weeks := min(reportCutOffs-1, int(end-start)/reportStep)
	first := end - int32(reportStep*weeks)
	if card, _ := rules.RoutedTiers(); card == "" {
		r.Why = append(r.Why, ErrNoRouting.Error()+": nothing to backtest")
	} else if end < start {
		r.Why = append(r.Why, fmt.Sprintf("fewer days of activity than the %d-day horizon: nothing to backtest yet", o.Horizon))
	} else {
		res, err := ev.Backtest(ctx, at, "in force", rules, Period{First: first, Last: end, Step: reportStep, Horizon: o.Horizon})
		if err != nil {
			return nil, err
		}
		r.Over = &res
	}
	d, prop, why := ev.propose(o, rules)
	r.Discovery = d // its table, even when nothing in it stands out
	if why != "" {
		r.Why = append(r.Why, why)
	} else if r.Proposal, err = prop.YAML(d); err != nil {
		return nil, err
	}
	if r.Over != nil {
		o.Until = end
		return r, ev.compare(ctx, at, rules, o, r)
	}
	return r, nil
}

// compare learns up to o.Until only and judges the rules in force and the
// proposal on the days after it, into r.
func (ev *Evidence) compare(ctx context.Context, at StandingsAt, rules *score.Rules, o Options, r *Report) error {
	_, prop, why := ev.propose(o, rules)
	if why != "" {
		r.Why = append(r.Why, "out of sample, learning up to "+DateOf(o.Until)+" only: "+why)
		return nil
	}
	proposed, err := score.Compile(prop.Spec)
	if err != nil {
		return fmt.Errorf("calibration: the proposal does not compile: %w", err)
	}
	c := &Comparison{Until: DateOf(o.Until)}
	if c.Configured, err = ev.Snapshot(ctx, at, rules, o.Until, o.Horizon); err != nil {
		return err
	}
	if c.Proposed, err = ev.Snapshot(ctx, at, proposed, o.Until, o.Horizon); err != nil {
		return err
	}
	r.OutOfSample = c
	return nil
}

// propose discovers with o and proposes a rubric, or says why it cannot.
func (ev *Evidence) propose(o Options, rules *score.Rules) (*Discovery, *Proposal, string) {
	d, err := ev.Discover(o)
	if err != nil {
		return nil, nil, err.Error()
	}
	p, err := ev.Propose(d, rules.Spec)
	if err != nil {
		return d, nil, err.Error()
	}
	return d, p, ""
}

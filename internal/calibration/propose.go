package calibration

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml"

	"github.com/beaconplg/beacon/internal/score"
	"github.com/beaconplg/beacon/internal/signal"
)

// Shares of the open accounts each proposed tier may reach down to, at
// the day discovery stops reading: the top tier at most 15 %, few enough
// for sales to call every one, the next 30 %, the lowest half. Scores
// come in steps, so a tier holds the most it can within its share.
var tierShares = [3]float64{0.50, 0.30, 0.15}

// Proposal is a rubric discovery proposes: the rules it picked, each
// worth points by its strength, and the tiers' minimums that put the
// shares above of the open accounts in each.
type Proposal struct {
	Card    string
	Rules   []ProposedRule
	Mins    [3]float64 // the lowest, middle and top tier's
	Reached [3]float64 // the share of open accounts at or above each
	Open    int        // accounts open at the day
	Spec    score.Spec // the whole scoring section, the card replaced
}

// ProposedRule is a picked finding as a rule.
type ProposedRule struct {
	Finding
	Name   string // the rule's and its signal's
	When   string
	Points float64
}

// points weighs a pick by its odds ratio given the other picks: 20 per
// unit of its natural log (a ratio of 2 is worth 14, of 5 worth 32),
// between 5 and 40, a scale like seed 004's rubric. A step up's joint odds
// ratio is already what it adds beyond its first form.
func points(f Finding) float64 {
	return math.Max(5, math.Min(40, math.Round(20*math.Log(math.Max(1, f.Joint)))))
}

// Propose turns the picks into the rules of current's routing scorecard
// (the one named "pql" without routing), keeping everything else of
// current, and sets the card's top three tiers so that they reach the
// shares of tierShares among the accounts open on o.Until.
func (ev *Evidence) Propose(d *Discovery, current score.Spec) (*Proposal, error) {
	if len(d.Picked) == 0 {
		return nil, fmt.Errorf("discover: no behaviour sets the %d conversions apart from the %d accounts compared: nothing to propose", d.Converters, d.NonConverters)
	}
	p := &Proposal{Card: "pql"}
	if current.Routing != nil {
		p.Card = current.Routing.Scorecard
	}
	at := slices.IndexFunc(current.Scorecards, func(c score.ScorecardSpec) bool { return c.Name == p.Card })
	if at < 0 {
		return nil, fmt.Errorf("discover: the rules have no scorecard %q to propose rules for", p.Card)
	}
	sp := clone(current)
	card := &sp.Scorecards[at]
	card.Rules = nil
	taken := map[string]bool{}
	for _, sig := range sp.Signals {
		taken[sig.Name] = true
	}
	for _, f := range d.Picked {
		r := ProposedRule{Finding: f, Points: points(f)}
		r.Name = unique(nameOf(f), taken)
		r.When = whenOf(f, r.Name)
		taken[r.Name+everSuffix] = true
		sp.Signals = append(sp.Signals, signalsOf(f, r.Name, d.Options.Window)...)
		p.Rules = append(p.Rules, r)
		card.Rules = append(card.Rules, score.RuleSpec{Name: r.Name, Label: f.Label, When: r.When, Points: r.Points})
	}
	p.setTiers(ev, d.Options, card)
	p.Spec = sp
	return p, nil
}

// clone copies the parts of a spec Propose changes.
func clone(sp score.Spec) score.Spec {
	sp.Signals = slices.Clone(sp.Signals)
	sp.Scorecards = slices.Clone(sp.Scorecards)
	for i := range sp.Scorecards {
		sp.Scorecards[i].Tiers = slices.Clone(sp.Scorecards[i].Tiers)
	}
	sp.Source, sp.File, sp.Path = nil, "", ""
	return sp
}

// nameOf is a finding's rule (and signal) name, before it is made unique.
func nameOf(f Finding) string {
	switch f.Kind {
	case KindICP:
		return "fits_icp"
	case KindInCRM:
		return "in_crm"
	case KindIndustry:
		return "found_industry_" + slug(f.Value)
	case KindEmployees:
		return fmt.Sprintf("found_employees_%d", f.Min)
	case KindActiveDays, KindActiveUsers:
		return fmt.Sprintf("found_%s_%d", f.Kind, f.Min)
	case KindFirst:
		return fmt.Sprintf("found_%s_first", slug(f.Behaviour))
	}
	return fmt.Sprintf("found_%s_%s_%d", slug(f.Behaviour), f.Kind, f.Min)
}

// whenOf is the condition of a finding's rule, whose signal is name.
func whenOf(f Finding, name string) string {
	switch f.Kind {
	case KindICP:
		return "icp"
	case KindInCRM:
		return "in_crm"
	case KindIndustry:
		return "industry == " + strconv.Quote(f.Value)
	case KindEmployees:
		return fmt.Sprintf("employees >= %d", f.Min)
	case KindFirst:
		// Done in the window, and as often as ever: never before it.
		return fmt.Sprintf("%s >= 1 && %s%s == %s", name, name, everSuffix, name)
	}
	return fmt.Sprintf("%s >= %d", name, f.Min)
}

// unique is name, or name with the first free number after it when taken
// already: behaviours whose names differ only in case or punctuation
// ("Signed Up", "signed_up") make the same slug.
func unique(name string, taken map[string]bool) string {
	out := name
	for i := 2; taken[out]; i++ {
		out = fmt.Sprintf("%s_%d", name, i)
	}
	taken[out] = true
	return out
}

// everSuffix names the signal a first time's rule compares its window
// with: the same count, ever.
const everSuffix = "_ever"

// signalsOf is the signals a finding's rule reads: its measure over the
// window discovery read (and, for a first time, the same count ever);
// facts need none.
func signalsOf(f Finding, name string, window int) []signal.Spec {
	s, ok := signalOf(f, name, window)
	switch {
	case !ok:
		return nil
	case f.Kind == KindFirst:
		ever := s
		ever.Name, ever.Window, ever.Label = name+everSuffix, "all", f.subject()+", ever"
		return []signal.Spec{s, ever}
	}
	return []signal.Spec{s}
}

// signalOf is the signal measuring a finding over the window discovery
// read.
func signalOf(f Finding, name string, window int) (signal.Spec, bool) {
	s := signal.Spec{Name: name, Window: fmt.Sprintf("%dd", window), Label: f.Label}
	var filter []string
	page, isPage := strings.CutPrefix(f.Behaviour, pagePrefix)
	if isPage {
		filter = []string{page}
	} else if f.Behaviour != "" {
		filter = []string{f.Behaviour}
	}
	switch f.Kind {
	case KindCount, KindFirst:
		s.Measure = signal.Count
	case KindDays, KindActiveDays:
		s.Measure = signal.ActiveDays
	case KindActiveUsers, KindUsers:
		s.Measure = signal.ActiveUsers
	default:
		return s, false
	}
	if isPage {
		s.Pages = filter
	} else {
		s.Events = filter
	}
	return s, true
}

func slug(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		case b.Len() > 0 && !strings.HasSuffix(b.String(), "_"):
			b.WriteByte('_')
		}
	}
	return strings.TrimSuffix(b.String(), "_")
}

// setTiers scores every account open on o.Until (active by then, not
// paying) by the proposed rules over the book, and sets the minimums of
// the card's top three tiers at the lowest score that keeps each within
// its share; lower tiers start at 0.
func (p *Proposal) setTiers(ev *Evidence, o Options, card *score.ScorecardSpec) {
	until := o.Until
	if until == Never {
		until = ev.LastDay()
	}
	var scores []float64
	var t Tally
	for _, a := range ev.Accounts {
		if a.First > until || a.Paid <= until {
			continue
		}
		a.tally(until-int32(o.Window)+1, until, len(ev.Names), &t)
		s := 0.0
		for _, r := range p.Rules {
			if r.holds(a, &t) {
				s += r.Points
			}
		}
		scores = append(scores, s)
	}
	p.Open = len(scores)
	slices.SortFunc(scores, func(x, y float64) int { return cmp.Compare(y, x) })
	p.Mins = tierMins(scores)
	for i, m := range p.Mins {
		p.Reached[i] = reach(scores, m)
	}
	slices.SortFunc(card.Tiers, func(x, y score.TierSpec) int { return cmp.Compare(x.Min, y.Min) })
	n := len(card.Tiers)
	for i := range card.Tiers {
		switch top := n - 1 - i; {
		case top < 3:
			card.Tiers[i].Min = p.Mins[2-top]
		default:
			card.Tiers[i].Min = 0
		}
	}
}

// tierMins sets the three tiers' minimums over the open accounts'
// scores (highest first), from the top: each at the lowest score level
// whose accounts, with those above, stay within its share; when even the
// next level holds more, the tier takes that level alone, beyond its
// share, rather than stand empty. Levels run out on a rubric of few
// rules: the tiers below take minimums under the last, so that they
// stay in order and hold nobody more.
func tierMins(scores []float64) [3]float64 {
	var levels []float64 // distinct positive scores, highest first, with how many reach each
	var reached []int
	for i, s := range scores {
		if s <= 0 {
			break
		}
		if i+1 < len(scores) && scores[i+1] == s {
			continue
		}
		levels, reached = append(levels, s), append(reached, i+1)
	}
	var mins [3]float64
	next := 0 // the highest level not yet taken
	for t := 2; t >= 0; t-- {
		if next >= len(levels) {
			below := 1.0
			if t < 2 {
				below = mins[t+1]
			}
			mins[t] = below / 2
			continue
		}
		at := next
		for at+1 < len(levels) && float64(reached[at+1]) <= tierShares[t]*float64(len(scores)) {
			at++
		}
		mins[t], next = levels[at], at+1
	}
	return mins
}

func reach(scores []float64, min float64) float64 {
	n := 0
	for _, s := range scores {
		if s >= min {
			n++
		}
	}
	if len(scores) == 0 {
		return 0
	}
	return float64(n) / float64(len(scores))
}

// FirstDay is the earliest day anyone did anything (Never if nobody did).
func (ev *Evidence) FirstDay() int32 {
	first := int32(Never)
	for _, a := range ev.Accounts {
		first = min(first, a.First)
	}
	return first
}

// LastDay is the latest day anyone did anything.
func (ev *Evidence) LastDay() int32 {
	last := int32(math.MinInt32)
	for _, a := range ev.Accounts {
		for _, t := range a.trail {
			if n := len(t.cells); n > 0 {
				last = max(last, t.cells[n-1].day)
			}
		}
	}
	return last
}

// YAML writes the proposal as a beacon.yaml scoring section, each
// proposed rule with the evidence for it in a comment.
func (p *Proposal) YAML(d *Discovery) ([]byte, error) {
	at := slices.IndexFunc(p.Spec.Scorecards, func(c score.ScorecardSpec) bool { return c.Name == p.Card })
	head := []string{
		fmt.Sprintf(" Proposed by beacon discover from the last %d conversions and %d accounts compared,", d.Converters, d.NonConverters),
		fmt.Sprintf(" each in the %d days before its payment (seed 004: the last 50 conversions, 7-14 days).", d.Options.Window),
		" Points are 20 × ln(odds ratio given the other rules); tiers put the top",
		fmt.Sprintf(" %.0f %% / %.0f %% / %.0f %% of the %d open accounts in each. Backtest before use.", 100*p.Reached[2], 100*p.Reached[1], 100*p.Reached[0], p.Open),
	}
	if d.Warning != "" {
		head = append(head, " Warning: "+d.Warning+".")
	}
	cm := yaml.CommentMap{"$.scoring": {yaml.HeadComment(head...)}}
	for i, r := range p.Rules {
		cm[fmt.Sprintf("$.scoring.scorecards[%d].rules[%d]", at, i)] = []*yaml.Comment{yaml.HeadComment(
			fmt.Sprintf(" %d of %d conversions (%.0f %%) against %d of %d others (%.0f %%); odds ratio %.1f, 95 %% CI %.1f to %.1f; %.1f given the other rules",
				r.With, r.Converters, 100*r.Share, r.NonWith, r.NonConverters, 100*r.NonShare, r.Adjusted, r.AdjustedCI[0], r.AdjustedCI[1], r.Joint))}
	}
	return yaml.MarshalWithOptions(struct {
		Scoring score.Spec `yaml:"scoring"`
	}{p.Spec}, yaml.WithComment(cm), yaml.IndentSequence(true))
}

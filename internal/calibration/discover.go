package calibration

import (
	"cmp"
	"fmt"
	"hash/fnv"
	"maps"
	"slices"
	"strings"
)

// Seed 004's recipe for a PQL definition ("Building the PQL criteria").
const (
	// SeedConversions: "Pull the last 50 conversions from product analytics".
	SeedConversions = 50
	// SeedPresence: "Identify actions that appear in 70%+ of conversions".
	SeedPresence = 0.70
	// SeedWindowMin and SeedWindowMax: "in the 7-14 days before payment".
	SeedWindowMin, SeedWindowMax = 7, 14
	// SeedModelConversions: "Do not over-engineer with machine learning
	// until you have 1,000+ conversions to train on."
	SeedModelConversions = 1000
)

// Options shape a discovery.
type Options struct {
	// Conversions is how many of the latest conversions to learn from.
	Conversions int
	// Window is how many days before a payment are read, 7 to 14; the
	// day of the payment is not, as what happens on it is the conversion
	// itself (pricing page, checkout).
	Window int
	// Matched is how many non-converters are drawn per conversion.
	Matched int
	// Horizon is how many days a non-converter must stay unconverted
	// after the day it is compared on.
	Horizon int
	// Until is the last day discovery reads: payments and activity after
	// it are unknown to it, so that its proposal can be judged on them.
	Until int32
	// MaxRules bounds the rules proposed.
	MaxRules int
}

// DefaultOptions are seed 004's: the last 50 conversions, the 14 days
// before payment.
func DefaultOptions() Options {
	return Options{Conversions: SeedConversions, Window: SeedWindowMax, Matched: 10, Horizon: 30, Until: Never, MaxRules: 6}
}

// Validate names every option out of range.
func (o Options) Validate() error {
	var errs []string
	if o.Conversions < 1 {
		errs = append(errs, fmt.Sprintf("conversions %d: want at least 1", o.Conversions))
	}
	if o.Window < SeedWindowMin || o.Window > SeedWindowMax {
		errs = append(errs, fmt.Sprintf("window %dd: want %d to %d days, as seed 004 says", o.Window, SeedWindowMin, SeedWindowMax))
	}
	if o.Matched < 1 || o.Matched > 20 {
		errs = append(errs, fmt.Sprintf("matched %d: want 1 to 20 non-converters per conversion", o.Matched))
	}
	if o.Horizon < 1 || o.Horizon > 365 {
		errs = append(errs, fmt.Sprintf("horizon %dd: want 1 to 365 days", o.Horizon))
	}
	if o.MaxRules < 1 || o.MaxRules > 20 {
		errs = append(errs, fmt.Sprintf("max rules %d: want 1 to 20", o.MaxRules))
	}
	if len(errs) > 0 {
		return fmt.Errorf("discover: %s", strings.Join(errs, "; "))
	}
	return nil
}

// Kinds of candidate.
const (
	KindCount       = "count"        // a behaviour's events in the window
	KindDays        = "days"         // the days it happened on
	KindUsers       = "users"        // the members who did it
	KindFirst       = "first"        // done for the first time
	KindActiveDays  = "active_days"  // the days anyone was active
	KindActiveUsers = "active_users" // the users who were
	KindICP         = "icp"          // the account fits the ideal customer profile
	KindIndustry    = "industry"     // the company's industry is Value
	KindEmployees   = "employees"    // the company has at least Min employees
	KindInCRM       = "in_crm"       // sales knows the account
)

// Candidate is one thing an account may show in a window, as a rule could
// test it: a behaviour at least Min times, on at least Min days, or a fact.
type Candidate struct {
	Kind      string
	Behaviour string // the event, or "page:Name"; "" for activity and facts
	Min       int
	Value     string // the industry, for KindIndustry
	key       int
}

// fact reports whether the candidate is a fact of the account, not of
// what it did: it has no stronger form to step up to.
func (c Candidate) fact() bool {
	switch c.Kind {
	case KindICP, KindInCRM, KindIndustry, KindEmployees:
		return true
	}
	return false
}

// activity reports whether the candidate is a level of activity, which
// discovery compares within: it cannot be judged against itself.
func (c Candidate) activity() bool { return c.Kind == KindActiveDays || c.Kind == KindActiveUsers }

// subject is the behaviour in words: the event, or "viewed" a page.
func (c Candidate) subject() string {
	if p, ok := strings.CutPrefix(c.Behaviour, pagePrefix); ok {
		return "viewed " + p
	}
	return c.Behaviour
}

// Label says the candidate in words.
func (c Candidate) Label(window int) string {
	what := c.subject()
	switch c.Kind {
	case KindCount:
		if c.Min == 1 {
			return fmt.Sprintf("%s in the last %d days", what, window)
		}
		return fmt.Sprintf("%s %d+ times in the last %d days", what, c.Min, window)
	case KindDays:
		return fmt.Sprintf("%s on %d+ days of the last %d", what, c.Min, window)
	case KindUsers:
		return fmt.Sprintf("%s by %d+ users in the last %d days", what, c.Min, window)
	case KindFirst:
		return fmt.Sprintf("%s for the first time in the last %d days", what, window)
	case KindActiveDays:
		return fmt.Sprintf("active on %d+ days of the last %d", c.Min, window)
	case KindActiveUsers:
		return fmt.Sprintf("%d+ users active in the last %d days", c.Min, window)
	case KindICP:
		return "company matches the ideal customer profile"
	case KindIndustry:
		return "industry is " + c.Value
	case KindEmployees:
		return fmt.Sprintf("%d+ employees", c.Min)
	}
	return "account is in the CRM (today: not proposed)"
}

func (c Candidate) holds(a *Account, t *Tally) bool {
	switch c.Kind {
	case KindCount:
		return t.Events[c.key] >= c.Min
	case KindDays:
		return t.Days[c.key] >= c.Min
	case KindUsers:
		return t.Users[c.key] >= c.Min
	case KindFirst:
		return t.Events[c.key] > 0 && !t.Before[c.key]
	case KindActiveDays:
		return t.ActiveDays >= c.Min
	case KindActiveUsers:
		return t.ActiveUsers >= c.Min
	case KindICP:
		return a.Facts.ICP
	case KindIndustry:
		return a.Facts.Industry == c.Value
	case KindEmployees:
		return a.Facts.Employees >= c.Min
	}
	return a.Facts.InCRM
}

// Thresholds tried for each kind.
var (
	countMins  = []int{1, 2, 3, 5, 10}
	daysMins   = []int{2, 3, 5}
	activeMins = []int{2, 3, 5, 7, 10}
	usersMins  = []int{2, 3, 5}
	// employeesMins are company sizes: past a small team, a mid-sized
	// company, a large one, an enterprise.
	employeesMins = []int{10, 50, 200, 1000}
)

// Finding is a candidate's evidence: how many converters and matched
// non-converters showed it, with 95 % intervals, its ratio of shares, and
// its odds ratio among accounts equally active.
type Finding struct {
	Candidate
	Label                  string
	With, Converters       int
	NonWith, NonConverters int
	Share, NonShare        float64
	ShareCI, NonShareCI    [2]float64
	Lift                   float64
	LiftCI                 [2]float64
	// Adjusted is the Mantel–Haenszel odds ratio over levels of activity
	// (user-days in the window: 0, 1, 2, 3–4, 5–7, 8–11, 12–17, 18–27,
	// 28+): a behaviour every active account shows comes out near 1,
	// however popular.
	// Activity candidates carry their plain odds ratio.
	Adjusted   float64
	AdjustedCI [2]float64
	// SeedPresent: shown by 70 %+ of the conversions, seed 004's test.
	SeedPresent bool
	Picked      bool
	// StepOf names the pick this one steps up from ("" for a first pick).
	StepOf string
	// Joint is a pick's odds ratio given the other picks (Discovery.weigh):
	// what its rule's points are made of.
	Joint float64
}

// Discovery is what a discovery found.
type Discovery struct {
	Options       Options
	Converters    int
	NonConverters int
	// Conversions counts every payment up to Options.Until, and Model says
	// what seed 004 says of a model on that many: rules until 1,000.
	Conversions int
	Model       string
	// Warning says when the evidence is too thin to trust.
	Warning  string
	Findings []Finding // strongest evidence first
	Picked   []Finding // the rules proposed, strongest first
}

// sample is one account compared on one day.
type sample struct {
	a         *Account
	converter bool
	tally     Tally
}

// Discover compares the last conversions up to o.Until with matched
// non-converters, candidate by candidate, and picks the rules to propose.
func (ev *Evidence) Discover(o Options) (*Discovery, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	samples := ev.samples(o)
	d := &Discovery{Options: o}
	for _, s := range samples {
		if s.converter {
			d.Converters++
		} else {
			d.NonConverters++
		}
	}
	switch {
	case d.Converters == 0:
		return nil, fmt.Errorf("discover: no conversion up to the day asked about: nothing to learn from (billing events give the payments)")
	case d.Converters < SeedConversions:
		d.Warning = fmt.Sprintf("only %d conversions, fewer than the %d seed 004 asks for: the intervals are wide, trust only the strongest findings", d.Converters, SeedConversions)
	}
	d.Conversions = ev.conversions(o.Until)
	d.Model = modelAdvice(d.Conversions)
	for _, c := range ev.candidates(samples) {
		f := judge(c, samples)
		f.Label = c.Label(o.Window)
		d.Findings = append(d.Findings, f)
	}
	slices.SortStableFunc(d.Findings, func(x, y Finding) int {
		return cmp.Or(cmp.Compare(y.AdjustedCI[0], x.AdjustedCI[0]), cmp.Compare(y.Share, x.Share))
	})
	d.pick()
	d.weigh(samples)
	return d, nil
}

// weigh sets each pick's Joint: its odds ratio given the other picks, from
// one logistic regression over the samples, so that rules that say the
// same thing (a behaviour and the activity that comes with it, a step up
// and its first form) are not counted twice.
func (d *Discovery) weigh(samples []sample) {
	if len(d.Picked) == 0 {
		return
	}
	x, y := make([][]bool, len(samples)), make([]bool, len(samples))
	for i := range samples {
		s := &samples[i]
		x[i], y[i] = make([]bool, len(d.Picked)), s.converter
		for j := range d.Picked {
			x[i][j] = d.Picked[j].holds(s.a, &s.tally)
		}
	}
	for j, or := range jointOdds(x, y) {
		d.Picked[j].Joint = or
	}
}

// samples draws the last o.Conversions conversions and, for each, o.Matched
// accounts active before its payment and unconverted for o.Horizon days
// after it (as far as o.Until tells), chosen by a hash of their id, the
// conversion's and the day, so that the same evidence always gives the
// same sample, and conversions of one day each their own: on a large
// product the last fifty conversions fall on a day or two, and one draw
// per day compared them all with the same ten accounts.
func (ev *Evidence) samples(o Options) []sample {
	var conv []*Account
	for _, a := range ev.Accounts {
		if a.Paid != Never && a.Paid <= o.Until && a.First < a.Paid {
			conv = append(conv, a)
		}
	}
	slices.SortStableFunc(conv, func(x, y *Account) int { return cmp.Compare(y.Paid, x.Paid) })
	conv = conv[:min(len(conv), o.Conversions)]
	n := len(ev.Names)
	var out []sample
	for _, c := range conv {
		from, to := c.Paid-int32(o.Window), c.Paid-1
		s := sample{a: c, converter: true}
		c.tally(from, to, n, &s.tally)
		out = append(out, s)
		unknown := min(c.Paid+int32(o.Horizon), o.Until)
		type ranked struct {
			a *Account
			h uint64
		}
		var pool []ranked
		for _, a := range ev.Accounts {
			if a.First <= to && a.Paid > unknown && a.Paid > c.Paid {
				pool = append(pool, ranked{a, draw(a.idHash^c.idHash, c.Paid)})
			}
		}
		slices.SortFunc(pool, func(x, y ranked) int { return cmp.Compare(x.h, y.h) })
		for _, r := range pool[:min(len(pool), o.Matched)] {
			s := sample{a: r.a}
			r.a.tally(from, to, n, &s.tally)
			out = append(out, s)
		}
	}
	return out
}

// candidates lists what any sampled converter showed, at each threshold.
func (ev *Evidence) candidates(samples []sample) []Candidate {
	shown := make([]bool, len(ev.Names))
	for _, s := range samples {
		if s.converter {
			for k, n := range s.tally.Events {
				shown[k] = shown[k] || n > 0
			}
		}
	}
	var out []Candidate
	for k, name := range ev.Names {
		if !shown[k] {
			continue
		}
		for _, m := range countMins {
			out = append(out, Candidate{Kind: KindCount, Behaviour: name, Min: m, key: k})
		}
		for _, m := range daysMins {
			out = append(out, Candidate{Kind: KindDays, Behaviour: name, Min: m, key: k})
		}
		for _, m := range usersMins {
			out = append(out, Candidate{Kind: KindUsers, Behaviour: name, Min: m, key: k})
		}
		out = append(out, Candidate{Kind: KindFirst, Behaviour: name, Min: 1, key: k})
	}
	for _, m := range activeMins {
		out = append(out, Candidate{Kind: KindActiveDays, Min: m})
	}
	for _, m := range usersMins {
		out = append(out, Candidate{Kind: KindActiveUsers, Min: m})
	}
	out = append(out, Candidate{Kind: KindICP}, Candidate{Kind: KindInCRM})
	return append(out, firmographic(samples)...)
}

// firmographic lists the industries and sizes of the sampled converters:
// the only traits discovery reads besides the ICP. Traits are known as of
// today, and most may record the outcome (a plan, a status); a company's
// industry and size do not change when it pays.
func firmographic(samples []sample) []Candidate {
	industries := map[string]bool{}
	largest := 0
	for _, s := range samples {
		if s.converter {
			if s.a.Facts.Industry != "" {
				industries[s.a.Facts.Industry] = true
			}
			largest = max(largest, s.a.Facts.Employees)
		}
	}
	var out []Candidate
	for _, ind := range slices.Sorted(maps.Keys(industries)) {
		out = append(out, Candidate{Kind: KindIndustry, Value: ind})
	}
	for _, m := range employeesMins {
		if m <= largest {
			out = append(out, Candidate{Kind: KindEmployees, Min: m})
		}
	}
	return out
}

// activityLevel places a window's user-days (each user's active days,
// added up) in one of nine strata: what every behaviour's count grows
// with, whether or not it means anything.
func activityLevel(userDays int) int {
	for i, top := range []int{0, 1, 2, 4, 7, 11, 17, 27} {
		if userDays <= top {
			return i
		}
	}
	return 8
}

// level is the stratum a sample is compared within for candidate c: its
// level of activity, or for how many users did a behaviour, how many
// users were active at all (else a popular behaviour done by 5+ users
// would stand for a large team, which user-days alone do not hold equal).
func (c Candidate) level(t *Tally) int {
	switch c.Kind {
	case KindUsers:
		return min(t.ActiveUsers, 8)
	case KindFirst:
		// Everything a new account does is a first: new accounts, which
		// differ in other ways (the old ones still open are those that
		// did not convert), are compared with new accounts.
		if !t.Seen {
			return activityLevel(t.UserDays) + levels
		}
	}
	return activityLevel(t.UserDays)
}

// levels is how many levels of activity activityLevel tells apart.
const levels = 9

func judge(c Candidate, samples []sample) Finding {
	f := Finding{Candidate: c}
	var strata [2 * levels]stratum
	var plain stratum
	for i := range samples {
		s := &samples[i]
		with := c.holds(s.a, &s.tally)
		st := &strata[c.level(&s.tally)]
		for _, x := range []*stratum{st, &plain} {
			switch {
			case s.converter && with:
				x.a++
			case with:
				x.b++
			case s.converter:
				x.c++
			default:
				x.d++
			}
		}
	}
	f.With, f.Converters = int(plain.a), int(plain.a+plain.c)
	f.NonWith, f.NonConverters = int(plain.b), int(plain.b+plain.d)
	f.Share, f.NonShare = share(f.With, f.Converters), share(f.NonWith, f.NonConverters)
	f.ShareCI, f.NonShareCI = wilson(f.With, f.Converters), wilson(f.NonWith, f.NonConverters)
	f.Lift, f.LiftCI = ratio(f.With, f.Converters, f.NonWith, f.NonConverters)
	f.SeedPresent = f.Share >= SeedPresence
	pool := strata[:]
	if c.activity() {
		pool = []stratum{plain}
	}
	f.Adjusted, f.AdjustedCI, _ = mantelHaenszel(pool)
	return f
}

func share(x, n int) float64 {
	if n == 0 {
		return 0
	}
	return float64(x) / float64(n)
}

// Picking: a behaviour is proposed when converters show it at least
// minShare of the time and, among accounts as active, at least minOdds
// times the odds of non-converters, on the lower end of its interval; the
// strongest behaviours first, each in one form.
const (
	minShare = 0.15
	minOdds  = 1.25
)

func (d *Discovery) pick() {
	taken := map[string]*Finding{}
	for i := range d.Findings {
		f := &d.Findings[i]
		group := f.group()
		if taken[group] != nil || !f.eligible() || len(d.Picked) >= d.Options.MaxRules {
			continue
		}
		f = d.broadest(f)
		taken[group], f.Picked = f, true
		d.Picked = append(d.Picked, *f)
	}
	// A step up: a behaviour picked may also be worth more when done more
	// (on more days, more often), which tells the strongest accounts
	// apart from the rest; its rule adds what the stronger form is worth
	// beyond the first.
	stepped := map[string]bool{}
	for i := range d.Findings {
		f := &d.Findings[i]
		group := f.group()
		first := taken[group]
		if first == nil || f.Picked || stepped[group] || f.fact() || !f.eligible() ||
			f.Min <= first.Min || f.Adjusted < stepRatio*first.Adjusted {
			continue
		}
		stepped[group], f.Picked, f.StepOf = true, true, first.Label
		d.Picked = append(d.Picked, *f)
	}
}

// eligible reports whether a finding may become a rule. Whether sales
// knows an account is known as of today only, and sales records the
// customers that paid: it would read the outcome, so it is shown, never
// proposed.
func (f *Finding) eligible() bool {
	return f.Share >= minShare && f.AdjustedCI[0] >= minOdds && f.Kind != KindInCRM
}

// broadest is the form of strongest's behaviour that most converters show
// among those the evidence cannot tell apart from it (an odds ratio
// within its interval): "did it" over "did it twice" unless twice is
// clearly stronger, as seed 004 asks which actions converters took. A
// stricter form chosen on a few conversions' chance leaves out accounts
// that took the action, and the step up still rewards doing more.
func (d *Discovery) broadest(strongest *Finding) *Finding {
	best := strongest
	for i := range d.Findings {
		f := &d.Findings[i]
		if f.group() == strongest.group() && f.eligible() && f.Adjusted >= strongest.AdjustedCI[0] && f.Share > best.Share {
			best = f
		}
	}
	return best
}

// stepRatio is how much stronger a form must be than the behaviour's
// first pick to be a step up.
const stepRatio = 1.5

// group is what a finding is one form of: its behaviour, activity, or a
// fact.
func (f *Finding) group() string {
	switch {
	case f.Behaviour != "":
		return f.Behaviour
	case f.activity():
		return "activity"
	case f.Kind == KindIndustry:
		return f.Kind + ":" + f.Value // each industry a fact of its own
	}
	return f.Kind
}

// hashID is FNV-1a of an account's id, drawn from once per account.
func hashID(id string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(id))
	return h.Sum64()
}

// draw is a stable pseudo-random rank of an account (by its id's hash,
// mixed with the conversion's) for a day: the two mixed by SplitMix64's finaliser, as FNV alone barely
// moves its high bits for a change at the end.
func draw(idHash uint64, day int32) uint64 {
	x := idHash ^ uint64(day)*0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

// conversions counts the accounts that paid up to day until.
func (ev *Evidence) conversions(until int32) int {
	n := 0
	for _, a := range ev.Accounts {
		if a.Paid != Never && a.Paid <= until {
			n++
		}
	}
	return n
}

// modelAdvice is seed 004's word on a model trained on n conversions.
func modelAdvice(n int) string {
	if n < SeedModelConversions {
		return fmt.Sprintf("%d conversions in all, fewer than the %d seed 004 asks before a model: stay with threshold rules", n, SeedModelConversions)
	}
	return fmt.Sprintf("%d conversions in all: past seed 004's %d, a model may be trained beside the rules", n, SeedModelConversions)
}

package sim

import (
	"math"
	"math/rand/v2"
)

// Lifecycle is what happens to an account over the simulation: the ground
// truth Beacon's scores are later judged against. Days are counted from the
// start of the simulation; -1 means never (within the simulated days).
type Lifecycle struct {
	Activated     bool   `json:"activated"`
	ActivatedDay  int    `json:"activated_day"`
	Trial         bool   `json:"trial"`
	TrialStartDay int    `json:"trial_start_day"`
	Converted     bool   `json:"converted"`
	ConvertedDay  int    `json:"converted_day"`
	Motion        string `json:"motion,omitempty"` // "self-serve" or "sales-assisted"
	Plan          string `json:"plan,omitempty"`   // "team" or "business"
	Seats         int    `json:"seats,omitempty"`  // at conversion
	Churned       bool   `json:"churned"`
	ChurnDay      int    `json:"churn_day"`
	// Changes are the seat counts set at renewals: expansions and contractions.
	Changes []SeatChange `json:"seat_changes,omitempty"`
}

// SeatChange is a paying account's seat count from a renewal on.
type SeatChange struct {
	Day   int `json:"day"`
	Seats int `json:"seats"`
}

// SeatsOn is how many seats the account pays for on day d (0 when it does
// not pay).
func (l Lifecycle) SeatsOn(d int) int {
	if !l.Converted || d < l.ConvertedDay || (l.Churned && d >= l.ChurnDay) {
		return 0
	}
	seats := l.Seats
	for _, c := range l.Changes {
		if c.Day <= d {
			seats = c.Seats
		}
	}
	return seats
}

// MRROn is the account's monthly recurring revenue on day d, in cents.
func (l Lifecycle) MRROn(d int) int { return l.SeatsOn(d) * planPrices[l.Plan] }

// Plans and their monthly price per seat, in cents.
var planPrices = map[string]int{"team": 1500, "business": 3500}

// Free-tier limits, which active free accounts run into.
const (
	FreeSeats    = 3
	FreeProjects = 5
	FreeAPICalls = 1000 // a month
	TrialDays    = 14
)

// Intent is drawn from Beta(2, 5). Scaling an account's chances by its
// lean = intent/meanIntent keeps the world's mean rate at the parameter while
// high-intent accounts do better; E[lean²] = 1 + var/mean² = 1 + 5/16 is what
// conditioning on a lean-weighted draw (the trial) multiplies by.
const (
	meanIntent   = 2.0 / 7.0
	meanLeanSq   = 1 + 5.0/16
	meanFit      = 0.48 // Beta(2, 3) plus the industry and segment boosts of fit()
	trialLeaning = 0.5  // a trial's chance is TrialShare × (1 − trialLeaning + trialLeaning·lean)
)

// Lifecycle draws account a's fate. Activation leans on intent; conversion
// needs activation and leans on intent and fit; sales assist the larger
// accounts; paying accounts churn at the monthly rate, low-fit ones more.
func (p Params) Lifecycle(a Account) Lifecycle {
	r := p.rng(streamLifecycle, uint64(a.Index))
	l := Lifecycle{ActivatedDay: -1, TrialStartDay: -1, ConvertedDay: -1, ChurnDay: -1}
	lean := a.Intent / meanIntent
	if r.Float64() < math.Min(1, p.SignupToActivation*lean) {
		l.Activated = true
		l.ActivatedDay = a.SignupDay + r.IntN(4)
	}
	if r.Float64() < math.Min(1, p.TrialShare*(1-trialLeaning+trialLeaning*lean)) {
		l.Trial = true
		l.TrialStartDay = a.SignupDay + r.IntN(7)
	}
	// Conversion is drawn among activated accounts, divided by the chance of
	// activation given the trial draw, so that the share of all sign-ups of
	// each kind converting matches its parameter.
	actIfTrial := p.SignupToActivation * (1 - trialLeaning + trialLeaning*meanLeanSq)
	rate, given := p.FreemiumToPaid, p.SignupToActivation
	if p.TrialShare < 1 {
		given = (p.SignupToActivation - p.TrialShare*actIfTrial) / (1 - p.TrialShare)
	}
	if l.Trial {
		rate, given = p.TrialToPaid, actIfTrial
	}
	if l.Activated && r.Float64() < math.Min(1, rate/given*(0.5+0.5*a.Fit/meanFit)) {
		l.Converted = true
		start := max(l.ActivatedDay, l.TrialStartDay)
		if l.Trial {
			l.ConvertedDay = l.TrialStartDay + TrialDays - r.IntN(4)
		} else {
			l.ConvertedDay = start + 3 + r.IntN(30)
		}
		p.closeDeal(r, a, &l)
	}
	for _, d := range []*int{&l.ActivatedDay, &l.TrialStartDay, &l.ConvertedDay} {
		if *d >= p.Days {
			*d = -1
		}
	}
	l.Activated, l.Trial, l.Converted = l.ActivatedDay >= 0, l.TrialStartDay >= 0, l.ConvertedDay >= 0
	if !l.Converted {
		l.Motion, l.Plan, l.Seats, l.Churned, l.ChurnDay, l.Changes = "", "", 0, false, -1, nil
	}
	return l
}

// closeDeal draws a conversion's motion (sales assist the larger
// accounts), plan and seats, and what its renewals bring.
func (p Params) closeDeal(r *rand.Rand, a Account, l *Lifecycle) {
	l.Motion = "self-serve"
	if a.Segment != SMB && (a.InCRM || r.Float64() < 0.5) {
		l.Motion = "sales-assisted"
	}
	l.Plan = "team"
	if a.Segment != SMB || r.Float64() < 0.2 {
		l.Plan = "business"
	}
	l.Seats = max(FreeSeats, a.Users)
	p.renewals(a, l)
}

// contraction is the chance, at a renewal, that an account drops a fifth of
// its seats.
const contraction = 0.03

// renewals draws what happens at each monthly renewal: cancel (at the
// segment's churn rate, more for low fit), or else grow or shrink. The chance
// to grow is set per account and month so that the expected revenue a month
// later is the segment's monthly share of NRR: twelve renewals then give the
// NRR parameter, whatever the seat counts.
func (p Params) renewals(a Account, l *Lifecycle) {
	r := p.rng(streamRevenue, uint64(a.Index))
	monthly := math.Pow(p.NRR[a.Segment], 1.0/12)
	churn := math.Min(0.9, p.Churn[a.Segment]*(1.5-a.Fit))
	seats := l.Seats
	for d := l.ConvertedDay + 30; d < p.Days; d += 30 {
		if r.Float64() < churn {
			l.Churned, l.ChurnDay = true, d
			return
		}
		up := max(1, int(float64(seats)*(0.1+0.3*r.Float64())+0.5))
		down := min(seats-1, max(1, int(float64(seats)*0.2+0.5)))
		// (1 − churn)(1 + pUp·up/seats − contraction·down/seats) = monthly
		need := monthly/(1-churn) - 1 + contraction*float64(down)/float64(seats)
		pUp := math.Max(0, need*float64(seats)/float64(up))
		switch x := r.Float64(); {
		case x < pUp:
			seats += up
		case x < pUp+contraction && down > 0:
			seats -= down
		default:
			continue
		}
		l.Changes = append(l.Changes, SeatChange{Day: d, Seats: seats})
	}
}

package sim

import "math"

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
	Seats         int    `json:"seats,omitempty"`
	Churned       bool   `json:"churned"`
	ChurnDay      int    `json:"churn_day"`
}

// Plans and their monthly price per seat, in cents.
var planPrices = map[string]int{"team": 1500, "business": 3500}

// Free-tier limits, which active free accounts run into.
const (
	FreeSeats    = 3
	FreeProjects = 5
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
		l.Motion = "self-serve"
		if a.Segment != SMB && (a.InCRM || r.Float64() < 0.5) {
			l.Motion = "sales-assisted"
		}
		l.Plan = "team"
		if a.Segment != SMB || r.Float64() < 0.2 {
			l.Plan = "business"
		}
		l.Seats = max(FreeSeats, a.Users)
		daily := 1 - math.Pow(1-p.MonthlyChurn*(1.5-a.Fit), 1.0/30)
		for d := l.ConvertedDay + 1; d < p.Days; d++ {
			if r.Float64() < daily {
				l.Churned, l.ChurnDay = true, d
				break
			}
		}
	}
	for _, d := range []*int{&l.ActivatedDay, &l.TrialStartDay, &l.ConvertedDay} {
		if *d >= p.Days {
			*d = -1
		}
	}
	l.Activated, l.Trial, l.Converted = l.ActivatedDay >= 0, l.TrialStartDay >= 0, l.ConvertedDay >= 0
	if !l.Converted {
		l.Motion, l.Plan, l.Seats, l.Churned, l.ChurnDay = "", "", 0, false, -1
	}
	return l
}

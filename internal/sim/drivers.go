package sim

import (
	"math"
	"slices"
	"time"
)

// A world with drivers is one where conversion is not decided up front from
// latent intent but happens day by day, at a hazard raised by what the
// account did in the last HazardDays: the seed picks which behaviours of
// the catalogue drive it, and makes some others popular and meaningless.
// Nothing in Beacon is told which: discovery must find them.

// Behaviours is the catalogue a world with drivers draws from: actions a
// collaborative product's users take, each a track event.
var Behaviours = []string{"Report Exported", "Dashboard Shared", "Integration Connected", "Comment Added",
	"Template Used", "Alert Configured", "API Key Created", "File Uploaded", "Search Performed",
	"Automation Created", "Filter Saved", "Theme Changed"}

// Drivers world constants: how far back the hazard looks, how much each
// driver done in that window multiplies it by, and the base daily hazard.
const (
	HazardDays   = 14
	driverWeight = 1.8
	baseHazard   = 0.0008
	noiseCount   = 2       // popular behaviours that drive nothing
	activeBit    = 1 << 15 // in a user-day's mask: the user came that day
)

// Plan is which behaviours drive conversion in a world with drivers,
// which are popular noise, and how much each is taken up.
type Plan struct {
	Drivers []string `json:"drivers"`
	Noise   []string `json:"noise"`
	// Adoption is, per behaviour of the catalogue, the share of accounts
	// that use it at all; Daily the chance one of their active users does
	// it on a day.
	Adoption []float64 `json:"adoption"`
	Daily    []float64 `json:"daily"`
	driver   []bool
}

// DriverPlan draws the world's plan; nil for a world without drivers.
func (p Params) DriverPlan() *Plan {
	if p.Drivers == 0 {
		return nil
	}
	r := p.rng(streamDrivers, 0)
	order := r.Perm(len(Behaviours))
	pl := &Plan{Adoption: make([]float64, len(Behaviours)), Daily: make([]float64, len(Behaviours)),
		driver: make([]bool, len(Behaviours))}
	for rank, k := range order {
		switch {
		case rank < p.Drivers:
			pl.Drivers = append(pl.Drivers, Behaviours[k])
			pl.driver[k] = true
			pl.Adoption[k], pl.Daily[k] = 0.25+0.25*r.Float64(), 0.1+0.2*r.Float64()
		case rank < p.Drivers+noiseCount:
			// Popular noise: nearly every account, most active days.
			pl.Noise = append(pl.Noise, Behaviours[k])
			pl.Adoption[k], pl.Daily[k] = 0.85+0.1*r.Float64(), 0.5+0.2*r.Float64()
		default:
			pl.Adoption[k], pl.Daily[k] = 0.2+0.4*r.Float64(), 0.1+0.3*r.Float64()
		}
	}
	return pl
}

// timeline is what an account's users did each day of a world with
// drivers, decided before any event is written so that conversion can
// follow it: per day since sign-up and user, a mask of behaviours (and
// activeBit).
type timeline struct {
	users int
	masks []uint16
}

func (t timeline) at(day, user int) uint16 {
	i := day*t.users + user
	if day < 0 || i >= len(t.masks) {
		return 0
	}
	return t.masks[i]
}

// dayMask is what any of the account's users did on day (since sign-up).
func (t timeline) dayMask(day int) uint16 {
	var m uint16
	for j := range t.users {
		m |= t.at(day, j)
	}
	return m
}

// drawTimeline decides each day's behaviours of account a's users: a user
// comes on a day at the rate of the classic world, and does each behaviour
// the account took up at its daily chance.
func (p Params) drawTimeline(pl *Plan, a Account, users []User) timeline {
	r := p.rng(streamBehaviour, uint64(a.Index))
	var adopted uint16
	for k, q := range pl.Adoption {
		if r.Float64() < q {
			adopted |= 1 << k
		}
	}
	t := timeline{users: len(users), masks: make([]uint16, (p.Days-a.SignupDay)*len(users))}
	come := min(0.9, 0.08+0.5*a.Intent)
	for d := range p.Days - a.SignupDay {
		for j, u := range users {
			if !u.joined(a.SignupDay+d) || (d > 0 && r.Float64() >= come) {
				continue
			}
			m := uint16(activeBit)
			for k, q := range pl.Daily {
				if adopted&(1<<k) != 0 && r.Float64() < q {
					m |= 1 << k
				}
			}
			t.masks[d*len(users)+j] = m
		}
	}
	return t
}

// hazardOn is account a's chance to convert on day d (of the world), given
// what it did in the HazardDays before and including d.
func (pl *Plan) hazardOn(a Account, t timeline, d int) float64 {
	since := d - a.SignupDay
	if since < 0 {
		return 0
	}
	var seen uint16
	for back := range HazardDays {
		seen |= t.dayMask(since - back)
	}
	n := 0
	for k, drives := range pl.driver {
		if drives && seen&(1<<k) != 0 {
			n++
		}
	}
	return math.Min(1, baseHazard*math.Exp(driverWeight*float64(n))*(0.5+0.5*a.Fit/meanFit))
}

// driverLifecycle draws the fate of account a in a world with drivers:
// each day from sign-up, it converts at its hazard; the deal is closed as
// in the classic world.
func (p Params) driverLifecycle(pl *Plan, a Account, t timeline) Lifecycle {
	r := p.rng(streamLifecycle, uint64(a.Index))
	l := Lifecycle{ActivatedDay: -1, TrialStartDay: -1, ConvertedDay: -1, ChurnDay: -1}
	for d := a.SignupDay; d < p.Days; d++ {
		if l.ActivatedDay < 0 && t.dayMask(d-a.SignupDay)&pl.driverMask() != 0 {
			l.Activated, l.ActivatedDay = true, d
		}
		if r.Float64() < pl.hazardOn(a, t, d) {
			l.Converted, l.ConvertedDay = true, d
			break
		}
	}
	if l.Converted {
		p.closeDeal(r, a, &l)
	}
	return l
}

func (pl *Plan) driverMask() uint16 {
	var m uint16
	for k, drives := range pl.driver {
		if drives {
			m |= 1 << k
		}
	}
	return m
}

// IsDriver reports whether the plan's conversions are driven by event.
func (pl *Plan) IsDriver(event string) bool { return slices.Contains(pl.Drivers, event) }

// IsNoise reports whether event is one of the plan's popular behaviours
// that drive nothing.
func (pl *Plan) IsNoise(event string) bool { return slices.Contains(pl.Noise, event) }

// behave writes what user u (the account's j-th) did today in a world with
// drivers: a sign-in and each behaviour of the day's mask.
func (g *dayGen) behave(u User, m uint16) {
	if m&activeBit == 0 {
		return
	}
	t := g.at()
	g.track(u, "Signed In", t)
	for k, name := range Behaviours {
		if m&(1<<k) != 0 {
			g.track(u, name, t.Add(time.Duration(k+1)*time.Minute), str("feature", features[g.r.IntN(len(features))]))
		}
	}
}

// Hazard is account i's true chance to convert on day d: what an oracle
// ranks by. 0 once it converted, before it signed up, and in a classic
// world, whose conversions are decided up front.
func (gen *Generator) Hazard(i, d int) float64 {
	l := gen.lives[i]
	if gen.plan == nil || (l.Converted && l.ConvertedDay < d) {
		return 0
	}
	return gen.plan.hazardOn(gen.accounts[i], gen.times[i], d)
}

// The activation milestone, found as seed 004 says: "Segment users into
// retained (still active at 30 days) and churned (inactive by 30 days);
// compare feature usage patterns between the two groups; the feature or
// action with the highest differential is your activation milestone."

package calibration

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/beaconplg/beacon/internal/signal"
)

// The seed's day 30, and the last day of the week from it: retained users
// were active on a day from 30 to 36 after their first ("still active at
// 30 days"), churned users on none. A week, not "ever after", as a user who
// comes back once a month is not retained in any sense sales cares for.
const (
	RetainedAt    = 30
	retainedUntil = 36
)

// MilestoneOptions shape a search for the activation milestone.
type MilestoneOptions struct {
	// Within is how many days from a user's first are read for early
	// actions (the first day is day 0): 7, a first week, by default.
	Within int
	// Event, if set, is the milestone whose time to activation the
	// cohorts show (the configured activation_event, done once); else the
	// best found.
	Event string
}

// Milestone is one early action (or a pair of them) and how retained and
// churned users differ in it.
type Milestone struct {
	Label  string   `json:"label"`
	Events []string `json:"events"` // all of them, each at least Min times
	Min    int      `json:"min"`
	// Of Retained users, RetainedWith did it within the first days; of
	// Churned, ChurnedWith.
	Retained, RetainedWith int
	Churned, ChurnedWith   int
	Share, ChurnedShare    float64
	ShareCI, ChurnedCI     [2]float64
	// Differential is Share minus ChurnedShare: the seed's ranking.
	Differential float64 `json:"differential"`
}

// Cohort is the users first seen in one week and how soon they reached a
// milestone.
type Cohort struct {
	Week       string  `json:"week"` // its Monday, YYYY-MM-DD
	Users      int     `json:"users"`
	Activated  int     `json:"activated"`   // reached it, ever
	MedianDays float64 `json:"median_days"` // from the first day to it, of those
}

// Activation is what the search found.
type Activation struct {
	Options           MilestoneOptions
	Retained, Churned int
	Milestones        []Milestone // highest differential first
	// Followed is the milestone the cohorts follow: Options.Event done
	// once, or the best found.
	Followed Milestone
	Cohorts  []Cohort
	// Note says why the cohorts do not follow Options.Event, if they do not.
	Note string
}

// milestoneCounts are the early-action forms tried: done at least once,
// three times, ten times ("sent 10+ messages in first 3 days").
var milestoneCounts = []int{1, 3, 10}

// pairOf is how many of the best single actions are paired ("created
// first project + invited 1 teammate").
const pairOf = 8

// FindActivation compares the early actions of users retained at day 30
// with those of users churned by then, among the users the book has seen
// long enough (first seen 36 days or more before its last day).
func (b *Book) FindActivation(o MilestoneOptions) (*Activation, error) {
	if o.Within < 1 || o.Within > RetainedAt {
		return nil, fmt.Errorf("activation: within %dd: want 1 to %d days", o.Within, RetainedAt)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	users := b.early(o.Within)
	act := &Activation{Options: o}
	for _, u := range users {
		if u.retained {
			act.Retained++
		} else {
			act.Churned++
		}
	}
	if act.Retained == 0 || act.Churned == 0 {
		return act, fmt.Errorf("activation: %d retained and %d churned users seen %d days or more: both are needed", act.Retained, act.Churned, retainedUntil)
	}
	var singles []Milestone
	for k, name := range b.names {
		var once Milestone
		for _, m := range milestoneCounts {
			f := measure(users, []string{name}, m, func(u *earlyUser) bool { return u.counts[k] >= m })
			if m == 1 {
				once = f
			} else if f.RetainedWith == once.RetainedWith && f.ChurnedWith == once.ChurnedWith {
				continue // the same users as done once: it says nothing more
			}
			singles = append(singles, f)
		}
	}
	slices.SortStableFunc(singles, byDifferential)
	act.Milestones = append(act.Milestones, singles...)
	act.Milestones = append(act.Milestones, b.pairs(users, singles)...)
	slices.SortStableFunc(act.Milestones, byDifferential)
	act.Milestones = act.Milestones[:min(len(act.Milestones), 20)]
	act.Followed = act.Milestones[0]
	if k, ok := b.keys[o.Event]; ok {
		act.Followed = measure(users, []string{o.Event}, 1, func(u *earlyUser) bool { return u.counts[k] > 0 })
	} else if o.Event != "" {
		act.Note = fmt.Sprintf("no user has done %q, the activation event configured: the cohorts follow the best milestone found instead", o.Event)
	}
	act.Cohorts = b.cohorts(act.Followed)
	return act, nil
}

func byDifferential(x, y Milestone) int {
	return cmp.Or(cmp.Compare(y.Differential, x.Differential), cmp.Compare(x.Label, y.Label))
}

// earlyUser is one user seen long enough: what they did in their first
// days, by behaviour key, and whether they were active at day 30.
type earlyUser struct {
	counts   []int
	retained bool
}

// early reads every user first seen retainedUntil days or more before the
// book's last day.
func (b *Book) early(within int) []*earlyUser {
	last := int32(0)
	for _, t := range b.users {
		t.settle()
		if n := len(t.cells); n > 0 {
			last = max(last, t.cells[n-1].day)
		}
	}
	var out []*earlyUser
	for _, t := range b.users {
		if len(t.cells) == 0 || t.cells[0].day+retainedUntil > last {
			continue
		}
		first := t.cells[0].day
		u := &earlyUser{counts: make([]int, len(b.names))}
		for _, c := range t.cells {
			d := c.day - first
			switch {
			case d < int32(within):
				u.counts[c.key] += int(c.n)
			case d >= RetainedAt && d <= retainedUntil:
				u.retained = true
			}
		}
		out = append(out, u)
	}
	return out
}

// measure counts the users for whom has holds, retained and churned: each
// of events done minCount times.
func measure(users []*earlyUser, events []string, minCount int, has func(*earlyUser) bool) Milestone {
	m := Milestone{Events: events, Min: minCount}
	for _, u := range users {
		with := has(u)
		switch {
		case u.retained:
			m.Retained++
			if with {
				m.RetainedWith++
			}
		default:
			m.Churned++
			if with {
				m.ChurnedWith++
			}
		}
	}
	m.Share, m.ChurnedShare = share(m.RetainedWith, m.Retained), share(m.ChurnedWith, m.Churned)
	m.ShareCI, m.ChurnedCI = wilson(m.RetainedWith, m.Retained), wilson(m.ChurnedWith, m.Churned)
	m.Differential = m.Share - m.ChurnedShare
	m.Label = milestoneLabel(m.Events, minCount)
	return m
}

func milestoneLabel(events []string, minCount int) string {
	parts := make([]string, len(events))
	for i, e := range events {
		parts[i] = strings.TrimPrefix(e, pagePrefix)
		if strings.HasPrefix(e, pagePrefix) {
			parts[i] = "viewed " + parts[i]
		}
		if minCount > 1 {
			parts[i] = fmt.Sprintf("%s %d+ times", parts[i], minCount)
		}
	}
	return strings.Join(parts, " + ")
}

// pairs tries the best single actions (done once) two by two, keeping a
// pair only where it sets the groups further apart than either action
// alone: a pair with an action everyone does is the other action again.
func (b *Book) pairs(users []*earlyUser, singles []Milestone) []Milestone {
	var top []Milestone
	for _, s := range singles {
		if s.Min == 1 && len(top) < pairOf {
			top = append(top, s)
		}
	}
	var out []Milestone
	for i, x := range top {
		for _, y := range top[i+1:] {
			kx, ky := b.keys[x.Events[0]], b.keys[y.Events[0]]
			p := measure(users, []string{x.Events[0], y.Events[0]}, 1, func(u *earlyUser) bool { return u.counts[kx] > 0 && u.counts[ky] > 0 })
			if p.Differential > max(x.Differential, y.Differential)+pairGain {
				out = append(out, p)
			}
		}
	}
	return out
}

// pairGain is how much further apart (a share) a pair must set the groups
// than its better action alone to be worth naming.
const pairGain = 0.01

// cohorts follows the users first seen each week to the day they reached
// milestone m: each of its events done m.Min times, counted from their
// first day.
func (b *Book) cohorts(m Milestone) []Cohort {
	keys := make([]uint16, len(m.Events))
	for i, e := range m.Events {
		k, ok := b.keys[e]
		if !ok {
			return nil // no one did it
		}
		keys[i] = k
	}
	byWeek := map[int32]*Cohort{}
	days := map[int32][]int{}
	for _, t := range b.users {
		if len(t.cells) == 0 {
			continue
		}
		first := t.cells[0].day
		week := first - (first+3)%7 // day 0, 1970-01-01, was a Thursday
		c := byWeek[week]
		if c == nil {
			c = &Cohort{Week: signal.DayTime(week).Format(time.DateOnly)}
			byWeek[week] = c
		}
		c.Users++
		if d, ok := reached(t, keys, m.Min); ok {
			c.Activated++
			days[week] = append(days[week], int(d-first))
		}
	}
	var out []Cohort
	for _, w := range slices.Sorted(maps.Keys(byWeek)) {
		c := byWeek[w]
		c.MedianDays = median(days[w])
		out = append(out, *c)
	}
	return out
}

// reached is the day a trail had done every one of keys the given times.
func reached(t *trail, keys []uint16, times int) (int32, bool) {
	counts := make([]int, len(keys))
	for _, c := range t.cells {
		for i, k := range keys {
			if c.key == k {
				counts[i] += int(c.n)
			}
		}
		if !slices.ContainsFunc(counts, func(n int) bool { return n < times }) {
			return c.day, true
		}
	}
	return 0, false
}

package signal

// Reads is what a set of signals moves with: days an actor was first active
// on, and counters. A usage event that reaches none of it changes none of
// those signals, so a subject scored on them alone need not be scored again.
type Reads struct {
	days     bool
	counters []bool
}

// ReadsOf returns what the signals need marks move with (see Needs); need
// nil is every signal.
func (s *Set) ReadsOf(need []bool) *Reads {
	r := &Reads{counters: make([]bool, len(s.counters))}
	for i, d := range s.Defs {
		if need != nil && !need[i] {
			continue
		}
		r.days = r.days || d.movesWithDays()
		for _, c := range append([]int{d.ctr, d.anchor}, d.ctrs...) {
			if c >= 0 {
				r.counters[c] = true
			}
		}
	}
	return r
}

// WithDays returns r that also moves with any day an actor is newly
// active: for what reads each day's activity, whatever its signals.
func (r *Reads) WithDays() *Reads {
	c := *r
	c.days = true
	return &c
}

// movesWithDays reports whether a day newly active may move the signal
// without hitting its counters: measures of days, and windows that start
// at the actor's first day. A counter's own cells lie on active days, so
// an earlier first day adds none to a window that ends today.
func (d *Def) movesWithDays() bool {
	if d.Win.Kind == First {
		return true
	}
	switch d.Measure {
	case Count, Sum, Max, Latest, LatestEvent, Distinct, Members, Quota:
		return false // Quota: its used signal is needed beside it
	case ActiveDays:
		return d.ctr < 0
	}
	return true // Streak, ActiveUsers, DaysSinceSeen, Trend, and any new measure
}

// Moved is what an event changed in its user's rollup.
type Moved struct {
	usage bool  // counted in the rollup; other events move traits or links
	fresh bool  // the user's first in the rollups
	day   bool  // made a day active
	hour  bool  // made the user's last activity an hour later
	hits  []hit // held by the batch's Matches until they are recycled
}

// LaterHour reports whether the event moved when the user was last active
// by an hour or more: what an account's activity shows (LastTime, kept to
// the hour).
func (m Moved) LaterHour() bool { return m.hour }

// Reaches reports whether what moved may change a signal of r; r nil reads
// every signal. An event that is not usage always reaches: it may move
// traits or links, which the rollups do not hold. So does a user's first:
// a subject never scored has no score to keep.
func (m Moved) Reaches(r *Reads) bool {
	if !m.usage || m.fresh {
		return true
	}
	if r == nil {
		return m.day || len(m.hits) > 0
	}
	if m.day && r.days {
		return true
	}
	for _, h := range m.hits {
		if r.counters[h.ctr] {
			return true
		}
	}
	return false
}

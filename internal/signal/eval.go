package signal

import (
	"math"
	"slices"
)

// Input is what a subject's signals are evaluated over.
type Input struct {
	Actors  []*Actor // the subject's users; nil entries are users with no activity
	Now     int32    // the day of evaluation
	Members int
	// Limit returns a plan limit of the subject by name, 0 when it has none.
	Limit func(name string) float64
	// Need says which signals, by index, to compute (see Set.Needs); the
	// others are left zero. Nil computes every one.
	Need []bool
}

// Value is a signal's value: Str for text signals, Num otherwise.
type Value struct {
	Num float64
	Str string
}

// Eval computes the signals of the set in.Need says for one subject, in
// Defs order, into room if it is large enough: scoring a pass evaluates
// every subject.
func (s *Set) Eval(in Input, room []Value) []Value {
	if slices.Contains(in.Actors, nil) {
		in.Actors = slices.DeleteFunc(slices.Clone(in.Actors), func(a *Actor) bool { return a == nil })
	}
	out := resize(room, len(s.Defs))
	clear(out)
	for i, d := range s.Defs {
		if d.Measure != Quota && (in.Need == nil || in.Need[i]) {
			out[i] = s.eval(d, in)
		}
	}
	for i, d := range s.Defs {
		if d.Measure == Quota && (in.Need == nil || in.Need[i]) {
			if limit := in.Limit(d.Limit); limit > 0 {
				out[i].Num = out[d.used].Num / limit
			}
		}
	}
	return out
}

// Needs returns which signals to compute for names (others are ignored):
// those, and the used signal of each quota among them.
func (s *Set) Needs(names []string) []bool {
	need := make([]bool, len(s.Defs))
	for _, name := range names {
		if i, ok := s.byName[name]; ok {
			need[i] = true
			if d := s.Defs[i]; d.Measure == Quota {
				need[d.used] = true
			}
		}
	}
	return need
}

func (s *Set) eval(d *Def, in Input) Value {
	sp := s.span(d, in)
	switch d.Measure {
	case Count:
		return number(s.total(d.ctr, d.Win, sp, in.Actors, false))
	case Sum:
		return number(s.total(d.ctr, d.Win, sp, in.Actors, true))
	case Max:
		return number(fold(d.ctr, in.Actors, func(v float64, st *stat) float64 {
			if st.numbers() == 0 {
				return v
			}
			return max(v, st.max)
		}))
	case Latest:
		var at int64
		var v float64
		for _, a := range in.Actors {
			if st := a.statOf(d.ctr); st != nil && st.numbers() > 0 && (st.numMS > at || (st.numMS == at && st.last > v)) {
				at, v = st.numMS, st.last
			}
		}
		return number(v)
	case LatestEvent:
		return s.latestEvent(d, in.Actors)
	case Distinct:
		return number(float64(s.distinct(d, sp, in.Actors)))
	case ActiveDays:
		if d.ctr < 0 {
			return number(float64(countDays(in.Actors, sp)))
		}
		return number(float64(cellDays(d.ctr, sp, in.Actors)))
	case Streak:
		return number(float64(longestRun(in.Actors, sp)))
	case ActiveUsers:
		n := 0
		for _, a := range in.Actors {
			one := []*Actor{a}
			if (d.ctr < 0 && countDays(one, sp) > 0) || (d.ctr >= 0 && s.total(d.ctr, d.Win, sp, one, false) > 0) {
				n++
			}
		}
		return number(float64(n))
	case DaysSinceSeen:
		last := int32(math.MinInt32)
		for _, a := range in.Actors {
			last = max(last, a.last)
		}
		if last == math.MinInt32 {
			return number(-1)
		}
		return number(float64(max(0, in.Now-last)))
	case Members:
		return number(float64(in.Members))
	case Trend:
		// Without an event filter, activity is user-days: each user's
		// active days, added up.
		activity := func(sp span) float64 {
			if d.ctr >= 0 {
				return s.total(d.ctr, d.Win, sp, in.Actors, false)
			}
			n := 0
			for _, a := range in.Actors {
				n += countDays([]*Actor{a}, sp)
			}
			return float64(n)
		}
		recent := activity(sp)
		// The baseline covers only days since the subject began: a young
		// account is compared with the life it has had, not with days
		// before it existed.
		first := int32(math.MaxInt32)
		for _, a := range in.Actors {
			first = min(first, a.first)
		}
		base := span{max(first, sp.from-int32(d.baseline)), sp.from - 1}
		days := base.to - base.from + 1
		if days < int32(d.Win.Days) {
			if recent > 0 {
				return number(1) // not a window's worth of history yet
			}
			return number(0)
		}
		avg := activity(base) * float64(d.Win.Days) / float64(days)
		if avg > 0 {
			return number(recent / avg)
		}
		if recent > 0 {
			return number(1)
		}
		return number(0)
	}
	return Value{}
}

func number(v float64) Value { return Value{Num: v} }

// span is the days a signal's window covers for this subject.
func (s *Set) span(d *Def, in Input) span {
	now := in.Now
	switch d.Win.Kind {
	case Last:
		return span{now - int32(d.Win.Days) + 1, now}
	case Month:
		return span{monthStart(now), now}
	case First:
		f := int32(math.MaxInt32)
		for _, a := range in.Actors {
			f = min(f, a.first)
		}
		if f == math.MaxInt32 {
			return span{1, 0}
		}
		return span{f, min(now, f+int32(d.Win.Days)-1)}
	case After:
		f := int32(math.MaxInt32)
		for _, a := range in.Actors {
			if st := a.statOf(d.anchor); st != nil {
				f = min(f, st.first)
			}
		}
		if f == math.MaxInt32 {
			return span{1, 0}
		}
		return span{f, min(now, f+int32(d.Win.Days)-1)}
	}
	f := int32(math.MaxInt32)
	for _, a := range in.Actors {
		f = min(f, a.first)
	}
	return span{f, now}
}

// total sums events (or their property) of a counter over a window: from the
// lifetime stats for all, from the daily cells otherwise.
func (s *Set) total(ctr int, w Window, sp span, actors []*Actor, sum bool) float64 {
	var t float64
	if w.Kind == All {
		return fold(ctr, actors, func(v float64, st *stat) float64 {
			if sum {
				if st.num == nil {
					return v
				}
				return v + st.sum
			}
			return v + float64(st.n)
		})
	}
	for _, a := range actors {
		if sum {
			for _, c := range a.sums {
				if c.ctr == int32(ctr) && sp.has(c.day) {
					t += c.sum
				}
			}
			continue
		}
		for _, c := range a.cells {
			if int(c.ctr) == ctr && sp.has(c.day) {
				t += float64(c.x)
			}
		}
	}
	return t
}

func fold(ctr int, actors []*Actor, f func(float64, *stat) float64) float64 {
	var v float64
	for _, a := range actors {
		if st := a.statOf(ctr); st != nil {
			v = f(v, st)
		}
	}
	return v
}

func (s *Set) latestEvent(d *Def, actors []*Actor) Value {
	var at int64
	name := ""
	for i, ctr := range d.ctrs {
		for _, a := range actors {
			// Ties go to the event listed last, whatever the order of arrival.
			if st := a.statOf(ctr); st != nil && st.lastMS >= at && (st.lastMS > at || name == "" || i > slices.Index(d.Events, name)) {
				at, name = st.lastMS, d.Events[i]
			}
		}
	}
	return Value{Str: name}
}

func (s *Set) distinct(d *Def, sp span, actors []*Actor) int {
	var seen []uint32
	add := func(v uint32) {
		if i, ok := slices.BinarySearch(seen, v); !ok {
			seen = slices.Insert(seen, i, v)
		}
	}
	for _, a := range actors {
		if d.Win.Kind == All {
			if st := a.statOf(d.ctr); st != nil {
				for _, v := range st.values() {
					add(v)
				}
			}
			continue
		}
		for _, c := range a.cells {
			if int(c.ctr) == d.ctr && sp.has(c.day) {
				add(c.x)
			}
		}
	}
	return len(seen)
}

// countDays counts the days in sp on which any of actors was active.
func countDays(actors []*Actor, sp span) int {
	n := 0
	for d := sp.from; d <= sp.to; d++ {
		if anyActive(actors, d) {
			n++
		}
	}
	return n
}

func anyActive(actors []*Actor, d int32) bool {
	for _, a := range actors {
		if a.active(d) {
			return true
		}
	}
	return false
}

func longestRun(actors []*Actor, sp span) int {
	best, run := 0, 0
	for d := sp.from; d <= sp.to; d++ {
		if anyActive(actors, d) {
			run++
			best = max(best, run)
		} else {
			run = 0
		}
	}
	return best
}

func cellDays(ctr int, sp span, actors []*Actor) int {
	var days []int32
	for _, a := range actors {
		for _, c := range a.cells {
			if int(c.ctr) == ctr && sp.has(c.day) {
				if i, ok := slices.BinarySearch(days, c.day); !ok {
					days = slices.Insert(days, i, c.day)
				}
			}
		}
	}
	return len(days)
}

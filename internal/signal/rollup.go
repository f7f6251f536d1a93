package signal

import (
	"math"
	"slices"
	"time"

	"github.com/beaconplg/beacon/internal/event"
)

// MaxDistinct bounds the distinct values an actor keeps per counter: enough
// for features used or plans tried, and a cap on what a high-cardinality
// property (an id) can cost.
const MaxDistinct = 256

// Day numbers days since the Unix epoch, in UTC.
func Day(t time.Time) int32 { return int32(math.Floor(float64(t.Unix()) / 86400)) }

func dayTime(d int32) time.Time { return time.Unix(int64(d)*86400, 0).UTC() }

// Actor is the rollup of one user's (or one not yet identified visitor's)
// activity.
type Actor struct {
	first, last int32 // first and latest active day; first > last when none
	base        int32 // day of bit 0 of days
	days        []uint64
	stats       []stat // by counter, sorted
	cells       []cell // by day, counter, value
}

// stat is an actor's lifetime total for one counter. Most counters only
// count; what a property adds lives apart, so a count costs 24 bytes.
type stat struct {
	ctr    int32
	n      uint32 // events
	first  int32  // first day
	lastMS int64  // time of the latest event
	*num          // nil unless the counter reads a property
}

// num is what a counter that reads a property keeps.
type num struct {
	nums  uint32 // events whose property was a number
	sum   float64
	max   float64
	numMS int64    // time of the latest event with a number
	last  float64  // that number
	set   []uint32 // distinct value ids, sorted
}

// cell is one day's count for one counter (and one distinct value).
type cell struct {
	day int32
	ctr int32
	val uint32
	n   uint32
	sum float64
}

func newActor() *Actor { return &Actor{first: math.MaxInt32, last: math.MinInt32} }

func (a *Actor) active(d int32) bool {
	i := d - a.base
	if i < 0 || int(i/64) >= len(a.days) {
		return false
	}
	return a.days[i/64]&(1<<(i%64)) != 0
}

func (a *Actor) markDay(d int32) {
	if len(a.days) == 0 {
		a.base = d &^ 63
	}
	if d < a.base {
		grow := int((a.base - d + 63) / 64)
		a.days = append(make([]uint64, grow), a.days...)
		a.base -= int32(grow * 64)
	}
	i := d - a.base
	for int(i/64) >= len(a.days) {
		a.days = append(a.days, 0)
	}
	a.days[i/64] |= 1 << (i % 64)
	a.first, a.last = min(a.first, d), max(a.last, d)
}

func (a *Actor) stat(ctr int32) *stat {
	i, ok := slices.BinarySearchFunc(a.stats, ctr, func(s stat, c int32) int { return int(s.ctr - c) })
	if !ok {
		a.stats = slices.Insert(a.stats, i, stat{ctr: ctr, first: math.MaxInt32})
	}
	return &a.stats[i]
}

func (a *Actor) statOf(ctr int) *stat {
	i, ok := slices.BinarySearchFunc(a.stats, int32(ctr), func(s stat, c int32) int { return int(s.ctr - c) })
	if !ok {
		return nil
	}
	return &a.stats[i]
}

func cellCmp(c cell, k cell) int {
	switch {
	case c.day != k.day:
		return int(c.day - k.day)
	case c.ctr != k.ctr:
		return int(c.ctr - k.ctr)
	case c.val < k.val:
		return -1
	case c.val > k.val:
		return 1
	}
	return 0
}

func (a *Actor) addCell(k cell) {
	// Events mostly arrive in time order: look at the end first.
	n := len(a.cells)
	if n == 0 || cellCmp(a.cells[n-1], k) < 0 {
		a.cells = append(a.cells, k)
		return
	}
	i, ok := slices.BinarySearchFunc(a.cells, k, cellCmp)
	if !ok {
		a.cells = slices.Insert(a.cells, i, k)
		return
	}
	a.cells[i].n += k.n
	a.cells[i].sum += k.sum
}

// record counts one event for a counter.
func (st *stat) record(day int32, ms int64, v float64, hasNum bool) {
	st.n++
	st.first = min(st.first, day)
	st.lastMS = max(st.lastMS, ms)
	if hasNum {
		x := st.ext()
		x.sum += v
		if x.nums == 0 || v > x.max {
			x.max = v
		}
		x.nums++
		x.latest(ms, v)
	}
}

func (st *stat) ext() *num {
	if st.num == nil {
		st.num = &num{}
	}
	return st.num
}

// latest keeps the number of the latest event; ties go to the larger number
// so that the order events arrive in never matters.
func (x *num) latest(ms int64, v float64) {
	if ms > x.numMS || (ms == x.numMS && v > x.last) {
		x.numMS, x.last = ms, v
	}
}

func (st *stat) addValue(id uint32) {
	x := st.ext()
	i, ok := slices.BinarySearch(x.set, id)
	if !ok && len(x.set) < MaxDistinct {
		x.set = slices.Insert(x.set, i, id)
	}
}

// numbers is how many events carried a number.
func (st *stat) numbers() uint32 {
	if st.num == nil {
		return 0
	}
	return st.nums
}

func (st *stat) values() []uint32 {
	if st.num == nil {
		return nil
	}
	return st.set
}

// Rollups holds every actor's rollup for one signal set.
type Rollups struct {
	set    *Set
	actors map[string]*Actor
	ids    map[string]uint32 // distinct values, interned
	buf    []int
}

// NewRollups returns empty rollups for set.
func NewRollups(set *Set) *Rollups {
	return &Rollups{set: set, actors: map[string]*Actor{}, ids: map[string]uint32{}}
}

// Actor returns an actor's rollup, or nil if it has none.
func (r *Rollups) Actor(key string) *Actor { return r.actors[key] }

// Len is the number of actors.
func (r *Rollups) Len() int { return len(r.actors) }

// Add counts e for the actor key. Calls that are not usage are ignored.
func (r *Rollups) Add(key string, e *event.Event) {
	if !isActivity(e.Type) {
		return
	}
	a := r.actors[key]
	if a == nil {
		a = newActor()
		r.actors[key] = a
	}
	day, ms := Day(e.Timestamp), e.Timestamp.UnixMilli()
	a.markDay(day)
	p := props{e: e}
	r.buf = r.set.matching(e, r.buf)
	for _, ci := range r.buf {
		c := r.set.counters[ci]
		if !c.accepts(&p) {
			continue
		}
		num, hasNum := c.number(&p)
		st := a.stat(int32(ci))
		st.record(day, ms, num, hasNum)
		var val uint32
		if c.values {
			v, ok := c.value(e, &p)
			if !ok {
				continue
			}
			val = r.intern(v)
			st.addValue(val)
		}
		if c.cells() {
			a.addCell(cell{day: day, ctr: int32(ci), val: val, n: 1, sum: num})
		}
	}
}

func (r *Rollups) intern(v string) uint32 {
	id, ok := r.ids[v]
	if !ok {
		id = uint32(len(r.ids) + 1)
		r.ids[v] = id
	}
	return id
}

// Merge folds the actor from into the actor into (a visitor who turned out to
// be a known user) and forgets from.
func (r *Rollups) Merge(into, from string) {
	src := r.actors[from]
	if src == nil || into == from {
		return
	}
	delete(r.actors, from)
	dst := r.actors[into]
	if dst == nil {
		r.actors[into] = src
		return
	}
	for d := src.first; d <= src.last; d++ {
		if src.active(d) {
			dst.markDay(d)
		}
	}
	for _, s := range src.stats {
		st := dst.stat(s.ctr)
		st.n += s.n
		st.first = min(st.first, s.first)
		st.lastMS = max(st.lastMS, s.lastMS)
		if s.num == nil {
			continue
		}
		x := st.ext()
		x.sum += s.sum
		if s.nums > 0 && (x.nums == 0 || s.max > x.max) {
			x.max = s.max
		}
		x.nums += s.nums
		if s.nums > 0 {
			x.latest(s.numMS, s.last)
		}
		for _, v := range s.set {
			st.addValue(v)
		}
	}
	for _, c := range src.cells {
		dst.addCell(c)
	}
}

// Prune drops daily cells no window can read any more on day now or later.
func (r *Rollups) Prune(now int32) {
	for _, a := range r.actors {
		kept := a.cells[:0]
		for _, c := range a.cells {
			ctr := r.set.counters[c.ctr]
			if c.day > now-ctr.recent || c.day < a.first+ctr.first {
				kept = append(kept, c)
			}
		}
		a.cells = slices.Clip(kept)
	}
}

// Drop forgets the actors forget picks that have not been active since
// before; for visitors never identified.
func (r *Rollups) Drop(before int32, forget func(key string) bool) int {
	n := 0
	for k, a := range r.actors {
		if a.last < before && forget(k) {
			delete(r.actors, k)
			n++
		}
	}
	return n
}

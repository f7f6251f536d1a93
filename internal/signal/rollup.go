package signal

import (
	"math"
	"slices"
	"strings"
	"time"

	"github.com/beaconplg/beacon/internal/event"
)

// MaxDistinct bounds the distinct values an actor keeps per counter: enough
// for features used or plans tried, and a cap on what a high-cardinality
// property (an id) can cost.
const MaxDistinct = 256

// Day numbers days since the Unix epoch, in UTC.
func Day(t time.Time) int32 { return int32(math.Floor(float64(t.Unix()) / 86400)) }

// DayTime is the midnight (UTC) that starts day d.
func DayTime(d int32) time.Time { return time.Unix(int64(d)*86400, 0).UTC() }

// Actor is the rollup of one user's (or one not yet identified visitor's)
// activity.
type Actor struct {
	first, last int32 // first and latest active day; first > last when none
	base        int32 // day of bit 0 of days
	lastMS      int64 // time of the latest usage event
	days        []uint64
	stats       []stat    // by counter, sorted
	cells       []cell    // by day, counter, value
	sums        []sumCell // by day, counter; for counters that read a number
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

// cell is one day of one counter: how many events counted, or for a
// counter that keeps distinct values, one value seen that day. Twelve bytes:
// cells are most of what a user's rollup holds.
type cell struct {
	day int32
	ctr uint16
	x   uint32
}

// sumCell is one day's total of the number a counter reads.
type sumCell struct {
	day int32
	ctr int32
	sum float64
}

const hourMS = 3_600_000

func newActor() *Actor { return &Actor{first: math.MaxInt32, last: math.MinInt32} }

// LastDay is the latest day the actor was active; nil actors never were.
func (a *Actor) LastDay() (int32, bool) {
	if a == nil || a.first > a.last {
		return 0, false
	}
	return a.last, true
}

// ActiveOn reports whether the actor used the product on day d; nil actors
// never did.
func (a *Actor) ActiveOn(d int32) bool { return a != nil && a.active(d) }

// LastTime is when the actor last used the product; zero for nil actors
// and those who never did.
func (a *Actor) LastTime() time.Time {
	if a == nil || a.lastMS == 0 {
		return time.Time{}
	}
	return time.UnixMilli(a.lastMS).UTC()
}

func (a *Actor) active(d int32) bool {
	i := d - a.base
	if i < 0 || int(i/64) >= len(a.days) {
		return false
	}
	return a.days[i/64]&(1<<(i%64)) != 0
}

// markDay marks day d active and reports whether it was already.
func (a *Actor) markDay(d int32) (was bool) {
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
	bit := uint64(1) << (i % 64)
	was = a.days[i/64]&bit != 0
	a.days[i/64] |= bit
	a.first, a.last = min(a.first, d), max(a.last, d)
	return was
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

// addCell counts an event of day for ctr; val is the value of a counter
// that keeps values, 0 for others.
func (a *Actor) addCell(day int32, ctr uint16, values bool, val uint32) {
	k := cell{day: day, ctr: ctr, x: val}
	if !values {
		k.x = 1
	}
	cmp := func(c cell, k cell) int {
		switch {
		case c.day != k.day:
			return int(c.day - k.day)
		case c.ctr != k.ctr:
			return int(c.ctr) - int(k.ctr)
		case !values || c.x == k.x:
			return 0
		case c.x < k.x:
			return -1
		}
		return 1
	}
	// Events mostly arrive in time order: look at the end first.
	n := len(a.cells)
	if n == 0 || cmp(a.cells[n-1], k) < 0 {
		a.cells = append(a.cells, k)
		return
	}
	i, ok := slices.BinarySearchFunc(a.cells, k, cmp)
	switch {
	case !ok:
		a.cells = slices.Insert(a.cells, i, k)
	case !values:
		a.cells[i].x++
	}
}

func (a *Actor) addSum(day, ctr int32, v float64) {
	cmp := func(c sumCell, k sumCell) int {
		if c.day != k.day {
			return int(c.day - k.day)
		}
		return int(c.ctr - k.ctr)
	}
	k := sumCell{day: day, ctr: ctr, sum: v}
	i, ok := slices.BinarySearchFunc(a.sums, k, cmp)
	if !ok {
		a.sums = slices.Insert(a.sums, i, k)
		return
	}
	a.sums[i].sum += v
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

// Rollups holds every user's rollup, and every visitor's events in short.
type Rollups struct {
	set      *Set
	users    map[string]*Actor
	visitors visitors
	ids      map[string]uint32 // distinct values, interned
	buf      []int
	hits     []hit
	vals     []string
}

// hit is what one event adds to one counter.
type hit struct {
	ctr    int32
	num    float64
	hasNum bool
	val    uint32 // interned value, for counters that keep values
	valOK  bool   // the event had the value (always, for those that do not)
}

// NewRollups returns empty rollups for set.
func NewRollups(set *Set) *Rollups {
	return &Rollups{set: set, users: map[string]*Actor{}, visitors: newVisitors(), ids: map[string]uint32{}}
}

// Actor returns a user's rollup, or nil if it has none.
func (r *Rollups) Actor(user string) *Actor { return r.users[user] }

// Len is the number of users and visitors held.
func (r *Rollups) Len() int { return len(r.users) + r.visitors.len() }

// Add counts e for a user. Calls that are not usage are ignored.
func (r *Rollups) Add(user string, e *event.Event) {
	if !isActivity(e.Type) {
		return
	}
	a, _ := r.user(user)
	a.count(r.set, e.Timestamp.UnixMilli(), r.match(e))
}

// user returns a user's rollup, made if new. The id is copied: one read
// from an event may hold on to the whole event.
func (r *Rollups) user(id string) (a *Actor, made bool) {
	if a = r.users[id]; a == nil {
		a, made = newActor(), true
		r.users[strings.Clone(id)] = a
	}
	return a, made
}

// AddVisitor keeps e for a visitor not yet known as a user, until Merge
// counts it for the user or DropVisitors forgets it.
func (r *Rollups) AddVisitor(anon string, e *event.Event) {
	if !isActivity(e.Type) {
		return
	}
	r.visitors.add(anon, e.Timestamp.UnixMilli(), r.match(e))
}

// AddMatched is Add for the i-th event of a batch m matched. It reports what
// the event moved: most events of an active user are usage on a day already
// active that hits no counter, and move nothing any signal reads.
func (r *Rollups) AddMatched(user string, m *Matches, i int) Moved {
	hits, ms, ok := r.matched(m, i)
	if !ok {
		return Moved{}
	}
	a, fresh := r.user(user)
	before := a.lastMS
	day := a.count(r.set, ms, hits)
	return Moved{usage: true, fresh: fresh, day: day, hour: a.lastMS/hourMS > before/hourMS, hits: hits}
}

// AddVisitorMatched is AddVisitor for the i-th event of a batch m matched.
func (r *Rollups) AddVisitorMatched(anon string, m *Matches, i int) {
	if hits, ms, ok := r.matched(m, i); ok {
		r.visitors.add(anon, ms, hits)
	}
}

// Visiting reports whether the rollups hold a visitor's events.
func (r *Rollups) Visiting(anon string) bool { return r.visitors.has(anon) }

// match returns what e adds to each counter it counts for.
func (r *Rollups) match(e *event.Event) []hit {
	r.buf, r.hits, r.vals = r.set.appendHits(e, nil, r.buf, r.hits[:0], r.vals[:0])
	return r.interned(r.hits, r.vals)
}

// interned gives hits the ids of the values vals holds for them.
func (r *Rollups) interned(hits []hit, vals []string) []hit {
	for i := range hits {
		if h := &hits[i]; h.valOK && r.set.counters[h.ctr].values {
			h.val = r.intern(vals[i])
		}
	}
	return hits
}

// matched returns the hits, with value ids, and the time of the i-th event
// of m, or false if it was not usage.
func (r *Rollups) matched(m *Matches, i int) ([]hit, int64, bool) {
	if !m.activity[i] {
		return nil, 0, false
	}
	from := 0
	if i > 0 {
		from = int(m.ends[i-1])
	}
	to := int(m.ends[i])
	return r.interned(m.hits[from:to], m.vals[from:to]), m.ms[i], true
}

// Matches is what each event of a batch adds to the counters, found apart
// from the rollups: Match may run on several goroutines while one adds
// what they found.
type Matches struct {
	ends     []int32 // event i's hits are hits[ends[i-1]:ends[i]]
	hits     []hit
	vals     []string // per hit, the value a distinct counter tells apart
	ms       []int64
	activity []bool
}

// Match finds what each of evs adds to the counters of s, the set of the
// rollups that will add them. Hand the matches back with Recycle once they
// are added.
func (s *Set) Match(evs []event.Event) *Matches { return s.MatchUsers(evs, nil) }

// MatchUsers is Match for the events whose user is known: an event whose
// users[i] is "" is left unmatched, as no activity. users nil matches all.
func (s *Set) MatchUsers(evs []event.Event, users []string) *Matches {
	m, ok := s.spare.Get().(*Matches)
	if !ok {
		m = &Matches{}
	}
	n := len(evs)
	m.ends, m.ms, m.activity = resize(m.ends, n), resize(m.ms, n), resize(m.activity, n)
	// Room for an event's worth of hits each, most events' share: grown
	// from nothing, the slices were copied a dozen times a batch.
	m.hits, m.vals = slices.Grow(m.hits[:0], n), slices.Grow(m.vals[:0], n)
	var buf []int
	seen := &decoded{by: map[string]map[string]any{}}
	for i := range evs {
		e := &evs[i]
		if m.activity[i] = isActivity(e.Type) && (users == nil || users[i] != ""); m.activity[i] {
			m.ms[i] = e.Timestamp.UnixMilli()
			buf, m.hits, m.vals = s.appendHits(e, seen, buf, m.hits, m.vals)
		}
		m.ends[i] = int32(len(m.hits))
	}
	return m
}

// Recycle hands back matches the rollups have added, for the next batch
// to be matched into.
func (s *Set) Recycle(m *Matches) {
	clear(m.vals) // they hold on to the batch's strings
	s.spare.Put(m)
}

// resize returns s with length n, reusing its room if it has enough.
func resize[S ~[]E, E any](s S, n int) S { return slices.Grow(s[:0], n)[:n] }

// appendHits appends what e adds to each counter it counts for, and for
// each hit the value a distinct counter tells apart ("" for others). seen,
// if not nil, keeps properties already decoded.
func (s *Set) appendHits(e *event.Event, seen *decoded, buf []int, hits []hit, vals []string) ([]int, []hit, []string) {
	p := props{e: e, seen: seen}
	buf = s.matching(e, buf)
	for _, ci := range buf {
		c := s.counters[ci]
		if !c.accepts(&p) {
			continue
		}
		h := hit{ctr: int32(ci), valOK: true}
		h.num, h.hasNum = c.number(&p)
		var v string
		if c.values {
			v, h.valOK = c.value(e, &p)
		}
		hits, vals = append(hits, h), append(vals, v)
	}
	return buf, hits, vals
}

// count adds an event of time ms that hit counters hits. It reports whether
// the event's day was not active before.
func (a *Actor) count(set *Set, ms int64, hits []hit) (newDay bool) {
	day := int32(floorDiv(ms, 86_400_000))
	newDay = !a.markDay(day)
	a.lastMS = max(a.lastMS, ms)
	for _, h := range hits {
		c := set.counters[h.ctr]
		st := a.stat(h.ctr)
		st.record(day, ms, h.num, h.hasNum)
		if !h.valOK {
			continue
		}
		if c.values {
			st.addValue(h.val)
		}
		if !c.cells() {
			continue
		}
		switch {
		case !c.sums():
			a.addCell(day, uint16(h.ctr), c.values, h.val)
		case h.hasNum:
			a.addSum(day, h.ctr, h.num)
		}
	}
	return newDay
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

func (r *Rollups) intern(v string) uint32 {
	id, ok := r.ids[v]
	if !ok {
		id = uint32(len(r.ids) + 1)
		r.ids[strings.Clone(v)] = id // see Rollups.user
	}
	return id
}

// Merge counts what a visitor did for the user it turned out to be, and
// forgets the visitor.
func (r *Rollups) Merge(user, anon string) {
	if !r.visitors.has(anon) {
		return
	}
	a, _ := r.user(user)
	r.visitors.replay(anon, func(ms int64, hits []hit) { a.count(r.set, ms, hits) })
	r.visitors.drop(anon)
}

// Prune drops daily cells no window can read any more on day now or later.
func (r *Rollups) Prune(now int32) {
	keep := func(a *Actor, day int32, ctr int) bool {
		c := r.set.counters[ctr]
		return day > now-c.recent || day < a.first+c.first
	}
	for _, a := range r.users {
		a.cells = fit(slices.DeleteFunc(a.cells, func(c cell) bool { return !keep(a, c.day, int(c.ctr)) }))
		a.sums = fit(slices.DeleteFunc(a.sums, func(c sumCell) bool { return !keep(a, c.day, int(c.ctr)) }))
		a.stats = fit(a.stats)
	}
}

// DropVisitors forgets the visitors not active since before: those never
// identified stop costing memory.
func (r *Rollups) DropVisitors(before int32) int { return r.visitors.dropQuiet(before) }

// fit gives back the room a slice has grown beyond what it holds, once it
// is worth a copy. (slices.Clip only hides it.)
func fit[S ~[]E, E any](s S) S {
	if cap(s)-len(s) <= len(s)/4 {
		return s
	}
	if len(s) == 0 {
		return nil
	}
	return append(make(S, 0, len(s)), s...)
}

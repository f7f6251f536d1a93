package calibration

import (
	"cmp"
	"math"
	"math/bits"
	"slices"
	"time"

	"github.com/beaconplg/beacon/internal/signal"
	"github.com/beaconplg/beacon/internal/store"
)

// Never is the payment day of an account that has not paid.
const Never = math.MaxInt32

// Facts are what discovery may read of an account besides its activity:
// firmographic fit as the rules define it, and whether sales knows it.
type Facts struct {
	ICP   bool
	InCRM bool
	// Employees and Industry are its firmographics, as rules read them.
	Employees int
	Industry  string
}

// Account is one account as discovery and backtests see it: its members'
// days, the day it was first active, and the day it first paid.
type Account struct {
	ID    string
	First int32 // first active day; Never if none
	Paid  int32 // first payment; Never if none
	Facts Facts
	// Activated is the first day a member reached the activation milestone
	// (SetActivation); Never if none did or none is set.
	Activated int32
	// Expanded and Churned are the days its MRR grew, and fell to
	// nothing, in order.
	Expanded, Churned []int32
	trail             []*trail // its members'
	idHash            uint64   // of its id, for samples drawn per conversion (draw)
}

// Evidence is every account with users, read from the book at once.
type Evidence struct {
	Names    []string // behaviours by key: track names, and pages as "page:Name"
	Accounts []*Account
}

// Evidence joins the book's users to their accounts, each user to its
// strongest link only (a workspace before an email domain, as scoring
// ranks them), so that a company is one account, not its workspace and
// its domain twice; with each account's facts and what billing says of it
// (absent: never paid).
func (b *Book) Evidence(links []store.Membership, facts map[string]Facts, billed map[string]Billed) *Evidence {
	b.mu.Lock()
	defer b.mu.Unlock()
	ev := &Evidence{Names: slices.Clone(b.names)}
	byID := map[string]*Account{}
	for _, m := range strongest(links) {
		t := b.users[m.UserID]
		if t == nil {
			continue
		}
		t.settle()
		a := byID[m.AccountID]
		if a == nil {
			a = &Account{ID: m.AccountID, First: Never, Paid: Never, Activated: Never, Facts: facts[m.AccountID], idHash: hashID(m.AccountID)}
			if bl, ok := billed[m.AccountID]; ok && !bl.Paid.IsZero() {
				a.Paid, a.Expanded, a.Churned = signal.Day(bl.Paid), days(bl.Expanded), days(bl.Churned)
			}
			byID[m.AccountID] = a
			ev.Accounts = append(ev.Accounts, a)
		}
		a.trail = append(a.trail, t)
		if len(t.cells) > 0 {
			a.First = min(a.First, t.cells[0].day)
		}
	}
	slices.SortFunc(ev.Accounts, func(x, y *Account) int { return cmp.Compare(x.ID, y.ID) })
	return ev
}

// days are the signal days of times, in order.
func days(times []time.Time) []int32 {
	out := make([]int32, 0, len(times))
	for _, t := range times {
		out = append(out, signal.Day(t))
	}
	slices.Sort(out)
	return out
}

// within reports whether any of days (in order) falls after day and no
// later than horizon days after it.
func within(days []int32, day int32, horizon int) bool {
	i, _ := slices.BinarySearch(days, day+1)
	return i < len(days) && days[i] <= day+int32(horizon)
}

// SetActivation marks each account activated from the first day one of
// its members did the named event (the metrics' activation milestone), so
// that a backtest can tell how many activated accounts become PQLs. It
// reports whether anyone did it.
func (ev *Evidence) SetActivation(name string) bool {
	key := slices.Index(ev.Names, name)
	found := false
	for _, a := range ev.Accounts {
		a.Activated = Never
		if key < 0 {
			continue
		}
		for _, t := range a.trail {
			i := slices.IndexFunc(t.cells, func(c cell) bool { return int(c.key) == key })
			if i >= 0 {
				a.Activated, found = min(a.Activated, t.cells[i].day), true
			}
		}
	}
	return found
}

// strongest keeps each user's strongest link (store.ByStrength).
func strongest(links []store.Membership) []store.Membership {
	best := map[string]store.Membership{}
	for _, m := range links {
		if b, ok := best[m.UserID]; !ok || store.ByStrength(m, b) < 0 {
			best[m.UserID] = m
		}
	}
	out := make([]store.Membership, 0, len(best))
	for _, m := range best {
		out = append(out, m)
	}
	slices.SortFunc(out, func(x, y store.Membership) int { return cmp.Compare(x.UserID, y.UserID) })
	return out
}

// Tally is what an account did in a window of days: per behaviour key, the
// events and the distinct days; over all, the days anyone was active and
// how many users were.
type Tally struct {
	Events, Days []int // by key
	Users        []int // by key: the members who did it
	// Before is, by key, whether anyone did it before the window: its
	// first time was not in it; Seen whether anyone did anything.
	Before      []bool
	Seen        bool
	ActiveDays  int
	ActiveUsers int
	UserDays    int      // each user's active days, added up
	days        []uint64 // by key, a bit per day of the window
	by          []int    // by key, the last member (from 1) counted in Users
}

// tally counts the account's days from..to (inclusive, at most 64 days:
// discovery reads 7 to 14) into t, which is sized for n behaviours and
// cleared first.
func (a *Account) tally(from, to int32, n int, t *Tally) {
	t.Events, t.Days, t.Users, t.days = resize(t.Events, n), resize(t.Days, n), resize(t.Users, n), resize(t.days, n)
	t.by = resize(t.by, n)
	t.Before = resize(t.Before, n)
	t.ActiveDays, t.ActiveUsers, t.UserDays, t.Seen = 0, 0, 0, false
	var active uint64 // bit d: someone was active on day from+d
	for u, tr := range a.trail {
		i, _ := slices.BinarySearchFunc(tr.cells, from, func(c cell, d int32) int { return int(c.day - d) })
		for _, c := range tr.cells[:i] {
			t.Before[c.key] = true
		}
		t.Seen = t.Seen || i > 0
		var mine uint64 // this user's days
		for _, c := range tr.cells[i:] {
			if c.day > to {
				break
			}
			if t.by[c.key] != u+1 {
				t.by[c.key] = u + 1
				t.Users[c.key]++
			}
			bit := uint64(1) << (c.day - from)
			t.Events[c.key] += int(c.n)
			t.days[c.key] |= bit
			mine |= bit
		}
		if mine != 0 {
			t.ActiveUsers++
			t.UserDays += bits.OnesCount64(mine)
			active |= mine
		}
	}
	t.ActiveDays = bits.OnesCount64(active)
	for k, d := range t.days {
		t.Days[k] = bits.OnesCount64(d)
	}
}

func resize[T int | uint64 | bool](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	s = s[:n]
	clear(s)
	return s
}

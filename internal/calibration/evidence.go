package calibration

import (
	"cmp"
	"math"
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
}

// Account is one account as discovery and backtests see it: its members'
// days, the day it was first active, and the day it first paid.
type Account struct {
	ID    string
	First int32 // first active day; Never if none
	Paid  int32 // first payment; Never if none
	Facts Facts
	trail []*trail // its members'
}

// Evidence is every account with users, read from the book at once.
type Evidence struct {
	Names    []string // behaviours by key: track names, and pages as "page:Name"
	Accounts []*Account
	byID     map[string]*Account
}

// Evidence joins the book's users to their accounts, each user to its
// strongest link only (a workspace before an email domain, as scoring
// ranks them), so that a company is one account, not its workspace and
// its domain twice; with each account's facts and first payment (paid;
// absent if never).
func (b *Book) Evidence(links []store.Membership, facts map[string]Facts, paid map[string]time.Time) *Evidence {
	b.mu.Lock()
	defer b.mu.Unlock()
	ev := &Evidence{Names: slices.Clone(b.names), byID: map[string]*Account{}}
	for _, m := range strongest(links) {
		t := b.users[m.UserID]
		if t == nil {
			continue
		}
		t.settle()
		a := ev.byID[m.AccountID]
		if a == nil {
			a = &Account{ID: m.AccountID, First: Never, Paid: Never, Facts: facts[m.AccountID]}
			if at, ok := paid[m.AccountID]; ok {
				a.Paid = signal.Day(at)
			}
			ev.byID[m.AccountID] = a
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

// strongest keeps each user's strongest link: by method (store.Methods'
// order), then confidence, then account id, so the choice is stable.
func strongest(links []store.Membership) []store.Membership {
	best := map[string]store.Membership{}
	for _, m := range links {
		b, ok := best[m.UserID]
		if !ok || cmp.Or(
			cmp.Compare(slices.Index(store.Methods, m.Method), slices.Index(store.Methods, b.Method)),
			cmp.Compare(b.Confidence, m.Confidence),
			cmp.Compare(m.AccountID, b.AccountID)) < 0 {
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

// Account returns an account by id.
func (ev *Evidence) Account(id string) (*Account, bool) {
	a, ok := ev.byID[id]
	return a, ok
}

// Tally is what an account did in a window of days: per behaviour key, the
// events and the distinct days; over all, the days anyone was active and
// how many users were.
type Tally struct {
	Events, Days []int // by key
	ActiveDays   int
	ActiveUsers  int
	UserDays     int // each user's active days, added up
}

// tally counts the account's days from..to (inclusive) into t, which is
// sized for n behaviours and cleared first.
func (a *Account) tally(from, to int32, n int, t *Tally) {
	t.Events, t.Days = resize(t.Events, n), resize(t.Days, n)
	t.ActiveDays, t.ActiveUsers, t.UserDays = 0, 0, 0
	var active [64]bool // windows are at most signal.MaxWindowDays
	seen := make(map[int32]bool)
	for _, tr := range a.trail {
		i, _ := slices.BinarySearchFunc(tr.cells, from, func(c cell, d int32) int { return int(c.day - d) })
		came, last := false, int32(Never)
		for _, c := range tr.cells[i:] {
			if c.day > to {
				break
			}
			came = true
			if c.day != last {
				t.UserDays, last = t.UserDays+1, c.day
			}
			t.Events[c.key] += int(c.n)
			if d := c.day - from; d < 64 {
				active[d] = true
			} else {
				seen[c.day] = true
			}
		}
		if came {
			t.ActiveUsers++
		}
	}
	// Days per behaviour: one more pass, as a key's days across members
	// must not count twice.
	days := map[[2]int32]bool{}
	for _, tr := range a.trail {
		i, _ := slices.BinarySearchFunc(tr.cells, from, func(c cell, d int32) int { return int(c.day - d) })
		for _, c := range tr.cells[i:] {
			if c.day > to {
				break
			}
			k := [2]int32{c.day, int32(c.key)}
			if !days[k] {
				days[k] = true
				t.Days[c.key]++
			}
		}
	}
	for _, on := range active {
		if on {
			t.ActiveDays++
		}
	}
	t.ActiveDays += len(seen)
}

func resize(s []int, n int) []int {
	if cap(s) < n {
		return make([]int, n)
	}
	s = s[:n]
	clear(s)
	return s
}

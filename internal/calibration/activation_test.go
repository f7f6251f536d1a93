package calibration_test

import (
	"bufio"
	"cmp"
	"compress/gzip"
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/beaconplg/beacon/internal/calibration"
	"github.com/beaconplg/beacon/internal/sim"
	"github.com/beaconplg/beacon/internal/store/storetest"
)

// Seed 004's activation milestone: "segment users into retained (still
// active at 30 days) and churned (inactive by 30 days) ... the feature or
// action with the highest differential is your activation milestone."
// The milestones come highest differential first, and the best ones'
// counts equal a direct count from the world's event file; each weekly
// cohort's users are followed to the milestone.
func TestActivationMilestone(t *testing.T) {
	p := sim.DefaultParams()
	p.Accounts = 400
	w := newWorld(t, p)
	db := storetest.SQLite(t)
	rules := preset(t, "pql-150")
	w.load(t, db, rules)
	book := calibration.NewBook()
	replay(t, db, rules, book, w.p.End())
	if _, err := book.FindActivation(calibration.MilestoneOptions{Within: 0}); err == nil || !strings.Contains(err.Error(), "within 0d") {
		t.Errorf("within 0 days: %v; want refused, naming it", err)
	}
	act, err := book.FindActivation(calibration.MilestoneOptions{Within: 7})
	if err != nil {
		t.Fatal(err)
	}
	if calibration.RetainedAt != 30 || act.Retained == 0 || act.Churned == 0 {
		t.Fatalf("%d retained at day %d, %d churned", act.Retained, calibration.RetainedAt, act.Churned)
	}
	direct := earlyActions(t, w.dir, 7)
	for i, m := range act.Milestones[:6] {
		t.Logf("%-45s retained %5.1f %% of %d, churned %5.1f %% of %d: %+.1f points", m.Label, 100*m.Share, m.Retained, 100*m.ChurnedShare, m.Churned, 100*m.Differential)
		if i > 0 && m.Differential > act.Milestones[i-1].Differential {
			t.Errorf("%s comes after a lower differential", m.Label)
		}
		var want calibration.Milestone
		for _, u := range direct {
			with := true
			for _, e := range m.Events {
				with = with && u.counts[e] >= m.Min
			}
			if u.retained {
				want.Retained++
				if with {
					want.RetainedWith++
				}
			} else {
				want.Churned++
				if with {
					want.ChurnedWith++
				}
			}
		}
		if m.Retained != want.Retained || m.RetainedWith != want.RetainedWith || m.Churned != want.Churned || m.ChurnedWith != want.ChurnedWith {
			t.Errorf("%s: %d of %d retained, %d of %d churned; the event file says %d of %d and %d of %d", m.Label,
				m.RetainedWith, m.Retained, m.ChurnedWith, m.Churned, want.RetainedWith, want.Retained, want.ChurnedWith, want.Churned)
		}
	}
	if act.Followed.Label != act.Milestones[0].Label {
		t.Errorf("the cohorts follow %q; the best milestone is %q", act.Followed.Label, act.Milestones[0].Label)
	}
	users, activated := 0, 0
	for _, c := range act.Cohorts {
		users, activated = users+c.Users, activated+c.Activated
	}
	if len(act.Cohorts) < 12 || activated == 0 || activated > users {
		t.Errorf("%d weekly cohorts of 90 days, %d of %d users reached %q", len(act.Cohorts), activated, users, act.Followed.Label)
	}
	// Following the world's own activation event instead: its users reach
	// it, those who do, on a day counted from their first.
	own, err := book.FindActivation(calibration.MilestoneOptions{Within: 7, Event: sim.ActivationEvent})
	if err != nil || own.Followed.Events[0] != sim.ActivationEvent || own.Followed.Min != 1 {
		t.Fatalf("following %s: %+v (%v)", sim.ActivationEvent, own.Followed, err)
	}
	if none, err := book.FindActivation(calibration.MilestoneOptions{Within: 7, Event: "Never Sent"}); err != nil ||
		none.Followed.Label != act.Milestones[0].Label || !strings.Contains(none.Note, `no user has done "Never Sent"`) {
		t.Errorf("following an event no one did: %q, note %q (%v)", none.Followed.Label, none.Note, err)
	}
	reachedIt := 0
	for _, c := range own.Cohorts {
		reachedIt += c.Activated
	}
	if reachedIt == 0 || reachedIt >= activated {
		t.Errorf("%d users reached %s, %d %s", reachedIt, sim.ActivationEvent, activated, act.Followed.Label)
	}
}

// earlyUser is what the event file says of one user: counts of each
// behaviour in the first days, and whether they were active in the week
// from day 30.
type earlyUser struct {
	first    int
	counts   map[string]int
	retained bool
}

// earlyActions reads the world's events as the book should: a user's
// anonymous page views count once an identify ties the two.
func earlyActions(t *testing.T, dir string, within int) map[string]*earlyUser {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, sim.EventsFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		Type, UserID, AnonymousID, Event, Name string
		Timestamp                              time.Time
	}
	var rows []row
	alias := map[string]string{}
	sc := bufio.NewScanner(zr)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var r row
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		if r.UserID != "" && r.AnonymousID != "" {
			alias[r.AnonymousID] = r.UserID
		}
		rows = append(rows, r)
	}
	byDay := map[string]map[int]map[string]int{}
	last := 0
	for _, r := range rows {
		user := cmp.Or(r.UserID, alias[r.AnonymousID])
		name := r.Event
		if r.Type == "page" {
			name = "page:" + r.Name
		}
		if user == "" || name == "" || (r.Type != "track" && r.Type != "page") {
			continue
		}
		day := int(r.Timestamp.UTC().Unix() / 86400)
		last = max(last, day)
		if byDay[user] == nil {
			byDay[user] = map[int]map[string]int{}
		}
		if byDay[user][day] == nil {
			byDay[user][day] = map[string]int{}
		}
		byDay[user][day][name]++
	}
	out := map[string]*earlyUser{}
	for user, days := range byDay {
		first := slices.Min(slices.Collect(maps.Keys(days)))
		if first+calibration.RetainedAt+6 > last {
			continue
		}
		u := &earlyUser{first: first, counts: map[string]int{}}
		for d, names := range days {
			switch {
			case d-first < within:
				for n, c := range names {
					u.counts[n] += c
				}
			case d-first >= calibration.RetainedAt && d-first <= calibration.RetainedAt+6:
				u.retained = true
			}
		}
		out[user] = u
	}
	return out
}

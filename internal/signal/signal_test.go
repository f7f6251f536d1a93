package signal_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/beaconplg/beacon/internal/event"
	"github.com/beaconplg/beacon/internal/signal"
)

func TestParseWindow(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string // canonical form, or "" when it must fail
	}{
		{"", "all"}, {"all", "all"}, {"14d", "14d"}, {"first 14d", "first 14d"}, {"month", "month"},
		{"14d after Trial Started", "14d after Trial Started"}, {"730d", "730d"},
		{"0d", ""}, {"731d", ""}, {"14", ""}, {"two weeks", ""}, {"first 14", ""}, {"14d after ", ""}, {"-3d", ""},
	} {
		w, err := signal.ParseWindow(tc.in)
		switch {
		case tc.want == "" && err == nil:
			t.Errorf("%q parsed as %s", tc.in, w)
		case tc.want != "" && (err != nil || w.String() != tc.want):
			t.Errorf("%q: %v %v, want %s", tc.in, w, err, tc.want)
		}
	}
}

var specs = []signal.Spec{
	{Name: "invites", Measure: signal.Count, Events: []string{"Invite Sent"}},
	{Name: "invites_7d", Measure: signal.Count, Events: []string{"Invite Sent"}, Window: "7d"},
	{Name: "invites_first", Measure: signal.Count, Events: []string{"Invite Sent"}, Window: "first 10d"},
	{Name: "calls_month", Measure: signal.Sum, Events: []string{"API Calls Metered"}, Property: "calls", Window: "month"},
	{Name: "calls_max", Measure: signal.Max, Events: []string{"API Calls Metered"}, Property: "calls"},
	{Name: "calls_latest", Measure: signal.Latest, Events: []string{"API Calls Metered"}, Property: "calls"},
	{Name: "features", Measure: signal.Distinct, Events: []string{"Report Viewed"}, Property: "feature"},
	{Name: "features_7d", Measure: signal.Distinct, Events: []string{"Report Viewed"}, Property: "feature", Window: "7d"},
	{Name: "days", Measure: signal.ActiveDays},
	{Name: "days_first", Measure: signal.ActiveDays, Window: "first 14d"},
	{Name: "days_trial", Measure: signal.ActiveDays, Window: "5d after Trial Started"},
	{Name: "report_days", Measure: signal.ActiveDays, Events: []string{"Report Viewed"}, Window: "30d"},
	{Name: "streak", Measure: signal.Streak},
	{Name: "users", Measure: signal.ActiveUsers, Window: "14d"},
	{Name: "seen", Measure: signal.DaysSinceSeen},
	{Name: "pricing", Measure: signal.Count, Pages: []string{"Pricing"}},
	{Name: "seat_limits", Measure: signal.Count, Events: []string{"Limit Reached"}, Where: map[string]any{"limit": "seats"}},
	{Name: "state", Measure: signal.LatestEvent, Events: []string{"Plan Upgraded", "Subscription Cancelled"}},
	{Name: "trend", Measure: signal.Trend, Window: "7d", Baseline: "28d"},
	{Name: "quota", Measure: signal.Quota, Used: "calls_month", Limit: "api_calls"},
}

var now = time.Date(2026, 3, 20, 12, 0, 0, 0, time.UTC)

func ev(days int, typ, name string, props map[string]any) event.Event {
	p, _ := json.Marshal(props)
	return event.Event{Type: typ, Name: name, Timestamp: now.Add(-time.Duration(days*24) * time.Hour), Properties: p}
}

// history is two users' month: every measure has something to read.
func history() []event.Event {
	var evs []event.Event
	for d := 40; d >= 0; d -= 3 {
		evs = append(evs, ev(d, event.Track, "Signed In", nil))
	}
	for _, d := range []int{38, 20, 5, 2} {
		evs = append(evs, ev(d, event.Track, "Invite Sent", nil))
	}
	for i, d := range []int{30, 12, 4, 1, 1} {
		evs = append(evs, ev(d, event.Track, "API Calls Metered", map[string]any{"calls": float64(100 * (i + 1))}))
		evs = append(evs, ev(d, event.Track, "Report Viewed", map[string]any{"feature": fmt.Sprint("f", i%3)}))
	}
	evs = append(evs, ev(25, event.Track, "Trial Started", nil), ev(24, event.Track, "Limit Reached", map[string]any{"limit": "seats"}),
		ev(23, event.Track, "Limit Reached", map[string]any{"limit": "projects"}), ev(22, event.Page, "Pricing", nil),
		ev(10, event.Track, "Plan Upgraded", nil), ev(3, event.Track, "Subscription Cancelled", nil),
		ev(3, event.Identify, "", nil))
	for d := 9; d >= 3; d-- {
		evs = append(evs, ev(d, event.Track, "Dashboard Shared", nil))
	}
	return evs
}

func eval(t *testing.T, set *signal.Set, r *signal.Rollups, keys ...string) map[string]signal.Value {
	t.Helper()
	actors := make([]*signal.Actor, len(keys))
	for i, k := range keys {
		actors[i] = r.Actor(k)
	}
	// Room a previous subject's values fill: every value must be this
	// subject's.
	room := make([]signal.Value, len(set.Defs)+1)
	for i := range room {
		room[i] = signal.Value{Num: 99, Str: "stale"}
	}
	vals := set.Eval(signal.Input{Actors: actors, Now: signal.Day(now), Members: len(keys),
		Limit: func(string) float64 { return 1000 }}, room)
	out := map[string]signal.Value{}
	for i, d := range set.Defs {
		out[d.Name] = vals[i]
	}
	return out
}

// What the rollups say does not depend on the order events arrive in, on
// whether some were first seen as a visitor's, or on pruning.
func TestOrderIndependence(t *testing.T) {
	set, err := signal.Compile(specs, nil)
	if err != nil {
		t.Fatal(err)
	}
	evs := history()
	inOrder := signal.NewRollups(set)
	for i := range evs {
		inOrder.Add("1", &evs[i])
	}
	want := eval(t, set, inOrder, "1")
	for seed := range uint64(20) {
		r := signal.NewRollups(set)
		shuffled := append([]event.Event(nil), evs...)
		rand.New(rand.NewPCG(seed, 1)).Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		for i := range shuffled {
			if i%3 == 0 {
				r.AddVisitor("visitor", &shuffled[i])
				continue
			}
			r.Add("1", &shuffled[i])
		}
		r.Merge("1", "visitor")
		r.Prune(signal.Day(now))
		if got := eval(t, set, r, "1"); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("seed %d:\n got %v\nwant %v", seed, got, want)
		}
	}
	for name, v := range map[string]signal.Value{
		"invites": {Num: 4}, "invites_7d": {Num: 2}, "invites_first": {Num: 1}, "calls_month": {Num: 1400},
		"calls_max": {Num: 500}, "features": {Num: 3}, "features_7d": {Num: 3}, "pricing": {Num: 1},
		"seat_limits": {Num: 1}, "state": {Str: "Subscription Cancelled"}, "quota": {Num: 1.4}, "seen": {Num: 1},
		"streak": {Num: 10}, "users": {Num: 1}, "days_trial": {Num: 4},
		"trend": {Num: 6 / 4.25}, // 6 active days in the last 7 against 17 in the 28 before
	} {
		if fmt.Sprint(want[name]) != fmt.Sprint(v) {
			t.Errorf("%s = %v, want %v", name, want[name], v)
		}
	}
}

// A trend compares a subject with the life it has had: before a window's
// worth of history it is 1 (0 when idle), after that the baseline counts only
// days since the subject began.
func TestTrendOfYoungSubjects(t *testing.T) {
	set, err := signal.Compile([]signal.Spec{{Name: "trend", Measure: signal.Trend, Window: "7d", Baseline: "28d"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		days []int // days ago with activity
		want float64
	}{
		{[]int{9, 3}, 1}, // 3 days of history before the window
		{[]int{13, 12, 11, 10, 9, 8, 7, 2}, 1.0 / 7}, // 1 active day now against 7 in the 7 days before
		{[]int{20, 19, 18, 17, 16, 15, 14, 6, 5, 4, 3, 2, 1, 0}, 7 / (7.0 * 7 / 14)},
		{[]int{30}, 0}, // idle for the window
	} {
		r := signal.NewRollups(set)
		for _, d := range tc.days {
			e := ev(d, event.Track, "Signed In", nil)
			r.Add("1", &e)
		}
		if got := eval(t, set, r, "1")["trend"].Num; got != tc.want {
			t.Errorf("active %v days ago: trend %g, want %g", tc.days, got, tc.want)
		}
	}
}

// Visitors are kept in short, keyed by their id as it came: a UUID differing
// only in case, or in one digit, is someone else; merging one counts exactly
// its events; the daily sweep forgets only those gone quiet.
func TestVisitors(t *testing.T) {
	set, err := signal.Compile(specs, nil)
	if err != nil {
		t.Fatal(err)
	}
	evs := history()
	ids := []string{
		"0f8fad5b-d9cb-469f-a165-70867728950e",
		"0F8FAD5B-D9CB-469F-A165-70867728950E",
		"0f8fad5b-d9cb-469f-a165-70867728950f",
		"0f8fad5b+d9cb-469f-a165-70867728950e",
		"visitor-7",
		"",
	}
	r := signal.NewRollups(set)
	direct := signal.NewRollups(set)
	for i := range evs {
		id := ids[i%len(ids)]
		r.AddVisitor(id, &evs[i])
		direct.Add(id, &evs[i])
	}
	if r.Len() != len(ids) {
		t.Fatalf("%d visitors held, want %d", r.Len(), len(ids))
	}
	for i, id := range ids {
		user := fmt.Sprint("user", i)
		if !r.Visiting(id) {
			t.Fatalf("visitor %q not held", id)
		}
		r.Merge(user, id)
		if r.Visiting(id) {
			t.Fatalf("visitor %q still held after the merge", id)
		}
		got, want := eval(t, set, r, user), eval(t, set, direct, id)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("visitor %q merged:\n got %v\nwant %v", id, got, want)
		}
	}
	quiet, recent := ev(40, event.Page, "Pricing", nil), ev(2, event.Page, "Pricing", nil)
	r.AddVisitor("quiet", &quiet)
	r.AddVisitor("recent", &recent)
	if n := r.DropVisitors(signal.Day(now) - 30); n != 1 || r.Visiting("quiet") || !r.Visiting("recent") {
		t.Errorf("sweep dropped %d; quiet held %v, recent held %v", n, r.Visiting("quiet"), r.Visiting("recent"))
	}
}

// Matching batches apart from the rollups (with their properties decoded
// once per distinct object, into recycled room) counts what adding each
// event counts.
func TestMatchedEqualsAdded(t *testing.T) {
	set, err := signal.Compile(specs, nil)
	if err != nil {
		t.Fatal(err)
	}
	evs := history()
	shared := []byte(`{"feature":"f9","calls":"250"}`)
	for _, raw := range [][]byte{shared, shared, []byte(`[1]`), []byte(`[1]`), []byte(`{"feature":`), []byte(`{"limit":"seats"}`)} {
		for _, name := range []string{"Report Viewed", "API Calls Metered", "Limit Reached"} {
			evs = append(evs, event.Event{Type: event.Track, Name: name, Timestamp: now.Add(-time.Hour), Properties: raw})
		}
	}
	added, matched := signal.NewRollups(set), signal.NewRollups(set)
	for i := range evs {
		added.Add("1", &evs[i])
	}
	// In batches of three sizes, each matched into the room of the last.
	for from, to := range map[int]int{0: 30, 30: 31, 31: len(evs)} {
		m := set.Match(evs[from:to])
		for i := range to - from {
			matched.AddMatched("1", m, i)
		}
		set.Recycle(m)
	}
	want, got := eval(t, set, added, "1"), eval(t, set, matched, "1")
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("matched:\n got %v\nwant %v", got, want)
	}
	// The shared properties counted each time: f9 is a fourth feature,
	// and "250" calls came twice.
	if want["features"].Num != 4 || want["calls_month"].Num != 1400+2*250 || want["seat_limits"].Num != 2 {
		t.Fatalf("features %v, calls_month %v, seat_limits %v", want["features"], want["calls_month"], want["seat_limits"])
	}
}

// Matched for known users only, an event of no user is left unmatched, and
// the others count as Match counts them.
func TestMatchUsersSkipsVisitors(t *testing.T) {
	set, err := signal.Compile(specs, nil)
	if err != nil {
		t.Fatal(err)
	}
	evs := history()
	users := make([]string, len(evs))
	for i := range users {
		if i%3 != 0 {
			users[i] = "1"
		}
	}
	added, matched := signal.NewRollups(set), signal.NewRollups(set)
	m := set.MatchUsers(evs, users)
	defer set.Recycle(m)
	for i := range evs {
		if users[i] == "" {
			matched.AddMatched("2", m, i) // what it would count, were it matched
			continue
		}
		added.Add("1", &evs[i])
		matched.AddMatched("1", m, i)
	}
	if got, want := fmt.Sprint(eval(t, set, matched, "1")), fmt.Sprint(eval(t, set, added, "1")); got != want {
		t.Fatalf("known users' events:\n got %s\nwant %s", got, want)
	}
	if got, none := fmt.Sprint(eval(t, set, matched, "2")), fmt.Sprint(eval(t, set, matched, "nobody")); got != none {
		t.Fatalf("events of no user were matched:\n got %s\nwant %s", got, none)
	}
}

// An event AddMatched reports as the same moves no signal, and one that
// moves a signal is never reported so: every measure of specs is read
// before and after each event of a history, and of events repeating days
// and names the history already holds.
func TestSameMovesNoSignal(t *testing.T) {
	set, err := signal.Compile(specs, nil)
	if err != nil {
		t.Fatal(err)
	}
	evs := history()
	evs = append(evs,
		ev(40, event.Track, "Signed In", nil),    // a day already active, no counter
		ev(1, event.Track, "Report Viewed", nil), // likewise, with a counter's event but no value
		ev(1, event.Page, "Docs", nil),           // a page no counter reads
		ev(2, event.Track, "Invite Sent", nil),   // a counter hit
		ev(7, event.Track, "Signed In", nil),     // a day not active yet
		ev(1, event.Identify, "", nil),           // not usage
		ev(40, event.Track, "Signed In", nil))    // again
	r := signal.NewRollups(set)
	m := set.Match(evs)
	defer set.Recycle(m)
	sames := 0
	for i := range evs {
		before := fmt.Sprint(eval(t, set, r, "1"))
		same := !r.AddMatched("1", m, i).Reaches(nil)
		after := fmt.Sprint(eval(t, set, r, "1"))
		if same && before != after {
			t.Fatalf("event %d (%s %q, day -%d) reported the same, but moved signals:\n%s\n%s",
				i, evs[i].Type, evs[i].Name, int(now.Sub(evs[i].Timestamp).Hours()/24), before, after)
		}
		if same {
			sames++
		}
	}
	if sames < 3 {
		t.Fatalf("%d events reported the same, want at least the three repeats", sames)
	}
	for _, c := range []struct {
		name string
		e    event.Event
		same bool
	}{
		{"usage on an active day", ev(40, event.Track, "Signed In", nil), true},
		{"usage on a new day", ev(50, event.Track, "Signed In", nil), false},
		{"a counter's event on an active day", ev(40, event.Track, "Invite Sent", nil), false},
		{"not usage", ev(40, event.Identify, "", nil), false},
	} {
		m := set.Match([]event.Event{c.e})
		if got := !r.AddMatched("1", m, 0).Reaches(nil); got != c.same {
			t.Errorf("%s: same %v, want %v", c.name, got, c.same)
		}
		set.Recycle(m)
	}
}

// An event that does not reach what a signal moves with leaves the signal
// as it was: for each signal alone, its value is read before and after each
// event of a history with repeats, in its order and shuffled (so that days
// come before a user's first). Each signal is left alone by some events.
func TestReachesWhatMoves(t *testing.T) {
	set, err := signal.Compile(specs, nil)
	if err != nil {
		t.Fatal(err)
	}
	reads := make([]*signal.Reads, len(set.Defs))
	for i, d := range set.Defs {
		reads[i] = set.ReadsOf(set.Needs([]string{d.Name}))
	}
	evs := append(history(),
		ev(40, event.Track, "Signed In", nil), ev(1, event.Track, "Invite Sent", nil),
		ev(1, event.Track, "Report Viewed", map[string]any{"feature": "f9"}), ev(60, event.Track, "Signed In", nil),
		ev(2, event.Track, "API Calls Metered", map[string]any{"calls": 5.0}), ev(22, event.Page, "Pricing", nil))
	missed := map[string]int{}
	for seed := range uint64(6) {
		order := append([]event.Event(nil), evs...)
		if seed > 0 {
			rand.New(rand.NewPCG(seed, 7)).Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		}
		r := signal.NewRollups(set)
		m := set.Match(order)
		for i := range order {
			before := eval(t, set, r, "1")
			moved := r.AddMatched("1", m, i)
			after := eval(t, set, r, "1")
			for j, d := range set.Defs {
				if moved.Reaches(reads[j]) {
					continue
				}
				missed[d.Name]++
				if before[d.Name] != after[d.Name] {
					t.Fatalf("order %d, event %d (%s %q, day -%d) does not reach %s, but moved it: %v -> %v", seed, i,
						order[i].Type, order[i].Name, int(now.Sub(order[i].Timestamp).Hours()/24), d.Name, before[d.Name], after[d.Name])
				}
			}
		}
		set.Recycle(m)
	}
	for _, d := range set.Defs {
		if missed[d.Name] == 0 {
			t.Errorf("every event reached %s", d.Name)
		}
	}
}

// Active users of an event: of three users, one invited in the last 14
// days, one only signed in, one invited three weeks ago; 1 invited within
// the window, 2 were active in it.
func TestActiveUsersOfAnEvent(t *testing.T) {
	set, err := signal.Compile([]signal.Spec{
		{Name: "inviters", Measure: signal.ActiveUsers, Events: []string{"Invite Sent"}, Window: "14d"},
		{Name: "active", Measure: signal.ActiveUsers, Window: "14d"},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	r := signal.NewRollups(set)
	for _, x := range []struct {
		user string
		e    event.Event
	}{{"1", ev(2, event.Track, "Invite Sent", nil)}, {"2", ev(1, event.Track, "Signed In", nil)}, {"3", ev(21, event.Track, "Invite Sent", nil)}} {
		r.Add(x.user, &x.e)
	}
	got := eval(t, set, r, "1", "2", "3")
	if got["inviters"].Num != 1 || got["active"].Num != 2 {
		t.Errorf("inviters %v, active %v; want 1 and 2", got["inviters"], got["active"])
	}
	if _, err := signal.Compile([]signal.Spec{{Name: "x", Measure: signal.ActiveUsers, Events: []string{"A"}}}, nil); err == nil {
		t.Error("active users of an event over all time: accepted; want a window asked for")
	}
}

package identity_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"reflect"
	"testing"
	"time"

	"github.com/beaconplg/beacon/internal/event"
	"github.com/beaconplg/beacon/internal/identity"
	"github.com/beaconplg/beacon/internal/store"
	"github.com/beaconplg/beacon/internal/store/storetest"
)

var t0 = time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)

// msg builds a Segment message the way an SDK would send it.
func msg(t *testing.T, n int, m map[string]any) event.Event {
	t.Helper()
	if _, ok := m["messageId"]; !ok {
		m["messageId"] = fmt.Sprintf("m-%d", n)
	}
	if _, ok := m["timestamp"]; !ok {
		m["timestamp"] = t0.Add(time.Duration(n) * time.Minute).Format(time.RFC3339)
	}
	raw, _ := json.Marshal(m)
	e, _, err := event.Decode(raw, "", event.Envelope{ReceivedAt: t0})
	if err != nil {
		t.Fatalf("message %d: %v", n, err)
	}
	return e
}

type world struct {
	t   *testing.T
	db  *store.DB
	svc *identity.Service
	n   int
}

func newWorld(t *testing.T, db *store.DB) *world {
	return &world{t: t, db: db, svc: identity.New(db, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)}
}

func (w *world) send(ms ...map[string]any) {
	w.t.Helper()
	evs := make([]event.Event, len(ms))
	for i, m := range ms {
		w.n++
		evs[i] = msg(w.t, w.n, m)
	}
	if _, err := w.db.AppendEvents(context.Background(), evs); err != nil {
		w.t.Fatal(err)
	}
	w.sync()
}

// visible waits until the stream shows all w.n events (PostgreSQL passes
// none while an older transaction, another test's, still runs) and
// returns the cursor of the last.
func (w *world) visible() store.Cursor {
	w.t.Helper()
	deadline := time.Now().Add(storetest.HangGuard)
	var end store.Cursor
	for seen := 0; seen < w.n; {
		evs, next, err := w.db.EventsAfter(context.Background(), end, 10000)
		if err != nil || time.Now().After(deadline) {
			w.t.Fatalf("stream shows %d of %d events (%v)", seen, w.n, err)
		}
		seen, end = seen+len(evs), next
		if len(evs) == 0 {
			time.Sleep(5 * time.Millisecond)
		}
	}
	return end
}

// sync waits for the projection to take every event sent, once the stream
// shows all of them.
func (w *world) sync() {
	w.t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(storetest.HangGuard)
	end := w.visible()
	for w.cursor() != end {
		if _, err := w.svc.Sync(ctx); err != nil {
			w.t.Fatal(err)
		}
		if time.Now().After(deadline) {
			w.t.Fatal("projection did not catch up")
		}
	}
}

func (w *world) cursor() store.Cursor {
	var c store.Cursor
	_ = w.db.Project(context.Background(), func(tx store.IdentityTx) (err error) {
		c, err = tx.Cursor(context.Background(), "identity")
		return err
	})
	return c
}

// links returns a user's memberships as "account/method/confidence".
func (w *world) links(uid string) []string {
	w.t.Helper()
	ms, err := w.db.UserAccounts(context.Background(), uid)
	if err != nil {
		w.t.Fatal(err)
	}
	out := []string{}
	for _, m := range ms {
		out = append(out, fmt.Sprintf("%s/%s/%.2f", m.AccountID, m.Method, m.Confidence))
	}
	return out
}

var crm = []identity.CRMAccount{
	{ID: "001", Name: "Acme Inc.", Domains: []string{"acme.com", "https://www.acme.io/"}, Owner: "dana@seller.example", Employees: 800, Industry: "Manufacturing", OpenOpportunity: true},
	{ID: "002", Name: "Globex Corporation", Domains: []string{"globex.example"}, Owner: "eli@seller.example", Employees: 120},
	{ID: "003", Name: "Initech, LLC", Owner: "fay@seller.example", Named: true},
}

func identify(uid, email string, traits ...any) map[string]any {
	tr := map[string]any{"email": email}
	for i := 0; i+1 < len(traits); i += 2 {
		tr[traits[i].(string)] = traits[i+1]
	}
	return map[string]any{"type": "identify", "userId": uid, "traits": tr}
}

func TestResolution(t *testing.T) {
	tests := []struct {
		name     string
		withCRM  bool
		messages []map[string]any
		user     string
		want     []string
	}{
		{"explicit group call", false, []map[string]any{
			identify("u1", "ann@gmail.com"),
			{"type": "group", "userId": "u1", "groupId": "ws-1", "traits": map[string]any{"name": "Acme"}},
		}, "u1", []string{"ws-1/group/1.00"}},
		{"context.groupId on a track call", false, []map[string]any{
			{"type": "track", "userId": "u2", "event": "Report Viewed", "context": map[string]any{"groupId": "ws-2"}},
		}, "u2", []string{"ws-2/group/1.00"}},
		{"several groups", false, []map[string]any{
			{"type": "group", "userId": "u3", "groupId": "ws-a"},
			{"type": "group", "userId": "u3", "groupId": "ws-b"},
		}, "u3", []string{"ws-a/group/1.00", "ws-b/group/1.00"}},
		{"email domain owned by a CRM account", true, []map[string]any{
			identify("u4", "bob@acme.com"),
		}, "u4", []string{"crm:001/domain/0.90"}},
		{"second CRM domain, case and www folded", true, []map[string]any{
			identify("u5", "Cy@ACME.IO"),
		}, "u5", []string{"crm:001/domain/0.90"}},
		{"company name spelled differently", true, []map[string]any{
			identify("u6", "dee@gmail.com", "company", "ACME, Inc"),
		}, "u6", []string{"crm:001/name/1.00"}},
		{"company name with a typo", true, []map[string]any{
			identify("u7", "ed@yahoo.com", "company", map[string]any{"name": "Globexx Corp"}),
		}, "u7", []string{"crm:002/name/0.97"}},
		{"a near name is not a match", true, []map[string]any{
			identify("u8", "flo@gmail.com", "company", "Acne Studios"),
		}, "u8", []string{"user:u8/individual/1.00"}},
		{"personal address and no group", false, []map[string]any{
			identify("u9", "gus@hotmail.com"),
		}, "u9", []string{"user:u9/individual/1.00"}},
		{"disposable address is personal too", false, []map[string]any{
			identify("u10", "hal@mailinator.com"),
		}, "u10", []string{"user:u10/individual/1.00"}},
		{"new business domain becomes an account", false, []map[string]any{
			identify("u11", "ida@newco.example"),
		}, "u11", []string{"domain:newco.example/domain/0.80"}},
		{"group wins over inferred links", false, []map[string]any{
			identify("u12", "jo@gmail.com"),
			{"type": "track", "userId": "u12", "event": "Project Created", "context": map[string]any{"groupId": "ws-12"}},
		}, "u12", []string{"ws-12/group/1.00"}},
		{"workspace domain claims colleagues", false, []map[string]any{
			{"type": "group", "userId": "admin", "groupId": "ws-13", "traits": map[string]any{"website": "https://umbrella.example"}},
			identify("u13", "kim@umbrella.example"),
		}, "u13", []string{"ws-13/domain/0.90"}},
	}
	names := make([]string, len(tests))
	for i, tc := range tests {
		names[i] = tc.name
	}
	inWorlds(t, names, func(t *testing.T, i int, w *world) {
		tc := tests[i]
		if tc.withCRM {
			if err := w.svc.ImportCRM(context.Background(), crm); err != nil {
				t.Fatal(err)
			}
		}
		w.send(tc.messages...)
		if got := w.links(tc.user); !reflect.DeepEqual(got, tc.want) {
			t.Fatalf("links of %s = %v, want %v", tc.user, got, tc.want)
		}
	})
}

// inWorlds runs fn for each case, each in a fresh world of its own, in
// parallel, on each engine.
func inWorlds(t *testing.T, cases []string, fn func(t *testing.T, i int, w *world)) {
	for _, e := range storetest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			for i, name := range cases {
				t.Run(name, func(t *testing.T) {
					t.Parallel()
					fn(t, i, newWorld(t, e.Open(t)))
				})
			}
		})
	}
}

func TestIdentityLifecycle(t *testing.T) {
	for _, e := range storetest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			db := e.Open(t)
			w := newWorld(t, db)

			// Pre-signup page views belong to the user once identified.
			w.send(map[string]any{"type": "page", "anonymousId": "anon-1", "name": "Pricing"},
				map[string]any{"type": "page", "anonymousId": "anon-1", "name": "Home"})
			w.send(map[string]any{"type": "identify", "userId": "u1", "anonymousId": "anon-1",
				"traits": map[string]any{"email": "lee@stark.example", "plan": "free"}})
			w.send(map[string]any{"type": "track", "anonymousId": "anon-1", "event": "Doc Opened"})
			evs, err := db.UserEvents(ctx, "u1", 10)
			if err != nil || len(evs) != 4 {
				t.Fatalf("u1 has %d events (%v), want the 2 page views, the identify and the later track", len(evs), err)
			}

			// A shared device: another user's identified events with the same
			// anonymous id are theirs, not u1's.
			w.send(map[string]any{"type": "track", "userId": "u4", "anonymousId": "anon-1", "event": "Doc Opened"})
			if evs, err := db.UserEvents(ctx, "u1", 10); err != nil || len(evs) != 4 {
				t.Fatalf("u1 has %d events (%v) after u4 used its device, want 4", len(evs), err)
			}
			if evs, err := db.UserEvents(ctx, "u4", 10); err != nil || len(evs) != 1 {
				t.Fatalf("u4 has %d events (%v), want its own 1", len(evs), err)
			}

			// last_seen moves by at least a minute at a time: closer events
			// would rewrite the user's row with each one.
			u, err := db.User(ctx, "u4")
			if err != nil {
				t.Fatal(err)
			}
			seen := u.LastSeen
			for _, tc := range []struct {
				after time.Duration
				want  time.Time
			}{
				{30 * time.Second, seen},
				{identity.LastSeenGrain - time.Second, seen},
				{identity.LastSeenGrain, seen.Add(identity.LastSeenGrain)},
			} {
				w.send(map[string]any{"type": "track", "userId": "u4", "event": "Doc Opened",
					"timestamp": seen.Add(tc.after).Format(time.RFC3339Nano)})
				if u, err := db.User(ctx, "u4"); err != nil || !u.LastSeen.Equal(tc.want) {
					t.Fatalf("an event %v after last_seen %v: last_seen = %v (%v), want %v", tc.after, seen, u.LastSeen, err, tc.want)
				}
			}

			// Traits: the latest timestamp wins, an older message only fills gaps.
			w.send(map[string]any{"type": "identify", "userId": "u1", "timestamp": t0.Add(-24 * time.Hour).Format(time.RFC3339),
				"traits": map[string]any{"plan": "OLD", "title": "CTO"}})
			u, err = db.User(ctx, "u1")
			if err != nil || u.Traits["plan"] != "free" || u.Traits["title"] != "CTO" || u.Email != "lee@stark.example" {
				t.Fatalf("traits after an older identify: %+v (%v)", u.Traits, err)
			}
			if want := t0.Add(-24 * time.Hour); !u.FirstSeen.Equal(want) {
				t.Fatalf("first seen = %v, want %v", u.FirstSeen, want)
			}

			// A colleague lands on the same inferred domain account.
			w.send(identify("u2", "max@stark.example"))
			if got := w.links("u2"); !reflect.DeepEqual(got, []string{"domain:stark.example/domain/0.80"}) {
				t.Fatalf("u2 links = %v", got)
			}

			// The CRM takes the domain over: both move, the inferred account goes.
			if err := w.svc.ImportCRM(ctx, []identity.CRMAccount{{ID: "900", Name: "Stark Industries", Domains: []string{"stark.example"}}}); err != nil {
				t.Fatal(err)
			}
			for _, uid := range []string{"u1", "u2"} {
				if got := w.links(uid); !reflect.DeepEqual(got, []string{"crm:900/domain/0.90"}) {
					t.Fatalf("%s links after CRM import = %v", uid, got)
				}
			}
			if _, err := db.Account(ctx, "domain:stark.example"); err == nil {
				t.Fatal("the emptied domain account is still there")
			}

			// A workspace whose name matches the CRM is linked to it.
			w.send(map[string]any{"type": "group", "userId": "u3", "groupId": "ws-9", "traits": map[string]any{"name": "STARK industries, inc."}})
			a, err := db.Account(ctx, "ws-9")
			if err != nil || a.CRMID != "crm:900" || a.CRMMethod != "name" || a.CRMConfidence != 1 {
				t.Fatalf("workspace link: %+v (%v)", a, err)
			}

			s, err := db.Stats(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if s.Users != 4 || s.CRMMatched != 3 || s.UsersByMethod["domain"] != 2 || s.UsersByMethod["group"] != 1 {
				t.Fatalf("stats = %+v", s)
			}

			// A restarted service resumes from its cursor and changes nothing.
			again := identity.New(db, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
			if n, err := again.Sync(ctx); err != nil || n != 0 {
				t.Fatalf("resync took %d events (%v), want 0", n, err)
			}
		})
	}
}

func TestNormalizeCompany(t *testing.T) {
	for in, want := range map[string]string{
		"Acme Inc.":              "acme",
		"ACME, Inc":              "acme",
		"Acme Corporation":       "acme",
		"The Acme Company, LLC":  "acme",
		"Smith & Sons Ltd":       "smith and sons",
		"Initech GmbH":           "initech",
		"S.A.P. SE":              "sap se",
		"The Company":            "the company",
		"  Globex   Corp.  ":     "globex",
		"Müller Maschinenbau AG": "müller maschinenbau",
	} {
		if got := identity.NormalizeCompany(in); got != want {
			t.Errorf("NormalizeCompany(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestPersonalDomains(t *testing.T) {
	for d, want := range map[string]bool{
		"gmail.com": true, "outlook.com": true, "yahoo.com": true, "protonmail.com": true,
		"mailinator.com": true, "acme.com": false, "stripe.com": false,
	} {
		if got := identity.IsPersonalDomain(d); got != want {
			t.Errorf("IsPersonalDomain(%q) = %v, want %v", d, got, want)
		}
	}
	for email, want := range map[string]string{
		"a@Acme.COM": "acme.com", "no-at-sign": "", "trailing@": "", "x@localhost": "",
	} {
		if got := identity.EmailDomain(email); got != want {
			t.Errorf("EmailDomain(%q) = %q, want %q", email, got, want)
		}
	}
}

// Seed 004, PLG Infrastructure Benchmarks: "Identity resolution match rate:
// > 85% of product users matched to CRM (good), 70-85% (warning), < 70% (red flag)".
func TestMatchBands(t *testing.T) {
	for _, tc := range []struct {
		rate float64
		want string
	}{{100, "good"}, {85.1, "good"}, {85, "warning"}, {70, "warning"}, {69.9, "red flag"}, {0, "red flag"}} {
		if got := identity.Band(tc.rate); got != tc.want {
			t.Errorf("Band(%v) = %q, want %q", tc.rate, got, tc.want)
		}
	}
	m := identity.MatchOf(store.Stats{Users: 8, CRMMatched: 5,
		UsersByMethod: map[string]int64{"group": 4, "domain": 2, "individual": 2}})
	if m.Rate != 75 || m.Band != "warning" || m.CRMRate != 62.5 || m.CRMBand != "red flag" || m.ByMethod["name"] != 0 {
		t.Fatalf("match = %+v", m)
	}
}

// A projection's cache must not outlive writes made elsewhere: here a CRM
// import by another process (another Service on the same store) between two
// of its passes.
func TestCacheSeesOtherWriters(t *testing.T) {
	for _, e := range storetest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			w := newWorld(t, e.Open(t))
			w.send(identify("u1", "bob@acme.com"))
			if got := w.links("u1"); !reflect.DeepEqual(got, []string{"domain:acme.com/domain/0.80"}) {
				t.Fatalf("before import: %v", got)
			}
			other := identity.New(w.db, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
			if err := other.ImportCRM(ctx, crm); err != nil {
				t.Fatal(err)
			}
			if got := w.links("u1"); !reflect.DeepEqual(got, []string{"crm:001/domain/0.90"}) {
				t.Fatalf("after import: %v", got)
			}
			// The first service's cache still says u1 is in domain:acme.com.
			w.send(map[string]any{"type": "group", "userId": "u1", "groupId": "ws-1"}, identify("u2", "carol@acme.com"))
			if got := w.links("u1"); !reflect.DeepEqual(got, []string{"ws-1/group/1.00"}) {
				t.Fatalf("u1 after joining a workspace: %v", got)
			}
			if got := w.links("u2"); !reflect.DeepEqual(got, []string{"crm:001/domain/0.90"}) {
				t.Fatalf("u2: %v", got)
			}
		})
	}
}

// A user's first_seen is the earliest of all their events, the visits made
// before they signed up included, whether those were projected in an
// earlier pass or in the same one, tied by identify or by alias.
func TestFirstSeenCountsVisits(t *testing.T) {
	day := func(d int) string { return t0.AddDate(0, 0, d).Format(time.RFC3339) }
	tests := []struct {
		name   string
		passes [][]map[string]any
		user   string
		want   time.Time
	}{
		{"visits in an earlier pass", [][]map[string]any{
			{{"type": "page", "anonymousId": "a1", "name": "Pricing", "timestamp": day(-3)}},
			{{"type": "identify", "userId": "u1", "anonymousId": "a1", "timestamp": day(0), "traits": map[string]any{"email": "u1@x.example"}}},
		}, "u1", t0.AddDate(0, 0, -3)},
		{"visits in the same pass", [][]map[string]any{
			{{"type": "page", "anonymousId": "a2", "name": "Home", "timestamp": day(-2)},
				{"type": "track", "userId": "u2", "anonymousId": "a2", "event": "Signed Up", "timestamp": day(0)}},
		}, "u2", t0.AddDate(0, 0, -2)},
		{"tied by an alias call", [][]map[string]any{
			{{"type": "page", "anonymousId": "a3", "name": "Docs", "timestamp": day(-5)}},
			{{"type": "track", "userId": "u3", "event": "Signed Up", "timestamp": day(0)}},
			{{"type": "alias", "userId": "u3", "previousId": "a3", "timestamp": day(1)}},
		}, "u3", t0.AddDate(0, 0, -5)},
		{"a later visit leaves it", [][]map[string]any{
			{{"type": "track", "userId": "u4", "event": "Signed Up", "timestamp": day(0)}},
			{{"type": "page", "anonymousId": "a4", "name": "Docs", "timestamp": day(2)}},
			{{"type": "alias", "userId": "u4", "previousId": "a4", "timestamp": day(3)}},
		}, "u4", t0},
	}
	names := make([]string, len(tests))
	for i, tc := range tests {
		names[i] = tc.name
	}
	inWorlds(t, names, func(t *testing.T, i int, w *world) {
		tc := tests[i]
		for _, pass := range tc.passes {
			w.send(pass...)
		}
		u, err := w.db.User(context.Background(), tc.user)
		if err != nil {
			t.Fatal(err)
		}
		if !u.FirstSeen.Equal(tc.want) {
			t.Fatalf("first_seen of %s = %v, want %v", tc.user, u.FirstSeen, tc.want)
		}
	})
}

// Names and titles as Segment's identify spec sends them, and as products
// often do instead.
func TestPersonName(t *testing.T) {
	for _, tc := range []struct {
		traits      map[string]any
		name, title string
	}{
		{map[string]any{"name": "Ana Lima", "title": "CTO"}, "Ana Lima", "CTO"},
		{map[string]any{"firstName": "Bo", "lastName": "Chen"}, "Bo Chen", ""},
		{map[string]any{"first_name": "Cy", "job_title": "Head of Data"}, "Cy", "Head of Data"},
		{map[string]any{"name": "  ", "lastName": "Diaz"}, "Diaz", ""},
		{map[string]any{"email": "x@y.example"}, "", ""},
	} {
		if n, ti := identity.PersonName(tc.traits), identity.PersonTitle(tc.traits); n != tc.name || ti != tc.title {
			t.Errorf("%v: %q, %q; want %q, %q", tc.traits, n, ti, tc.name, tc.title)
		}
	}
}

// A NUL or invalid UTF-8 in a trait identity stores in a column of its own
// (names, emails, companies, domains, industries) is replaced with U+FFFD,
// the same on both engines: PostgreSQL refuses NUL in text, and one such
// event stopped the projection for good. The events after it are projected.
func TestPoisonTraits(t *testing.T) {
	tests := []struct {
		name    string
		message map[string]any
		check   func(t *testing.T, w *world)
	}{
		{"group name", map[string]any{"type": "group", "userId": "p1", "groupId": "g1", "traits": map[string]any{"name": "G\u0000"}},
			func(t *testing.T, w *world) {
				wantAccount(t, w, "g1", func(a store.Account) bool { return a.Name == "G\uFFFD" })
			}},
		{"group domain", map[string]any{"type": "group", "userId": "p1", "groupId": "g1", "traits": map[string]any{"domain": "evil\u0000.example"}},
			func(t *testing.T, w *world) {
				wantAccount(t, w, "g1", func(a store.Account) bool { return len(a.Domains) == 0 })
			}},
		{"group website", map[string]any{"type": "group", "userId": "p1", "groupId": "g1", "traits": map[string]any{"website": "https://x\u0000.example"}},
			func(t *testing.T, w *world) {
				wantAccount(t, w, "g1", func(a store.Account) bool { return len(a.Domains) == 0 })
			}},
		{"group industry", map[string]any{"type": "group", "userId": "p1", "groupId": "g1", "traits": map[string]any{"industry": "Soft\u0000ware"}},
			func(t *testing.T, w *world) {
				wantAccount(t, w, "g1", func(a store.Account) bool { return a.Industry == "Soft\uFFFDware" })
			}},
		{"identify email", identify("p1", "a\u0000@x.example"),
			func(t *testing.T, w *world) {
				wantUser(t, w, "p1", func(u store.User) bool { return u.Email == "a\uFFFD@x.example" })
			}},
		{"identify company", identify("p1", "a@gmail.com", "company", "Acme\u0000"),
			func(t *testing.T, w *world) {
				wantUser(t, w, "p1", func(u store.User) bool { return u.Company == "Acme\uFFFD" })
			}},
		{"identify company object", identify("p1", "a@gmail.com", "company", map[string]any{"name": "Acme\u0000"}),
			func(t *testing.T, w *world) {
				wantUser(t, w, "p1", func(u store.User) bool { return u.Company == "Acme\uFFFD" })
			}},
	}
	names := make([]string, len(tests))
	for i, tc := range tests {
		names[i] = tc.name
	}
	inWorlds(t, names, func(t *testing.T, i int, w *world) {
		w.send(tests[i].message)
		w.send(identify("canary", "canary@canary.example")) // projected after it
		if _, err := w.db.User(context.Background(), "canary"); err != nil {
			t.Fatalf("the event after the poison was not projected: %v", err)
		}
		tests[i].check(t, w)
	})
}

func wantAccount(t *testing.T, w *world, id string, ok func(store.Account) bool) {
	t.Helper()
	a, err := w.db.Account(context.Background(), id)
	if err != nil || !ok(a) {
		t.Fatalf("account %s: %+v (%v)", id, a, err)
	}
}

func wantUser(t *testing.T, w *world, id string, ok func(store.User) bool) {
	t.Helper()
	u, err := w.db.User(context.Background(), id)
	if err != nil || !ok(u) {
		t.Fatalf("user %s: %+v (%v)", id, u, err)
	}
}

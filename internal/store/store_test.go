package store_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/beaconplg/beacon/internal/event"
	"github.com/beaconplg/beacon/internal/store"
	"github.com/beaconplg/beacon/internal/store/storetest"
)

// The contract: every engine passes every test here.
func TestContract(t *testing.T) {
	tests := []struct {
		name string
		fn   func(t *testing.T, db *store.DB)
	}{
		{"migrate is repeatable", testMigrateTwice},
		{"keys", testKeys},
		{"append dedups on messageId", testAppendDedup},
		{"event fields round trip", testEventFields},
		{"concurrent writers lose nothing", testConcurrentAppends},
		{"two handles on one store share dedup", testTwoHandles},
		{"projection commits or rolls back whole", testProjectAtomic},
		{"identity rows round trip", testIdentityRows},
		{"stats count users by strongest method", testStats},
		{"user events include pre-signup anonymous events", testUserEvents},
		{"timelines span the store's parts", testTimelineParts},
		{"identity reads only the bodies it merges and those the signals ask for", testIdentityEventsAfter},
		{"aliases and links are written many at once", testBulkLinks},
		{"score states carry the digest, not the JSON", testScoreStates},
		{"refreshed scores keep their rank", testScoreRefreshed},
		{"queue sorts break ties by momentum, active users, time in tier and activity", testQueueSorts},
		{"my queue is what I own or was assigned", testQueueMine},
		{"holds leave the queue until their date or a rise", testQueueHolds},
		{"a hold keeps the tier it was made in", testHoldTier},
		{"notes are kept newest first", testNotes},
		{"a CRM account lists its linked workspaces", testLinkedAccounts},
		{"scores as they were a week ago", testScoresAt},
	}
	for _, e := range storetest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			for _, tc := range tests {
				t.Run(tc.name, func(t *testing.T) {
					t.Parallel()
					tc.fn(t, e.Open(t))
				})
			}
		})
	}
}

func testMigrateTwice(t *testing.T, db *store.DB) {
	ctx := context.Background()
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	names, err := db.Migrations(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(names) == 0 || names[0] != "0001_core.sql" {
		t.Fatalf("applied migrations = %v", names)
	}
}

func testKeys(t *testing.T, db *store.DB) {
	ctx := context.Background()
	k, err := db.CreateKey(ctx, store.Key{Kind: store.WriteKey, Name: "web", Hash: []byte("h1"), Prefix: "bk_w"})
	if err != nil || k.ID == 0 {
		t.Fatalf("create: %v %+v", err, k)
	}
	got, err := db.KeyByHash(ctx, []byte("h1"))
	if err != nil || got.ID != k.ID || got.Kind != store.WriteKey || got.Name != "web" {
		t.Fatalf("by hash: %v %+v", err, got)
	}
	if _, err := db.CreateKey(ctx, store.Key{Kind: store.AdminKey, Hash: []byte("h1")}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("duplicate hash: %v, want ErrConflict", err)
	}
	if _, err := db.KeyByHash(ctx, []byte("nope")); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown hash: %v, want ErrNotFound", err)
	}
	// Use is recorded forward only; revocation keeps its earlier end.
	at := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	if err := errors.Join(db.TouchKey(ctx, k.ID, at), db.TouchKey(ctx, k.ID, at.Add(-time.Hour))); err != nil {
		t.Fatal(err)
	}
	if r, err := db.RevokeKey(ctx, k.ID, at.Add(24*time.Hour)); err != nil || !r.RevokedAt.Equal(at.Add(24*time.Hour)) ||
		!r.Usable(at) || r.Usable(at.Add(25*time.Hour)) {
		t.Fatalf("revoke in a day: %+v (%v)", r, err)
	}
	if r, err := db.RevokeKey(ctx, k.ID, at.Add(48*time.Hour)); err != nil || !r.RevokedAt.Equal(at.Add(24*time.Hour)) {
		t.Fatalf("a later revocation moved the end: %+v (%v)", r, err)
	}
	if _, err := db.RevokeKey(ctx, 999, at); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("revoke no key: %v", err)
	}
	ks, err := db.Keys(ctx)
	if err != nil || len(ks) != 1 || !ks[0].LastUsedAt.Equal(at) || ks[0].Prefix != "bk_w" {
		t.Fatalf("keys: %+v (%v)", ks, err)
	}
}

func track(id, user string, at time.Time) event.Event {
	return event.Event{MessageID: id, Type: event.Track, Name: "Report Viewed", UserID: user,
		Timestamp: at, ReceivedAt: at, Body: []byte(fmt.Sprintf(`{"messageId":%q,"type":"track"}`, id))}
}

// drain reads the stream until it holds want events. PostgreSQL's stream holds
// back positions while any transaction in the cluster (parallel tests
// included) is still running, so an empty read does not mean the end.
func drain(t *testing.T, db *store.DB, want int) []event.Event {
	t.Helper()
	var all []event.Event
	c := store.Cursor{}
	deadline := time.Now().Add(storetest.HangGuard)
	for len(all) < want && time.Now().Before(deadline) {
		evs, next, err := db.EventsAfter(context.Background(), c, 1000)
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) == 0 {
			time.Sleep(5 * time.Millisecond)
		}
		all, c = append(all, evs...), next
	}
	if extra, _, err := db.EventsAfter(context.Background(), c, 1000); err != nil || len(extra) > 0 {
		t.Fatalf("stream has %d events past the %d expected (%v)", len(extra), want, err)
	}
	return all
}

func testAppendDedup(t *testing.T, db *store.DB) {
	ctx := context.Background()
	now := time.Now().UTC()
	n, err := db.AppendEvents(ctx, []event.Event{track("m1", "u", now), track("m2", "u", now), track("m1", "u", now)})
	if err != nil || n != 2 {
		t.Fatalf("first append: n=%d err=%v, want 2 new", n, err)
	}
	n, err = db.AppendEvents(ctx, []event.Event{track("m2", "u", now), track("m3", "u", now)})
	if err != nil || n != 1 {
		t.Fatalf("retry append: n=%d err=%v, want 1 new", n, err)
	}
	var ids []string
	for _, e := range drain(t, db, 3) {
		ids = append(ids, e.MessageID)
	}
	if !reflect.DeepEqual(ids, []string{"m1", "m2", "m3"}) {
		t.Fatalf("stored %v", ids)
	}
}

func testEventFields(t *testing.T, db *store.DB) {
	at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	in := event.Event{MessageID: "f1", Type: event.Identify, UserID: "u1", AnonymousID: "a1", GroupID: "g1",
		Timestamp: at, OriginalTimestamp: at.Add(-time.Second), SentAt: at.Add(time.Second), ReceivedAt: at.Add(2 * time.Second),
		Body: []byte(`{"traits":{"email":"a@b.co"},"properties":{"x":1}}`)}
	if _, err := db.AppendEvents(context.Background(), []event.Event{in, {MessageID: "f2", Type: event.Alias,
		UserID: "u1", PreviousID: "a0", Timestamp: at, ReceivedAt: at, Body: []byte(`{}`)}}); err != nil {
		t.Fatal(err)
	}
	got := drain(t, db, 2)
	if len(got) != 2 {
		t.Fatalf("got %d events", len(got))
	}
	e := got[0]
	if e.Seq == 0 || e.UserID != "u1" || e.AnonymousID != "a1" || e.GroupID != "g1" || !e.Timestamp.Equal(at) ||
		!e.OriginalTimestamp.Equal(at.Add(-time.Second)) || !e.SentAt.Equal(at.Add(time.Second)) ||
		string(e.Traits) != `{"email":"a@b.co"}` || string(e.Properties) != `{"x":1}` {
		t.Fatalf("round trip: %+v", e)
	}
	if a := got[1]; a.PreviousID != "a0" || !a.SentAt.IsZero() || !a.OriginalTimestamp.IsZero() {
		t.Fatalf("alias round trip: %+v", a)
	}
}

func testConcurrentAppends(t *testing.T, db *store.DB) {
	const writers, batches, size = 6, 20, 50
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range batches {
				evs := make([]event.Event, size)
				for i := range evs {
					// every batch after the first resends one id of the batch before
					id := fmt.Sprintf("w%d-b%d-%d", w, b, i)
					if i == 0 && b > 0 {
						id = fmt.Sprintf("w%d-b%d-%d", w, b-1, 1)
					}
					evs[i] = track(id, "u", time.Now())
				}
				if _, err := db.AppendEvents(context.Background(), evs); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	want := writers * (batches*(size-1) + 1)
	all := drain(t, db, want)
	seen := map[string]bool{}
	for _, e := range all {
		if seen[e.MessageID] {
			t.Fatalf("%s delivered twice by the stream", e.MessageID)
		}
		seen[e.MessageID] = true
	}
	if len(all) != want {
		t.Fatalf("stream has %d events, want %d", len(all), want)
	}
}

func testProjectAtomic(t *testing.T, db *store.DB) {
	ctx := context.Background()
	boom := errors.New("boom")
	err := db.Project(ctx, func(tx store.IdentityTx) error {
		if err := tx.PutUser(ctx, store.User{ID: "u1", FirstSeen: time.Now(), LastSeen: time.Now()}); err != nil {
			return err
		}
		if err := tx.SetCursor(ctx, "identity", store.Cursor{Seq: 9}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
	if _, err := db.User(ctx, "u1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("rolled back user still there: %v", err)
	}
	err = db.Project(ctx, func(tx store.IdentityTx) error {
		c, err := tx.Cursor(ctx, "identity")
		if err != nil || c.Seq != 0 {
			return fmt.Errorf("cursor after rollback = %+v, %v", c, err)
		}
		return tx.SetCursor(ctx, "identity", store.Cursor{Tx: 7, Seq: 12})
	})
	if err != nil {
		t.Fatal(err)
	}
	_ = db.Project(ctx, func(tx store.IdentityTx) error {
		if c, err := tx.Cursor(ctx, "identity"); err != nil || c != (store.Cursor{Tx: 7, Seq: 12}) {
			t.Fatalf("cursor = %+v, %v", c, err)
		}
		return nil
	})
	// A cursor set without being read first in the transaction is stored
	// all the same (a relink's version had been dropped, so every start
	// relinked every workspace).
	if err := db.Project(ctx, func(tx store.IdentityTx) error {
		return tx.SetCursor(ctx, "never-read", store.Cursor{Seq: 2})
	}); err != nil {
		t.Fatal(err)
	}
	if c, err := db.Cursor(ctx, "never-read"); err != nil || c != (store.Cursor{Seq: 2}) {
		t.Fatalf("a cursor set unread = %+v, %v", c, err)
	}
}

func testIdentityRows(t *testing.T, db *store.DB) {
	ctx := context.Background()
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	u := store.User{ID: "u1", Email: "ann@acme.com", EmailDomain: "acme.com", Company: "Acme",
		Traits: map[string]any{"plan": "free"}, TraitsAt: at, FirstSeen: at, LastSeen: at.Add(time.Hour)}
	a := store.Account{ID: "crm:1", Kind: store.KindCRM, Name: "Acme Inc.", Domains: []string{"acme.com", "acme.io"},
		Traits: map[string]any{}, Owner: "dana@seller.com", Employees: 120, Industry: "Software",
		OpenOpportunity: true, Named: true, CreatedAt: at}
	m := store.Membership{UserID: "u1", AccountID: "crm:1", Method: store.MethodDomain, Confidence: 0.9, CreatedAt: at}
	err := db.Project(ctx, func(tx store.IdentityTx) error {
		return errors.Join(tx.PutUser(ctx, u), tx.PutAccount(ctx, a), tx.SetDomainOwner(ctx, "acme.com", "crm:1"),
			tx.PutMembership(ctx, m), tx.PutAlias(ctx, "anon-1", "u1"))
	})
	if err != nil {
		t.Fatal(err)
	}
	gotU, err := db.User(ctx, "u1")
	if err != nil || !reflect.DeepEqual(gotU, u) {
		t.Fatalf("user:\n got %+v\nwant %+v (%v)", gotU, u, err)
	}
	gotA, err := db.Account(ctx, "crm:1")
	if err != nil || !reflect.DeepEqual(gotA, a) {
		t.Fatalf("account:\n got %+v\nwant %+v (%v)", gotA, a, err)
	}
	ms, err := db.AccountUsers(ctx, "crm:1")
	if err != nil || len(ms) != 1 || !reflect.DeepEqual(ms[0], m) {
		t.Fatalf("memberships: %+v %v", ms, err)
	}
	_ = db.Project(ctx, func(tx store.IdentityTx) error {
		if owner, err := tx.DomainOwner(ctx, "acme.com"); err != nil || owner != "crm:1" {
			t.Errorf("domain owner = %q, %v", owner, err)
		}
		if _, err := tx.DomainOwner(ctx, "other.com"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("unknown domain: %v", err)
		}
		if id, err := tx.AliasOf(ctx, "anon-1"); err != nil || id != "u1" {
			t.Errorf("alias = %q, %v", id, err)
		}
		if ids, err := tx.UsersWithEmailDomain(ctx, "acme.com"); err != nil || !reflect.DeepEqual(ids, []string{"u1"}) {
			t.Errorf("users with domain = %v, %v", ids, err)
		}
		if n, err := tx.MemberCount(ctx, "crm:1"); err != nil || n != 1 {
			t.Errorf("member count = %d, %v", n, err)
		}
		if us, err := tx.UsersIn(ctx, []string{"nobody", "u1"}); err != nil || len(us) != 1 || !reflect.DeepEqual(us[0], u) {
			t.Errorf("users in = %+v, %v", us, err)
		}
		if as, err := tx.AliasesIn(ctx, []string{"anon-1", "anon-2"}); err != nil || !reflect.DeepEqual(as, map[string]string{"anon-1": "u1"}) {
			t.Errorf("aliases in = %v, %v", as, err)
		}
		if ms, err := tx.MembershipsIn(ctx, []string{"u1", "u2"}); err != nil || len(ms) != 1 || !reflect.DeepEqual(ms[0], m) {
			t.Errorf("memberships in = %+v, %v", ms, err)
		}
		return nil
	})
	crm, err := db.CRMAccounts(ctx)
	if err != nil || len(crm) != 1 || crm[0].ID != "crm:1" {
		t.Fatalf("crm accounts: %+v %v", crm, err)
	}
	if all, err := db.AllAccounts(ctx); err != nil || len(all) != 1 || !reflect.DeepEqual(all[0], a) {
		t.Fatalf("all accounts: %+v %v", all, err)
	}
	if err := db.Project(ctx, func(tx store.IdentityTx) error {
		return tx.PutUser(ctx, store.User{ID: "u2", FirstSeen: at, LastSeen: at}) // no email
	}); err != nil {
		t.Fatal(err)
	}
	if domains, err := db.EmailDomains(ctx); err != nil || !reflect.DeepEqual(domains, map[string]string{"u1": "acme.com"}) {
		t.Fatalf("email domains: %v %v", domains, err)
	}
}

func testStats(t *testing.T, db *store.DB) {
	ctx := context.Background()
	now := time.Now()
	err := db.Project(ctx, func(tx store.IdentityTx) error {
		var errs []error
		for _, id := range []string{"g", "d", "n", "i", "both", "none"} {
			errs = append(errs, tx.PutUser(ctx, store.User{ID: id, FirstSeen: now, LastSeen: now}))
		}
		errs = append(errs,
			tx.PutAccount(ctx, store.Account{ID: "ws1", Kind: store.KindGroup, CRMID: "crm:1", CreatedAt: now}),
			tx.PutAccount(ctx, store.Account{ID: "crm:1", Kind: store.KindCRM, CreatedAt: now}),
			tx.PutAccount(ctx, store.Account{ID: "domain:x.com", Kind: store.KindDomain, CreatedAt: now}),
			tx.PutAccount(ctx, store.Account{ID: "user:i", Kind: store.KindIndividual, CreatedAt: now}),
			tx.PutMembership(ctx, store.Membership{UserID: "g", AccountID: "ws1", Method: "group", Confidence: 1}),
			tx.PutMembership(ctx, store.Membership{UserID: "d", AccountID: "domain:x.com", Method: "domain", Confidence: 0.9}),
			tx.PutMembership(ctx, store.Membership{UserID: "n", AccountID: "crm:1", Method: "name", Confidence: 0.92}),
			tx.PutMembership(ctx, store.Membership{UserID: "i", AccountID: "user:i", Method: "individual", Confidence: 1}),
			tx.PutMembership(ctx, store.Membership{UserID: "both", AccountID: "ws1", Method: "group", Confidence: 1}),
			tx.PutMembership(ctx, store.Membership{UserID: "both", AccountID: "domain:x.com", Method: "domain", Confidence: 0.9}),
		)
		return errors.Join(errs...)
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.AppendEvents(ctx, []event.Event{track("s1", "g", now)}); err != nil {
		t.Fatal(err)
	}
	s, err := db.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := store.Stats{Events: 1, Users: 6, Unresolved: 1, CRMMatched: 3,
		Accounts:      map[string]int64{"group": 1, "crm": 1, "domain": 1, "individual": 1},
		UsersByMethod: map[string]int64{"group": 2, "domain": 1, "name": 1, "individual": 1}}
	if !reflect.DeepEqual(s, want) {
		t.Fatalf("stats:\n got %+v\nwant %+v", s, want)
	}
}

func testUserEvents(t *testing.T, db *store.DB) {
	ctx := context.Background()
	t0 := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	page := event.Event{MessageID: "p1", Type: event.Page, AnonymousID: "anon-9", Timestamp: t0, ReceivedAt: t0, Body: []byte(`{}`)}
	other := event.Event{MessageID: "p2", Type: event.Page, AnonymousID: "anon-other", Timestamp: t0, ReceivedAt: t0, Body: []byte(`{}`)}
	if _, err := db.AppendEvents(ctx, []event.Event{page, other, track("t1", "u9", t0.Add(time.Hour))}); err != nil {
		t.Fatal(err)
	}
	evs := drain(t, db, 3)
	var refs []store.EventRef
	for _, e := range evs {
		key := "user:" + e.UserID
		if e.UserID == "" {
			key = "anon:" + e.AnonymousID
		}
		refs = append(refs, store.EventRef{Key: key, TS: e.Timestamp, Seq: e.Seq})
	}
	err := db.Project(ctx, func(tx store.IdentityTx) error {
		return errors.Join(tx.PutAlias(ctx, "anon-9", "u9"), tx.IndexEvents(ctx, refs), tx.IndexEvents(ctx, refs[:1]))
	})
	if err != nil {
		t.Fatal(err)
	}
	evs, err = db.UserEvents(ctx, "u9", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 2 || evs[0].MessageID != "t1" || evs[1].MessageID != "p1" {
		t.Fatalf("user events = %+v", evs)
	}
}

// testTimelineParts: SQLite keeps timelines in parts of 16,384 events; a
// user's events in several parts, out of time order, come back as one
// timeline, newest first, and page back across parts.
func testTimelineParts(t *testing.T, db *store.DB) {
	ctx := context.Background()
	t0 := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	const n = 40_001
	mine := map[int]time.Time{ // event index → its time
		3: t0.Add(time.Second), 5: t0.Add(100 * time.Hour), 16_390: t0.Add(time.Hour),
		33_000: t0.Add(2 * time.Hour), 40_000: t0.Add(3 * time.Hour)}
	var evs []event.Event
	for i := range n {
		e := track(fmt.Sprintf("m-%d", i), fmt.Sprintf("other-%d", i%97), t0)
		if at, ok := mine[i]; ok {
			e = track(fmt.Sprintf("m-%d", i), "u-parts", at)
		}
		if i == 3 {
			e.UserID, e.AnonymousID = "", "anon-parts"
		}
		evs = append(evs, e)
	}
	for len(evs) > 0 {
		k := min(len(evs), 1000)
		if _, err := db.AppendEvents(ctx, evs[:k]); err != nil {
			t.Fatal(err)
		}
		evs = evs[k:]
	}
	var refs []store.EventRef
	for _, e := range drain(t, db, n) {
		key := "user:" + e.UserID
		if e.UserID == "" {
			key = "anon:" + e.AnonymousID
		}
		refs = append(refs, store.EventRef{Key: key, TS: e.Timestamp, Seq: e.Seq})
	}
	err := db.Project(ctx, func(tx store.IdentityTx) error {
		return errors.Join(tx.PutAlias(ctx, "anon-parts", "u-parts"), tx.IndexEvents(ctx, refs))
	})
	if err != nil {
		t.Fatal(err)
	}
	ids := func(evs []event.Event) []string {
		var out []string
		for _, e := range evs {
			out = append(out, e.MessageID)
		}
		return out
	}
	got, err := db.UserEvents(ctx, "u-parts", 3)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"m-5", "m-40000", "m-33000"}; !reflect.DeepEqual(ids(got), want) {
		t.Fatalf("first page = %v, want %v", ids(got), want)
	}
	last := got[len(got)-1]
	rest, err := db.UserEventsBefore(ctx, "u-parts", store.EventPos{TS: last.Timestamp, Seq: last.Seq}, 10)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"m-16390", "m-3"}; !reflect.DeepEqual(ids(rest), want) {
		t.Fatalf("next page = %v, want %v", ids(rest), want)
	}
	// Paging forward again from the oldest: newer events, newest first.
	first := rest[len(rest)-1]
	newer, err := db.UserEventsAfter(ctx, "u-parts", store.EventPos{TS: first.Timestamp, Seq: first.Seq}, 2)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"m-33000", "m-16390"}; !reflect.DeepEqual(ids(newer), want) {
		t.Fatalf("page forward = %v, want %v", ids(newer), want)
	}
	// A day's events and active users, across the parts, the visit before
	// sign-up included; other users' events are not counted.
	days, err := db.DailyActivity(ctx, []string{"u-parts", "nobody"}, t0, t0.AddDate(0, 0, 5))
	if err != nil {
		t.Fatal(err)
	}
	want := []store.DayCount{{Day: t0, Events: 4, Users: 1}, {Day: t0.AddDate(0, 0, 4), Events: 1, Users: 1}}
	if !reflect.DeepEqual(days, want) {
		t.Fatalf("daily activity = %+v, want %+v", days, want)
	}
	if days, err := db.DailyActivity(ctx, []string{"u-parts"}, t0.Add(time.Minute), t0.Add(4*time.Hour)); err != nil ||
		len(days) != 1 || days[0].Events != 3 {
		t.Fatalf("daily activity from a minute in: %+v (%v)", days, err)
	}
}

func testIdentityEventsAfter(t *testing.T, db *store.DB) {
	ctx := context.Background()
	at := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	evs := []event.Event{
		{MessageID: "i1", Type: event.Identify, UserID: "u1", AnonymousID: "a1", Timestamp: at, ReceivedAt: at,
			Body: []byte(`{"type":"identify","traits":{"email":"ana@acme.test"}}`)},
		{MessageID: "g1", Type: event.Group, UserID: "u1", GroupID: "acme", Timestamp: at.Add(time.Second), ReceivedAt: at,
			Body: []byte(`{"type":"group","traits":{"name":"Acme"}}`)},
		{MessageID: "t1", Type: event.Track, Name: "Report Viewed", UserID: "u1", GroupID: "acme", Timestamp: at.Add(2 * time.Second),
			ReceivedAt: at, Body: []byte(`{"type":"track","properties":{"plan":"team"},"traits":{"ignored":true}}`)},
		{MessageID: "l1", Type: event.Alias, UserID: "u2", PreviousID: "u1", Timestamp: at.Add(3 * time.Second), ReceivedAt: at,
			Body: []byte(`{"type":"alias"}`)},
	}
	if _, err := db.AppendEvents(ctx, evs); err != nil {
		t.Fatal(err)
	}
	all := drain(t, db, len(evs))
	var got []event.Event
	c := store.Cursor{}
	for deadline := time.Now().Add(storetest.HangGuard); len(got) < len(evs) && time.Now().Before(deadline); {
		more, next, err := db.IdentityEventsAfter(ctx, c, 3, store.Bodies{Names: []string{"Report Viewed"}})
		if err != nil {
			t.Fatal(err)
		}
		got, c = append(got, more...), next
	}
	if len(got) != len(evs) || c.Seq != all[len(all)-1].Seq {
		t.Fatalf("read %d events up to seq %d, want %d up to %d", len(got), c.Seq, len(evs), all[len(all)-1].Seq)
	}
	for i, e := range got {
		w := all[i]
		want := event.Event{Seq: w.Seq, Tx: w.Tx, MessageID: w.MessageID, Type: w.Type, Name: w.Name, UserID: w.UserID,
			AnonymousID: w.AnonymousID, GroupID: w.GroupID, PreviousID: w.PreviousID, Timestamp: w.Timestamp}
		if w.Type == event.Identify || w.Type == event.Group {
			want.Traits = w.Traits
		}
		if w.Type == event.Track {
			want.Properties = w.Properties // its name is asked for
		}
		if !reflect.DeepEqual(e, want) {
			t.Errorf("event %d = %+v, want %+v", i, e, want)
		}
	}
	if string(got[0].Traits) != `{"email":"ana@acme.test"}` || string(got[1].Traits) != `{"name":"Acme"}` ||
		string(got[2].Properties) != `{"plan":"team"}` || got[2].Traits != nil {
		t.Errorf("traits = %s, %s; properties = %s, traits of a track = %s", got[0].Traits, got[1].Traits, got[2].Properties, got[2].Traits)
	}
}

// beacon import and beacon serve may write one store from two processes: each
// must refuse the other's messageIds.
func testTwoHandles(t *testing.T, db *store.DB) {
	ctx := context.Background()
	other := another(t, db)
	now := time.Now()
	for i, h := range []*store.DB{db, other, db, other} {
		n, err := h.AppendEvents(ctx, []event.Event{track("shared", "u", now), track(fmt.Sprintf("own-%d", i), "u", now)})
		if err != nil || (i == 0 && n != 2) || (i > 0 && n != 1) {
			t.Fatalf("append %d through handle %p: n=%d err=%v", i, h, n, err)
		}
	}
	if got := drain(t, db, 5); len(got) != 5 {
		t.Fatalf("stored %d events, want 5", len(got))
	}
}

// another opens a second handle on db's store, as another process would.
func another(t *testing.T, db *store.DB) *store.DB {
	t.Helper()
	return storetest.OpenDSN(t, db.DSN())
}

// Optimize runs on both engines after a load.
func TestOptimize(t *testing.T) {
	for _, eng := range storetest.Engines(t) {
		t.Run(eng.Name, func(t *testing.T) {
			if err := eng.Open(t).Optimize(context.Background()); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// Split cuts only SQLite's stream, only when long enough, into parts that
// cover it exactly.
func TestSplit(t *testing.T) {
	for _, eng := range storetest.Engines(t) {
		t.Run(eng.Name, func(t *testing.T) {
			db := eng.Open(t)
			after, upTo := store.Cursor{Seq: 10}, store.Cursor{Seq: 1010}
			parts := db.Split(after, upTo, 3, 100)
			if db.Engine() != "sqlite" {
				if len(parts) != 2 {
					t.Fatalf("postgres parts %v", parts)
				}
				return
			}
			if len(parts) != 4 || parts[0] != after || parts[3] != upTo || parts[1].Seq >= parts[2].Seq {
				t.Fatalf("parts %v", parts)
			}
			if got := db.Split(after, upTo, 3, 600); len(got) != 2 {
				t.Fatalf("a range under two parts' worth was cut: %v", got)
			}
		})
	}
}

// 123 rows take statements of 100, 10 and 1; writing them again updates
// what the conflict clauses say and nothing else.
func testBulkLinks(t *testing.T, db *store.DB) {
	ctx := context.Background()
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	write := func(user string, method string, conf float64) {
		t.Helper()
		aliases := map[string]store.Alias{}
		var links []store.Membership
		for i := range 123 {
			aliases[fmt.Sprint("anon-", i)] = store.Alias{UserID: fmt.Sprint(user, i), At: at.Add(time.Duration(i) * time.Minute)}
			links = append(links, store.Membership{UserID: fmt.Sprint("u", i), AccountID: fmt.Sprint("acct-", i%7),
				Method: method, Confidence: conf, CreatedAt: at})
		}
		err := db.Project(ctx, func(tx store.IdentityTx) error {
			return errors.Join(tx.PutAliases(ctx, aliases), tx.PutMemberships(ctx, links))
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	write("first-", store.MethodDomain, 0.9)
	write("second-", store.MethodGroup, 1)
	// As of the tie of anon-9, those tied later are left out.
	for _, c := range []struct {
		asOf time.Time
		n    int
	}{{time.Time{}, 123}, {at.Add(9 * time.Minute), 10}, {at.Add(-time.Second), 0}} {
		known, err := db.AllAliases(ctx, c.asOf)
		if err != nil || len(known) != c.n || (c.n > 0 && known["anon-0"] != "second-0") {
			t.Errorf("aliases as of %v: %d (%v), want %d", c.asOf, len(known), err, c.n)
		}
	}
	var anons, users []string
	for i := range 123 {
		anons, users = append(anons, fmt.Sprint("anon-", i)), append(users, fmt.Sprint("u", i))
	}
	err := db.Project(ctx, func(tx store.IdentityTx) error {
		aliases, err := tx.AliasesIn(ctx, anons)
		if err != nil {
			return err
		}
		if len(aliases) != 123 || aliases["anon-0"] != "second-0" || aliases["anon-122"] != "second-122" {
			t.Errorf("%d aliases; anon-0 → %q, anon-122 → %q", len(aliases), aliases["anon-0"], aliases["anon-122"])
		}
		ms, err := tx.MembershipsIn(ctx, users)
		if err != nil {
			return err
		}
		if len(ms) != 123 {
			t.Errorf("%d links, want 123", len(ms))
		}
		for _, m := range ms {
			if m.Method != store.MethodGroup || m.Confidence != 1 || !m.CreatedAt.Equal(at) {
				t.Errorf("link written again: %+v", m)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	all, err := db.AllAliases(ctx, time.Time{})
	if err != nil || len(all) != 123 || all["anon-7"] != "second-7" {
		t.Fatalf("all aliases: %d, anon-7 → %q, %v", len(all), all["anon-7"], err)
	}
}

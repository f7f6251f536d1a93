package score_test

import (
	"context"
	"fmt"
	"maps"
	"testing"
	"time"

	"github.com/beaconplg/beacon/internal/event"
	"github.com/beaconplg/beacon/internal/identity"
	"github.com/beaconplg/beacon/internal/score"
	"github.com/beaconplg/beacon/internal/store"
	"github.com/beaconplg/beacon/internal/store/storetest"
)

// Scored as of T, a store that also holds later events gives exactly the
// scores of a store holding only the events up to T: the later ones are
// left out of the signals (they had leaked into the past). Scored as of now
// on the same store, they count.
func TestScoreAsOf(t *testing.T) {
	ctx := context.Background()
	asOf := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	before := msgs(t, asOf, 3,
		`{"type":"group","userId":"u1","groupId":"acme","traits":{"name":"Acme","employees":200}}`,
		`{"type":"identify","userId":"u1","traits":{"email":"ana@acme.example"}}`,
		`{"type":"track","userId":"u1","event":"Project Created","context":{"groupId":"acme"}}`)
	after := msgs(t, asOf.AddDate(0, 0, 6), 0,
		`{"type":"track","userId":"u1","event":"Invite Sent","context":{"groupId":"acme"}}`,
		`{"type":"track","userId":"u1","event":"Invite Sent","context":{"groupId":"acme"}}`,
		`{"type":"group","userId":"u2","groupId":"acme"}`,
		`{"type":"track","userId":"u2","event":"Signed In","context":{"groupId":"acme"}}`,
		`{"type":"page","userId":"u1","name":"Pricing","context":{"groupId":"acme"}}`)
	r := rules(t, "pql-150")
	scored := func(t *testing.T, evs []event.Event, at time.Time, asOf bool) map[string]store.Score {
		t.Helper()
		db := storetest.SQLite(t)
		if _, err := db.AppendEvents(ctx, evs); err != nil {
			t.Fatal(err)
		}
		resolveAll(t, db, len(evs))
		s := score.New(db, r, quiet, func() time.Time { return at })
		s.OneShot()
		if asOf {
			s.AsOf(at)
		}
		if _, err := s.Sync(ctx); err != nil {
			t.Fatal(err)
		}
		return allScores(t, db, r)
	}
	then := scored(t, before, asOf, false)
	all := append(append([]event.Event{}, before...), after...)
	replayed := scored(t, all, asOf, true)
	if !maps.EqualFunc(then, replayed, func(a, b store.Score) bool { return fmt.Sprint(a) == fmt.Sprint(b) }) {
		t.Fatalf("as of %v with later events stored:\n%v\nwant, as a store of then had it:\n%v", asOf, replayed, then)
	}
	if leaked := scored(t, all, asOf, false); maps.EqualFunc(then, leaked, func(a, b store.Score) bool { return fmt.Sprint(a) == fmt.Sprint(b) }) {
		t.Fatal("the later events change nothing: the test cannot tell a leak")
	}
	if len(then) == 0 {
		t.Fatal("nothing scored")
	}
}

// Standings as of T, on a store that also holds later events, are the
// scores a store of then held, and write nothing: the store's scores stay
// those of now.
func TestStandingsAsOf(t *testing.T) {
	ctx := context.Background()
	asOf := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	before := msgs(t, asOf, 3,
		`{"type":"group","userId":"u1","groupId":"acme","traits":{"name":"Acme","employees":200}}`,
		`{"type":"identify","userId":"u1","traits":{"email":"ana@acme.example"}}`,
		`{"type":"track","userId":"u1","event":"Project Created","context":{"groupId":"acme"}}`)
	after := msgs(t, asOf.AddDate(0, 0, 6), 0,
		`{"type":"track","userId":"u1","event":"Invite Sent","context":{"groupId":"acme"}}`,
		`{"type":"track","userId":"u1","event":"Invite Sent","context":{"groupId":"acme"}}`,
		`{"type":"group","userId":"u2","groupId":"late"}`,
		`{"type":"track","userId":"u2","event":"Signed In","context":{"groupId":"late"}}`,
		`{"type":"page","userId":"u1","name":"Pricing","context":{"groupId":"acme"}}`)
	r := rules(t, "pql-150")
	for _, eng := range storetest.Engines(t) {
		t.Run(eng.Name, func(t *testing.T) {
			then := eng.Open(t)
			db := eng.Open(t)
			for _, load := range []struct {
				db  *store.DB
				evs []event.Event
			}{{then, before}, {db, append(append([]event.Event{}, before...), after...)}} {
				if _, err := load.db.AppendEvents(ctx, load.evs); err != nil {
					t.Fatal(err)
				}
				resolveAll(t, load.db, len(load.evs))
			}
			clock := func() time.Time { return asOf }
			s := score.New(then, r, quiet, clock)
			s.OneShot()
			if _, err := s.Sync(ctx); err != nil {
				t.Fatal(err)
			}
			want := allScores(t, then, r)
			bt := score.New(db, r, quiet, clock)
			bt.OneShot()
			bt.AsOf(asOf)
			got, err := bt.Standings(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) == 0 {
				t.Fatal("no standings")
			}
			for _, st := range got {
				if st.Account != "acme" {
					t.Errorf("%s stands as of %v, before it had anyone", st.Account, asOf)
				}
				w, ok := want[st.Card+"/"+score.Subject(score.OfAccount, st.Account)]
				if st.Applies && (!ok || w.Score != st.Score || w.Tier != st.Tier) {
					t.Errorf("%s on %s: %v (%s) as of then; a store of then held %+v", st.Account, st.Card, st.Score, st.Tier, w)
				}
			}
			if left := allScores(t, db, r); len(left) != 0 {
				t.Errorf("standings wrote %d scores", len(left))
			}
		})
	}
}

// resolveAll has identity take n events, however long another test's
// transaction holds them back (identity.Service.SyncAtLeast).
func resolveAll(t *testing.T, db *store.DB, n int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), storetest.HangGuard)
	defer cancel()
	if err := identity.New(db, quiet, nil).SyncAtLeast(ctx, n); err != nil {
		t.Fatal(err)
	}
}

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
		if _, err := identity.New(db, quiet, nil).Sync(ctx); err != nil {
			t.Fatal(err)
		}
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

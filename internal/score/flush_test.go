package score_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/beaconplg/beacon/internal/event"
	"github.com/beaconplg/beacon/internal/identity"
	"github.com/beaconplg/beacon/internal/score"
	"github.com/beaconplg/beacon/internal/store"
	"github.com/beaconplg/beacon/internal/store/storetest"
)

// failingUsers is a store whose next UsersIn fails once armed: a pass that
// raises an alert reads the people of the account then, after it has
// compared its results with what is stored.
type failingUsers struct {
	*store.DB
	armed atomic.Bool
}

var errUsers = errors.New("users unavailable")

func (f *failingUsers) UsersIn(ctx context.Context, ids []string) ([]store.User, error) {
	if f.armed.CompareAndSwap(true, false) {
		return nil, errUsers
	}
	return f.DB.UsersIn(ctx, ids)
}

// A pass that fails after comparing its results leaves nothing it did not
// write taken for stored: when the account comes back to the score it
// failed to write, that score is written, and its alert raised.
func TestFailedPassWritesNothingInMemory(t *testing.T) {
	ctx := context.Background()
	for _, eng := range storetest.Engines(t) {
		t.Run(eng.Name, func(t *testing.T) {
			now := time.Date(2026, 11, 16, 15, 0, 0, 0, time.UTC)
			db := &failingUsers{DB: eng.Open(t)}
			scorer := score.New(db, rules(t, "pql-150"), quiet, func() time.Time { return now })
			ids := identity.New(db.DB, quiet, scorer.Signals())
			send := func(evs []event.Event) error {
				n, err := db.AppendEvents(ctx, evs)
				if err != nil {
					t.Fatal(err)
				}
				takeAll(ctx, t, ids, n)
				_, err = scorer.Sync(ctx)
				return err
			}
			pql := func() store.Score {
				t.Helper()
				ss, err := db.SubjectScores(ctx, "account:acme")
				if err != nil {
					t.Fatal(err)
				}
				for _, s := range ss {
					if s.Scorecard == "pql" {
						return s
					}
				}
				t.Fatalf("no pql score for acme: %+v", ss)
				return store.Score{}
			}
			alerts := func() int {
				as, err := db.AlertsOf(ctx, "account:acme", 10)
				if err != nil {
					t.Fatal(err)
				}
				return len(as)
			}

			// Two members, u2 not active for 40 days: a project and two
			// thirds of the free seats make 45, watching.
			if err := send(msgs(t, now, 40,
				`{"type":"group","userId":"u2","groupId":"acme","traits":{"name":"Acme","employees":200}}`,
				`{"type":"track","userId":"u2","event":"Signed In","context":{"groupId":"acme"}}`)); err != nil {
				t.Fatal(err)
			}
			if err := send(msgs(t, now, 1,
				`{"type":"group","userId":"u1","groupId":"acme"}`,
				`{"type":"track","userId":"u1","event":"Project Created","context":{"groupId":"acme"}}`)); err != nil {
				t.Fatal(err)
			}
			if s := pql(); s.Score != 45 || s.Tier != "watching" {
				t.Fatalf("at first: %v %s, want 45 watching", s.Score, s.Tier)
			}
			before := alerts()

			// u2 active 13 days ago: two users active in 14 days, 65, warm;
			// the pass fails reading the people of its alert.
			db.armed.Store(true)
			if err := send(msgs(t, now, 13,
				`{"type":"track","userId":"u2","event":"Signed In","context":{"groupId":"acme"}}`)); !errors.Is(err, errUsers) {
				t.Fatalf("pass with people unavailable: %v, want %v", err, errUsers)
			}
			if s := pql(); s.Tier != "watching" {
				t.Fatalf("the failed pass wrote %v %s", s.Score, s.Tier)
			}

			// Two days on, u2's visit is out of the window: 45 again, as
			// stored. Then u2 comes back: 65, warm, with its alert.
			now = now.AddDate(0, 0, 2)
			if _, err := scorer.Sync(ctx); err != nil {
				t.Fatal(err)
			}
			if s := pql(); s.Score != 45 || s.Tier != "watching" {
				t.Fatalf("two days on: %v %s, want 45 watching", s.Score, s.Tier)
			}
			if err := send(msgs(t, now, 1,
				`{"type":"track","userId":"u2","event":"Signed In","context":{"groupId":"acme"}}`)); err != nil {
				t.Fatal(err)
			}
			if s := pql(); s.Score != 65 || s.Tier != "warm" {
				t.Fatalf("u2 back: %v %s stored, want 65 warm", s.Score, s.Tier)
			}
			if got := alerts(); got != before+1 {
				t.Fatalf("alerts: %d, want %d", got, before+1)
			}
		})
	}
}

// takeAll lets identity take n more events: on PostgreSQL the stream holds
// back events while older transactions anywhere on the server (other
// packages' tests) are open.
func takeAll(ctx context.Context, t *testing.T, ids *identity.Service, n int) {
	t.Helper()
	deadline := time.Now().Add(storetest.HangGuard)
	for taken := 0; ; time.Sleep(20 * time.Millisecond) {
		got, err := ids.Sync(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if taken += got; taken >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("identity took %d of %d events", taken, n)
		}
	}
}

// An event that moves none of its user's signals (usage on a day the user
// was already active, hitting no counter the rules read) rescores nobody;
// one that moves what both a user's and an account's cards read rescores
// both, and one that moves only what an account's read (support contacts)
// rescores only the account.
func TestIdleEventsRescoreNobody(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 16, 15, 0, 0, 0, time.UTC)
	db := storetest.Engines(t)[0].Open(t)
	scorer := score.New(db, rules(t, "pql-150"), quiet, func() time.Time { return now })
	ids := identity.New(db, quiet, scorer.Signals())
	send := func(lines ...string) score.Report {
		t.Helper()
		if _, err := db.AppendEvents(ctx, msgs(t, now, 0, lines...)); err != nil {
			t.Fatal(err)
		}
		if _, err := ids.Sync(ctx); err != nil {
			t.Fatal(err)
		}
		rep, err := scorer.Sync(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return rep
	}
	send(`{"type":"group","userId":"u1","groupId":"acme","traits":{"name":"Acme"}}`,
		`{"type":"track","userId":"u1","event":"Project Created","context":{"groupId":"acme"}}`)
	for _, c := range []struct {
		event  string
		scored int
	}{
		{`{"type":"track","userId":"u1","event":"Report Viewed","context":{"groupId":"acme"}}`, 0},
		{`{"type":"page","userId":"u1","name":"Docs","context":{"groupId":"acme"}}`, 0},
		{`{"type":"track","userId":"u1","event":"Invite Sent","context":{"groupId":"acme"}}`, 2},
		{`{"type":"page","userId":"u1","name":"Pricing","context":{"groupId":"acme"}}`, 2},
		{`{"type":"track","userId":"u1","event":"Support Ticket Created","context":{"groupId":"acme"}}`, 1},
	} {
		if rep := send(c.event); rep.Events != 1 || rep.Scored != c.scored {
			t.Errorf("%s: %d events, %d scored; want 1, %d", c.event, rep.Events, rep.Scored, c.scored)
		}
	}
	ss, err := db.SubjectScores(ctx, "account:acme")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range ss {
		if s.Scorecard == "pql" && strings.Contains(string(s.Signals), `"pricing_views":1`) &&
			strings.Contains(string(s.Signals), `"teammates_invited":1`) && strings.Contains(string(s.Signals), `"support_contacts":1`) {
			return
		}
	}
	t.Fatalf("acme's pql score does not count the invite, the pricing view and the ticket: %+v", ss)
}

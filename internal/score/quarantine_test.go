package score_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/beaconplg/beacon/internal/event"
	"github.com/beaconplg/beacon/internal/identity"
	"github.com/beaconplg/beacon/internal/score"
	"github.com/beaconplg/beacon/internal/store"
	"github.com/beaconplg/beacon/internal/store/storetest"
)

// A rule that fails at run time on one account's values (a trait of the
// wrong type) quarantines that account, which keeps the score it had, and
// scoring goes on with the others. The quarantine resolves itself once the
// account scores; a retry rescores everyone, and a subject still failing
// is quarantined again.
func TestScoringQuarantine(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 23, 15, 0, 0, 0, time.UTC)
	for _, eng := range storetest.Engines(t) {
		t.Run(eng.Name, func(t *testing.T) {
			sp, err := score.Preset("pql-150")
			if err != nil {
				t.Fatal(err)
			}
			sp.Scorecards[0].Rules = append(sp.Scorecards[0].Rules,
				score.RuleSpec{Name: "many_seats", Label: "More than 10 seats", When: "traits.seats > 10", Points: 5})
			r, err := score.Compile(*sp)
			if err != nil {
				t.Fatal(err)
			}
			db := eng.Open(t)
			scorer := score.New(db, r, quiet, func() time.Time { return now })
			live := stepping{db: db, ids: identity.New(db, quiet, scorer.Signals()), scorer: scorer, t: t, counts: &counts{}}
			open := func(want int) []store.Quarantined {
				t.Helper()
				qs, err := db.QuarantinedList(ctx, store.QuarantineQuery{Open: true, Stage: store.StageScoring})
				if err != nil || len(qs) != want {
					t.Fatalf("open scoring quarantine: %+v (%v), want %d", qs, err, want)
				}
				return qs
			}
			pql := func(account string) store.Score {
				t.Helper()
				ss, err := db.ScoresIn(ctx, "pql", []string{score.Subject(score.OfAccount, account)})
				if err != nil || len(ss) != 1 {
					t.Fatalf("pql of %s: %+v, %v", account, ss, err)
				}
				return ss[0]
			}

			live.send(ctx, msgs(t, now, 1,
				`{"type":"group","userId":"u1","groupId":"good","traits":{"name":"Good","seats":20}}`,
				`{"type":"track","userId":"u1","event":"Project Created","context":{"groupId":"good"}}`,
				`{"type":"group","userId":"u2","groupId":"bad","traits":{"name":"Bad","seats":4}}`,
				`{"type":"track","userId":"u2","event":"Project Created","context":{"groupId":"bad"}}`))
			before := pql("bad")
			open(0)

			live.send(ctx, msgs(t, now, 0,
				`{"type":"group","userId":"u2","groupId":"bad","traits":{"seats":"many"}}`,
				`{"type":"track","userId":"u1","event":"Invite Sent","context":{"groupId":"good"}}`,
				`{"type":"track","userId":"u1","event":"Invite Sent","context":{"groupId":"good"}}`))
			q := open(1)[0]
			if q.AccountID != "bad" || !strings.Contains(q.Error, "many_seats") {
				t.Fatalf("quarantined: %+v", q)
			}
			if scorer.Quarantined() != 1 {
				t.Fatalf("Quarantined() = %d", scorer.Quarantined())
			}
			if got := pql("bad"); got.Score != before.Score {
				t.Fatalf("the quarantined account's score moved: %v → %v", before.Score, got.Score)
			}
			if !strings.Contains(string(pql("good").Reasons), "invited_teammates") {
				t.Fatalf("the other account was not rescored: %s", pql("good").Reasons)
			}

			// A retry while the value is still wrong: quarantined again.
			if n, err := db.ResolveScoring(ctx, identity.EpochName, nil, now); err != nil || n != 1 {
				t.Fatalf("ResolveScoring: %d, %v", n, err)
			}
			live.step(ctx)
			open(1)

			// The account sends a number again: it scores, and its
			// quarantine resolves.
			live.send(ctx, msgs(t, now, 0, `{"type":"group","userId":"u2","groupId":"bad","traits":{"seats":12}}`))
			open(0)
			if !strings.Contains(string(pql("bad").Reasons), "many_seats") {
				t.Fatalf("the account was not scored after the fix: %s", pql("bad").Reasons)
			}
		})
	}
}

// An event the signal rollups cannot take (a bug it triggers, stood in for
// by a trap) is set aside and the rest are counted: the rollups are rebuilt
// passing over it, a restarted scorer passes over it too, and once it is
// retried (the bug fixed) it counts.
func TestSignalsQuarantine(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 23, 15, 0, 0, 0, time.UTC)
	for _, eng := range storetest.Engines(t) {
		t.Run(eng.Name, func(t *testing.T) {
			db := eng.Open(t)
			r := rules(t, "pql-150")
			scorer := score.New(db, r, quiet, func() time.Time { return now })
			trapped := func(e *event.Event) {
				if e.Name == "Invite Sent" && e.UserID == "u2" {
					var m map[string]int
					m[e.UserID]++ // the bug
				}
			}
			score.Trap(scorer, trapped)
			live := stepping{db: db, ids: identity.New(db, quiet, scorer.Signals()), scorer: scorer, t: t, counts: &counts{}}
			evs := msgs(t, now, 1,
				`{"type":"group","userId":"u1","groupId":"acme","traits":{"name":"Acme"}}`,
				`{"type":"group","userId":"u2","groupId":"acme"}`,
				`{"type":"track","userId":"u1","event":"Invite Sent","context":{"groupId":"acme"}}`,
				`{"type":"track","userId":"u2","event":"Invite Sent","context":{"groupId":"acme"}}`,
				`{"type":"track","userId":"u1","event":"Project Created","context":{"groupId":"acme"}}`)
			live.send(ctx, evs)
			invited := func(db *store.DB) float64 {
				t.Helper()
				ss, err := db.ScoresIn(ctx, "pql", []string{"account:acme"})
				if err != nil || len(ss) != 1 {
					t.Fatalf("pql of acme: %v %v", ss, err)
				}
				var sig map[string]float64
				_ = json.Unmarshal(ss[0].Signals, &sig)
				return sig["teammates_invited"]
			}
			qs, err := db.QuarantinedList(ctx, store.QuarantineQuery{Open: true, Stage: store.StageSignals})
			if err != nil || len(qs) != 1 || qs[0].UserID != "u2" || qs[0].Seq == 0 || !strings.Contains(qs[0].Error, "panic") {
				t.Fatalf("signals quarantine: %+v, %v", qs, err)
			}
			if n := invited(db); n != 1 || scorer.Quarantined() != 1 {
				t.Fatalf("teammates invited %v with the poisoned event set aside, want 1; quarantined %d", n, scorer.Quarantined())
			}

			// A restart passes over it too, from the quarantine.
			again := score.New(db, r, quiet, func() time.Time { return now })
			score.Trap(again, trapped)
			again.OneShot()
			if _, err := again.Sync(ctx); err != nil || again.Quarantined() != 0 {
				t.Fatalf("a restarted scorer: %v, quarantined %d more", err, again.Quarantined())
			}

			// The bug fixed, a retry takes it.
			score.Trap(scorer, nil)
			if n, err := db.ResolveScoring(ctx, identity.EpochName, nil, now); err != nil || n != 1 {
				t.Fatalf("retry: %d, %v", n, err)
			}
			live.step(ctx)
			if n := invited(db); n != 2 {
				t.Fatalf("teammates invited %v after the retry, want 2", n)
			}
		})
	}
}

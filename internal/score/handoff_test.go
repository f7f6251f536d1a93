package score_test

import (
	"context"
	"fmt"
	"maps"
	"sync/atomic"
	"testing"
	"time"

	"github.com/beaconplg/beacon/internal/event"
	"github.com/beaconplg/beacon/internal/identity"
	"github.com/beaconplg/beacon/internal/score"
	"github.com/beaconplg/beacon/internal/store"
	"github.com/beaconplg/beacon/internal/store/storetest"
)

// reading counts the events scoring reads from the stream itself.
type reading struct {
	*store.DB
	read *atomic.Int64
}

func (r reading) ScanLean(ctx context.Context, after, upTo store.Cursor, batch int, bodies store.Bodies, fn func([]event.Event, store.Cursor) error) error {
	return r.DB.ScanLean(ctx, after, upTo, batch, bodies, func(evs []event.Event, c store.Cursor) error {
		r.read.Add(int64(len(evs)))
		return fn(evs, c)
	})
}

// Live, scoring takes what identity hands on and reads nothing of the
// stream: the events of the demo world are read once, by identity, and
// the scores are those of a replay of all of them (TestIncrementalEqualsFull).
func TestLiveScoringReadsNoStream(t *testing.T) {
	dir, end := world(t)
	ctx := context.Background()
	for _, eng := range storetest.Engines(t) {
		t.Run(eng.Name, func(t *testing.T) {
			t.Parallel()
			db := eng.Open(t)
			var read atomic.Int64
			scorer := score.New(reading{db, &read}, rules(t, "pql-150"), quiet, func() time.Time { return end })
			ids := identity.New(db, quiet, scorer.Signals())
			if rep, err := scorer.Sync(ctx); err != nil || !rep.Replayed { // the replay of an empty stream
				t.Fatalf("first pass: %+v, %v; want a replay", rep, err)
			}
			live := stepping{db: db, ids: ids, scorer: scorer, t: t, counts: &counts{}}
			importEvents(t, dir, live)
			live.settle(ctx)
			if n := read.Load(); n != 0 || live.counts.projected == 0 || live.counts.replays != 0 {
				t.Fatalf("live scoring read %d events of the stream in %d replays; identity took %d", n, live.counts.replays, live.counts.projected)
			}
			if got := allScores(t, db, scorer.Rules()); len(got) == 0 {
				t.Fatal("nothing scored")
			}
		})
	}
}

// A stretch of the stream resolved by an identity that hands nothing on
// (another process, `beacon import` beside `beacon serve`) is not lost:
// once identity's cursor has stood ahead of what was handed on past the
// grace, scoring replays the stream.
func TestStretchResolvedElsewhereIsReplayed(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	onEachEngine(t, now, func(t *testing.T, db *store.DB, live stepping) {
		score.HandOffGrace(live.scorer, 0)
		live.send(ctx, msgs(t, now, 2,
			`{"type":"group","userId":"u1","groupId":"acme","traits":{"name":"Acme","employees":200}}`,
			`{"type":"identify","userId":"u1","traits":{"email":"ana@acme.example"}}`))
		before := allScores(t, db, live.scorer.Rules())["pql/account:acme"]
		if _, err := db.AppendEvents(ctx, msgs(t, now, 1,
			`{"type":"page","userId":"u1","name":"Pricing","context":{"groupId":"acme"}}`)); err != nil {
			t.Fatal(err)
		}
		elsewhere := identity.New(db, quiet, nil)
		deadline := time.Now().Add(storetest.HangGuard)
		for n := 0; n == 0; {
			var err error
			if n, err = elsewhere.Sync(ctx); err != nil || time.Now().After(deadline) {
				t.Fatalf("the other identity took nothing (%v)", err)
			}
		}
		for replayed := false; ; {
			rep, err := live.scorer.Sync(ctx)
			if err != nil {
				t.Fatal(err)
			}
			replayed = replayed || rep.Replayed
			after := allScores(t, db, live.scorer.Rules())["pql/account:acme"]
			if after.Score > before.Score {
				if !replayed {
					t.Fatal("the stretch counted with no pass reporting a replay")
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the pricing view resolved elsewhere never counted: %v, before %v", after.Score, before.Score)
			}
		}
	})
}

// Scores replayed as of T, on a store that also holds every event after
// T, are those a live Beacon held at T: the same scores, tiers, reasons and
// signals, on the demo world and both engines. `beacon score --all --at`
// takes this path.
func TestReplayAsOfEqualsLive(t *testing.T) {
	dir, end := world(t)
	at := end.AddDate(0, 0, -20)
	ctx := context.Background()
	r := rules(t, "pql-150")
	for _, eng := range storetest.Engines(t) {
		t.Run(eng.Name, func(t *testing.T) {
			t.Parallel()
			then := eng.Open(t)
			liveScorer := score.New(then, r, quiet, func() time.Time { return at })
			ids := identity.New(then, quiet, liveScorer.Signals())
			importCRM(t, dir, ids)
			live := stepping{db: then, ids: ids, scorer: liveScorer, t: t, counts: &counts{}}

			later := eng.Open(t)
			laterIDs := identity.New(later, quiet, nil)
			importCRM(t, dir, laterIDs)
			all := stepping{db: later, ids: laterIDs, scorer: score.New(later, r, quiet, func() time.Time { return at }),
				t: t, counts: &counts{}}
			importEvents(t, dir, split{at: at, before: live, all: all})
			live.settle(ctx)
			deadline := time.Now().Add(storetest.HangGuard)
			for all.counts.projected < all.counts.stored {
				n, err := laterIDs.Sync(ctx)
				if err != nil || time.Now().After(deadline) {
					t.Fatalf("identity took %d of %d events (%v)", all.counts.projected, all.counts.stored, err)
				}
				all.counts.projected += n
			}
			if all.counts.stored <= live.counts.stored || live.counts.stored == 0 {
				t.Fatalf("%d events up to T, %d in all: no events after T", live.counts.stored, all.counts.stored)
			}

			replay := score.New(later, r, quiet, func() time.Time { return at })
			replay.OneShot()
			replay.AsOf(at)
			if _, err := replay.Sync(ctx); err != nil {
				t.Fatal(err)
			}
			want, got := allScores(t, then, r), allScores(t, later, r)
			for k, w := range want {
				if g, ok := got[k]; !ok || fmt.Sprint(g) != fmt.Sprint(w) {
					t.Fatalf("%s replayed as of T:\n%s\nlive at T:\n%s", k, readable(g), readable(w))
				}
			}
			if !maps.EqualFunc(want, got, func(a, b store.Score) bool { return fmt.Sprint(a) == fmt.Sprint(b) }) {
				t.Fatalf("%d scores replayed as of T, %d live at T", len(got), len(want))
			}
			t.Logf("%d scores equal; %d events up to T, %d in all", len(want), live.counts.stored, all.counts.stored)
		})
	}
}

// split stores every event in all, and those up to at in before too.
type split struct {
	at          time.Time
	before, all stepping
}

func (s split) AppendEvents(ctx context.Context, evs []event.Event) (int, error) {
	var then []event.Event
	for _, e := range evs {
		if !e.Timestamp.After(s.at) {
			then = append(then, e)
		}
	}
	if len(then) > 0 {
		if _, err := s.before.AppendEvents(ctx, then); err != nil {
			return 0, err
		}
	}
	return batched{s.all}.AppendEvents(ctx, evs)
}

// readable is a score with its JSON as text.
func readable(s store.Score) string {
	return fmt.Sprintf("%s %v %s\nreasons %s\nsignals %s\nactivity %s\nmomentum %v active %d last %v digest %d",
		s.Subject, s.Score, s.Tier, s.Reasons, s.Signals, s.Activity, s.Momentum, s.ActiveUsers, s.LastActive, s.Digest)
}

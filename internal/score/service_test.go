package score_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/beaconplg/beacon/internal/event"
	"github.com/beaconplg/beacon/internal/identity"
	"github.com/beaconplg/beacon/internal/importer"
	"github.com/beaconplg/beacon/internal/score"
	"github.com/beaconplg/beacon/internal/sim"
	"github.com/beaconplg/beacon/internal/store"
	"github.com/beaconplg/beacon/internal/store/storetest"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// world simulates a small demo world once per test binary.
func world(t *testing.T) (dir string, end time.Time) {
	t.Helper()
	p := sim.DefaultParams()
	p.Accounts, p.Days = 400, 75
	dir = t.TempDir()
	if _, err := p.Simulate(dir); err != nil {
		t.Fatal(err)
	}
	return dir, p.End()
}

// stepping commits each import batch and then lets identity and scoring take
// it, as a running server does.
type stepping struct {
	db     *store.DB
	ids    *identity.Service
	scorer *score.Service
	t      testing.TB
	counts *counts
}

// counts are the events stored, the events identity has taken, and the
// scoring passes that replayed the stream.
type counts struct{ stored, projected, replays int }

func (s stepping) AppendEvents(ctx context.Context, evs []event.Event) (int, error) {
	n, err := s.db.AppendEvents(ctx, evs)
	if err != nil {
		return n, err
	}
	s.counts.stored += n
	s.step(ctx)
	return n, nil
}

func (s stepping) step(ctx context.Context) {
	n, err := s.ids.Sync(ctx)
	if err != nil {
		s.t.Fatal(err)
	}
	s.counts.projected += n
	rep, err := s.scorer.Sync(ctx)
	if err != nil {
		s.t.Fatal(err)
	}
	if rep.Replayed {
		s.counts.replays++
	}
}

// settle steps until identity has taken every stored event: on PostgreSQL
// the stream holds back events while older transactions anywhere on the
// server (other tests') are open.
func (s stepping) settle(ctx context.Context) {
	deadline := time.Now().Add(storetest.HangGuard)
	for s.counts.projected < s.counts.stored {
		if time.Now().After(deadline) {
			s.t.Fatalf("identity took %d of %d events", s.counts.projected, s.counts.stored)
		}
		time.Sleep(20 * time.Millisecond)
		s.step(ctx)
	}
}

// send stores evs and steps until identity and scoring have taken them.
func (s stepping) send(ctx context.Context, evs []event.Event) {
	if _, err := s.AppendEvents(ctx, evs); err != nil {
		s.t.Fatal(err)
	}
	s.settle(ctx)
}

// onEachEngine runs fn in parallel on a fresh store of each engine, scored
// live with the default rules at now.
func onEachEngine(t *testing.T, now time.Time, fn func(t *testing.T, db *store.DB, live stepping)) {
	for _, eng := range storetest.Engines(t) {
		t.Run(eng.Name, func(t *testing.T) {
			t.Parallel()
			db := eng.Open(t)
			fn(t, db, liveOn(t, db, now))
		})
	}
}

// liveOn scores db with the default rules at now, a pass per commit.
func liveOn(t *testing.T, db *store.DB, now time.Time) stepping {
	t.Helper()
	scorer := score.New(db, rules(t, "pql-150"), quiet, func() time.Time { return now })
	ids := identity.New(db, quiet, scorer.Signals())
	return stepping{db: db, ids: ids, scorer: scorer, t: t, counts: &counts{}}
}

func importCRM(t testing.TB, dir string, ids *identity.Service) {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, sim.CRMFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, _, err := importer.Accounts(f)
	if err != nil {
		t.Fatal(err)
	}
	if err := ids.ImportCRM(context.Background(), rows); err != nil {
		t.Fatal(err)
	}
}

func importEvents(t testing.TB, dir string, sink importer.Sink) {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, sim.EventsFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := importer.MaybeGunzip(f)
	if err != nil {
		t.Fatal(err)
	}
	if sum, err := importer.JSONLines(context.Background(), r, sink); err != nil || sum.Rejected > 0 {
		t.Fatalf("import: %+v %v", sum, err)
	}
}

// batched stores events without projecting them.
type batched struct{ stepping }

func (b batched) AppendEvents(ctx context.Context, evs []event.Event) (int, error) {
	n, err := b.db.AppendEvents(ctx, evs)
	b.counts.stored += n
	return n, err
}

// allScores lists every stored score, without the times they were written.
func allScores(t *testing.T, db *store.DB, r *score.Rules) map[string]store.Score {
	t.Helper()
	out := map[string]store.Score{}
	for _, c := range r.Cards {
		ss, _, err := db.ListScores(context.Background(), store.ScoreQuery{Scorecard: c.Name, Kind: c.Of, Sort: "-score", Limit: 1 << 30})
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range ss {
			s.UpdatedAt, s.TierSince = time.Time{}, time.Time{}
			out[c.Name+"/"+s.Subject] = s
		}
	}
	return out
}

// Scoring batch by batch as events arrive gives exactly what scoring every
// stored event at once gives, on the demo world and on both engines.
func TestIncrementalEqualsFull(t *testing.T) {
	dir, end := world(t)
	clock := func() time.Time { return end }
	ctx := context.Background()
	for _, eng := range storetest.Engines(t) {
		t.Run(eng.Name, func(t *testing.T) {
			r := rules(t, "pql-150")
			inc := eng.Open(t)
			scorer := score.New(inc, r, quiet, clock)
			ids := identity.New(inc, quiet, scorer.Signals())
			importCRM(t, dir, ids)
			live := stepping{db: inc, ids: ids, scorer: scorer, t: t, counts: &counts{}}
			importEvents(t, dir, live)
			live.settle(ctx)

			full := eng.Open(t)
			ids = identity.New(full, quiet, nil)
			importCRM(t, dir, ids)
			replay := score.New(full, r, quiet, clock)
			score.ReadInParts(replay, 1000) // as a long replay reads, on SQLite
			loaded := stepping{db: full, ids: ids, scorer: replay, t: t, counts: &counts{}}
			importEvents(t, dir, batched{loaded})
			loaded.settle(ctx) // identity then scoring, each over everything at once

			a, b := allScores(t, inc, r), allScores(t, full, r)
			tiers := map[string]int{}
			for k, want := range b {
				got, ok := a[k]
				if !ok || got.Score != want.Score || got.Tier != want.Tier || string(got.Reasons) != string(want.Reasons) ||
					string(got.Signals) != string(want.Signals) || got.RulesVersion != want.RulesVersion || !got.LastActive.Equal(want.LastActive) {
					t.Fatalf("%s: incremental %+v\nfull %+v", k, got, want)
				}
				tiers[want.Tier]++
			}
			for k := range a {
				if _, ok := b[k]; !ok {
					t.Errorf("%s scored incrementally only: %+v", k, a[k])
				}
			}
			if len(a) != len(b) || tiers["hot"] == 0 || tiers["warm"] == 0 || tiers["watching"] == 0 {
				t.Fatalf("%d incremental scores, %d full; tiers %v", len(a), len(b), tiers)
			}
			t.Logf("%d scores equal; tiers %v", len(b), tiers)

			// The replay packed the stream; a replay of the packed stream
			// changes no score, and packs nothing the first did not.
			if blocks := packedBlocks(t, full, r); blocks != loaded.counts.stored/store.BlockEvents {
				t.Fatalf("%d blocks packed of %d events", blocks, loaded.counts.stored)
			}
			// Replayed once with nothing after it, as score --all does, it
			// keeps no visitor and still changes no score.
			// It reads the blocks in parts, and the events after the
			// last whole block as the packer reads them.
			once := score.New(full, r, quiet, clock)
			once.OneShot()
			score.ReadInParts(once, 1000)
			again, err := once.Sync(ctx)
			if err != nil || again.Written != 0 || again.Packed != 0 || again.Events != loaded.counts.stored {
				t.Fatalf("replay of the packed stream: %+v, %v; %d events stored", again, err, loaded.counts.stored)
			}
			if kept, all := score.Held(once), score.Held(replay); kept >= all {
				t.Fatalf("a one-shot replay holds %d users and visitors, the live one %d", kept, all)
			}
		})
	}
}

// packedBlocks counts the whole blocks a read of the stream with r's
// bodies returns.
func packedBlocks(t *testing.T, db *store.DB, r *score.Rules) int {
	t.Helper()
	var bodies store.Bodies
	bodies.All, bodies.Names = r.Signals.Bodies()
	upTo, err := db.Cursor(context.Background(), identity.CursorName)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	err = db.ScanLean(context.Background(), store.Cursor{}, upTo, 1000, bodies, func(evs []event.Event, _ store.Cursor) error {
		if len(evs) == store.BlockEvents {
			n++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

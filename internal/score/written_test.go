package score_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/beaconplg/beacon/internal/store"
	"github.com/beaconplg/beacon/internal/store/storetest"
)

// Under load a pass writes what changed materially (score, tier, which rules
// held) at once and leaves signal values that alone moved for the next
// quiet pass.
func TestValuesWaitForAQuietPass(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 23, 15, 0, 0, 0, time.UTC)
	db := storetest.SQLite(t)
	live := liveOn(t, db, now)
	send := func(daysAgo int, lines ...string) {
		t.Helper()
		if _, err := live.AppendEvents(ctx, msgs(t, now, daysAgo, lines...)); err != nil {
			t.Fatal(err)
		}
	}
	stored := func() (store.Score, map[string]float64) {
		t.Helper()
		ss, err := db.ScoresIn(ctx, "pql", []string{"account:acme"})
		if err != nil || len(ss) != 1 {
			t.Fatalf("scores %v %v", ss, err)
		}
		var sig map[string]float64
		_ = json.Unmarshal(ss[0].Signals, &sig)
		return ss[0], sig
	}
	send(1, `{"type":"group","userId":"u1","groupId":"acme","traits":{"employees":200}}`,
		`{"type":"track","userId":"u1","event":"Project Created","context":{"groupId":"acme"}}`)
	live.settle(ctx)
	first, sig := stored()
	if first.Score != 30 || sig["projects_created"] != 1 {
		t.Fatalf("first: %g %v", first.Score, sig)
	}
	// A second project moves a value only: it waits while events come.
	send(0, `{"type":"track","userId":"u1","event":"Project Created","context":{"groupId":"acme"}}`)
	if _, sig := stored(); sig["projects_created"] != 1 {
		t.Fatalf("a value alone was written under load: %v", sig)
	}
	// Pricing moves the score: written at once, values with it.
	send(0, `{"type":"page","userId":"u1","name":"Pricing","context":{"groupId":"acme"}}`)
	if s, sig := stored(); s.Score != 40 || sig["projects_created"] != 2 {
		t.Fatalf("after pricing: %g %v", s.Score, sig)
	}
	send(0, `{"type":"track","userId":"u1","event":"Project Created","context":{"groupId":"acme"}}`)
	live.step(ctx) // quiet
	if _, sig := stored(); sig["projects_created"] != 3 {
		t.Fatalf("a quiet pass left the value behind: %v", sig)
	}
}

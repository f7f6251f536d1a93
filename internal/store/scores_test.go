package store_test

import (
	"context"
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/beaconplg/beacon/internal/store"
)

func testScoreStates(t *testing.T, db *store.DB) {
	ctx := context.Background()
	at := time.UnixMilli(1_770_000_000_000).UTC()
	scores := []store.Score{
		{Scorecard: "pql", Subject: "account:a", Score: 85, Tier: "hot", Reasons: []byte(`[{"label":"x"}]`),
			Signals: []byte(`{"x":1}`), RulesVersion: "v1", UpdatedAt: at, TierSince: at.Add(-time.Hour), Digest: math.MinInt64 + 7},
		{Scorecard: "pql", Subject: "account:b", Score: 40, Tier: "watching", RulesVersion: "v1", UpdatedAt: at,
			TierSince: at, Digest: math.MaxInt64},
		{Scorecard: "health", Subject: "account:a", Score: 3, Tier: "low", RulesVersion: "v2", UpdatedAt: at,
			TierSince: at, Digest: 5},
	}
	if err := db.SaveScores(ctx, store.ScoreBatch{Scores: scores}); err != nil {
		t.Fatal(err)
	}
	state := func(s store.Score) store.ScoreState {
		return store.ScoreState{Scorecard: s.Scorecard, Subject: s.Subject, Score: s.Score, Tier: s.Tier, RulesVersion: s.RulesVersion,
			TierSince: s.TierSince, Digest: s.Digest}
	}
	all, err := db.AllScoreStates(ctx)
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]store.ScoreState{}
	for _, s := range all {
		byID[s.Scorecard+" "+s.Subject] = s
	}
	want := map[string]store.ScoreState{"pql account:a": state(scores[0]), "pql account:b": state(scores[1]),
		"health account:a": state(scores[2])}
	if !reflect.DeepEqual(byID, want) {
		t.Fatalf("AllScoreStates = %+v, want %+v", byID, want)
	}
	some, err := db.ScoreStatesIn(ctx, "health", []string{"account:a", "account:b"})
	if err != nil {
		t.Fatal(err)
	}
	if len(some) != 1 || some[0] != state(scores[2]) {
		t.Fatalf("ScoreStatesIn(health) = %+v, want only %+v", some, state(scores[2]))
	}
	full, err := db.ScoresIn(ctx, "pql", []string{"account:a"})
	if err != nil {
		t.Fatal(err)
	}
	if len(full) != 1 || full[0].Digest != scores[0].Digest || string(full[0].Signals) != `{"x":1}` {
		t.Fatalf("ScoresIn = %+v", full)
	}
	// A rewrite replaces the digest with the rest.
	scores[0].Digest, scores[0].Score = 11, 90
	if err := db.SaveScores(ctx, store.ScoreBatch{Scores: scores[:1]}); err != nil {
		t.Fatal(err)
	}
	again, err := db.ScoreStatesIn(ctx, "pql", []string{"account:a"})
	if err != nil {
		t.Fatal(err)
	}
	if len(again) != 1 || again[0] != state(scores[0]) {
		t.Fatalf("after a rewrite = %+v, want %+v", again, state(scores[0]))
	}
}

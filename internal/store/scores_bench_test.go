package store_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/beaconplg/beacon/internal/store"
	"github.com/beaconplg/beacon/internal/store/storetest"
)

// BenchmarkSaveScores measures what a live scoring pass writes: 2,000 scores
// of subjects drawn at random from 40,000, their signal values changed,
// about the size the default rules give them: whole (ScoreBatch.Scores, as
// when a rank changes), or refreshed (their rank as stored).
func BenchmarkSaveScores(b *testing.B) {
	for _, e := range storetest.Engines(b) {
		for _, refreshed := range []bool{false, true} {
			b.Run(fmt.Sprintf("%s/refreshed=%v", e.Name, refreshed), func(b *testing.B) {
				saveScores(b, e.Open(b), refreshed)
			})
		}
	}
}

func saveScores(b *testing.B, db *store.DB, refreshed bool) {
	const subjects, pass = 40000, 2000
	reasons := fmt.Sprintf(`[{"rule":"invited_teammates","label":"Invited 4+ teammates","points":20,"pad":%q}]`, make([]byte, 400))
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 2))
	score := func(i, round int) store.Score {
		return store.Score{Scorecard: "pql", Subject: fmt.Sprintf("user:u-%d", i), Score: 40, Tier: "watching",
			Reasons: []byte(reasons), Signals: []byte(fmt.Sprintf(`{"pricing_views":%d,"active_days_14d":3}`, round)),
			RulesVersion: "v1", UpdatedAt: time.Now(), TierSince: time.Now(), Digest: int64(round)}
	}
	var all store.ScoreBatch
	for i := range subjects {
		all.Scores = append(all.Scores, score(i, 0))
	}
	if err := db.SaveScores(ctx, all); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for round := range b.N {
		b.StopTimer()
		var sb store.ScoreBatch
		for _, i := range rng.Perm(subjects)[:pass] {
			sb.Scores = append(sb.Scores, score(i, round+1))
		}
		if refreshed {
			sb.Scores, sb.Refreshed = nil, sb.Scores
		}
		b.StartTimer()
		if err := db.SaveScores(ctx, sb); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*pass)/b.Elapsed().Seconds(), "scores/s")
}

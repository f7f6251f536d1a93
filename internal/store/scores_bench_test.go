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
// about the size the default rules give them.
func BenchmarkSaveScores(b *testing.B) {
	const subjects, pass = 40000, 2000
	reasons := fmt.Sprintf(`[{"rule":"invited_teammates","label":"Invited 4+ teammates","points":20,"pad":%q}]`, make([]byte, 400))
	for _, e := range storetest.Engines(b) {
		b.Run(e.Name, func(b *testing.B) {
			db := e.Open(b)
			ctx := context.Background()
			rng := rand.New(rand.NewPCG(1, 2))
			batch := func(n, round int) store.ScoreBatch {
				var sb store.ScoreBatch
				seen := map[int]bool{}
				for len(sb.Scores) < n {
					i := rng.IntN(subjects)
					if n == subjects {
						i = len(sb.Scores)
					}
					if seen[i] {
						continue
					}
					seen[i] = true
					sb.Scores = append(sb.Scores, store.Score{Scorecard: "pql", Subject: fmt.Sprintf("user:u-%d", i),
						Score: 40, Tier: "watching", Reasons: []byte(reasons),
						Signals:      []byte(fmt.Sprintf(`{"pricing_views":%d,"active_days_14d":3,"teammates_invited":2}`, round)),
						RulesVersion: "v1", UpdatedAt: time.Now(), TierSince: time.Now(), Digest: int64(round)})
				}
				return sb
			}
			if err := db.SaveScores(ctx, batch(subjects, 0)); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for i := range b.N {
				b.StopTimer()
				sb := batch(pass, i+1)
				b.StartTimer()
				if err := db.SaveScores(ctx, sb); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*pass)/b.Elapsed().Seconds(), "scores/s")
		})
	}
}

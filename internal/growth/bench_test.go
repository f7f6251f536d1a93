package growth_test

import (
	"context"
	"testing"

	"github.com/beaconplg/beacon/internal/store/storetest"
)

// The funnel of a demo world's 90 days, its sources read anew each time:
// what GET /api/v1/metrics/funnel does, in process. scripts/bench-metrics
// measures it from a separate process, against DuckDB.
func BenchmarkFunnel(b *testing.B) {
	w := newWorld(b, 2000, 90)
	db := storetest.Engines(b)[0].Open(b)
	m := w.load(b, db)
	ctx := context.Background()
	from, to := w.p.Start, w.p.Start.AddDate(0, 0, w.p.Days+1)
	b.Run("sources", func(b *testing.B) {
		for range b.N {
			if _, err := m.Sources(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("funnel", func(b *testing.B) {
		for range b.N {
			if _, err := m.Funnel(ctx, from, to); err != nil {
				b.Fatal(err)
			}
		}
	})
}

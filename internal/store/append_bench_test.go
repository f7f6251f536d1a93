package store_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/beaconplg/beacon/internal/event"
	"github.com/beaconplg/beacon/internal/store/storetest"
)

// BenchmarkAppend measures the store alone: 8 writers appending batches of 100
// events of about 700 bytes, as the collector does.
func BenchmarkAppend(b *testing.B) {
	for _, e := range storetest.Engines(b) {
		b.Run(e.Name, func(b *testing.B) {
			db := e.Open(b)
			body := []byte(fmt.Sprintf(`{"type":"track","properties":{"plan":"team","feature":"reports","pad":%q}}`, make([]byte, 560)))
			var seq atomic.Int64
			const writers, batch = 8, 100
			b.ResetTimer()
			start := time.Now()
			var wg sync.WaitGroup
			per := (b.N + writers - 1) / writers
			for w := range writers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for done := 0; done < per; done += batch {
						evs := make([]event.Event, batch)
						for i := range evs {
							n := seq.Add(1)
							evs[i] = event.Event{MessageID: fmt.Sprintf("bench-%d-%d", w, n), Type: "track", Name: "Report Viewed",
								UserID: fmt.Sprintf("user-%d", n%40000), AnonymousID: fmt.Sprintf("anon-%d", n%40000),
								Timestamp: time.Now(), ReceivedAt: time.Now(), Body: body}
						}
						if _, err := db.AppendEvents(context.Background(), evs); err != nil {
							b.Error(err)
							return
						}
					}
				}()
			}
			wg.Wait()
			b.ReportMetric(float64(seq.Load())/time.Since(start).Seconds(), "events/s")
		})
	}
}

package bench

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"
)

// TestIngestStoresEverything runs the benchmark small: every event posted is
// stored once.
func TestIngestStoresEverything(t *testing.T) {
	res, err := Ingest(context.Background(), IngestOptions{DSN: filepath.Join(t.TempDir(), "b.db"),
		Events: 2050, Batch: 100, Clients: 3, Timeout: time.Minute, Project: true}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if res.Stored != 2050 || res.Batches != 21 || res.P99 < res.P50 || res.Projected != 2050 {
		t.Fatalf("result %+v", res)
	}
}

func BenchmarkIngestSQLite(b *testing.B) {
	for b.Loop() {
		res, err := Ingest(context.Background(), IngestOptions{DSN: filepath.Join(b.TempDir(), "b.db"),
			Events: 100000, Batch: 100, Clients: 8, Timeout: time.Minute}, slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(res.EventsPerSecond, "events/s")
	}
}

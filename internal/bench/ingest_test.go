package bench

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/beaconplg/beacon/internal/score"
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

// TestIngestOnSchedule: with a rate, batches go out when due, not sooner,
// and every one is still stored.
func TestIngestOnSchedule(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	o := IngestOptions{DSN: filepath.Join(t.TempDir(), "b.db"), Events: 2000, Batch: 100, Clients: 4,
		Timeout: time.Minute, Rate: 4000}
	res, err := Ingest(context.Background(), o, log)
	if err != nil {
		t.Fatal(err)
	}
	// The last of 20 batches is due 19 × 100 / 4,000 s after the first.
	if res.Stored != 2000 || res.Rate != 4000 || res.Elapsed < 475*time.Millisecond {
		t.Fatalf("result %+v: want 2,000 stored at 4,000/s, over at least 475 ms", res)
	}
	o.Rate = -1
	if _, err := Ingest(context.Background(), o, log); err == nil {
		t.Fatal("a negative rate was taken")
	}
}

// TestIngestProbesScores runs identity and scoring live: every prober's
// page views are counted in its account's stored score, during the load
// and after it. Each of the four probers has at least its first probe,
// however slow the machine: a probe sent is waited for.
func TestIngestProbesScores(t *testing.T) {
	sp, err := score.Preset(score.DefaultPreset)
	if err != nil {
		t.Fatal(err)
	}
	rules, err := score.Compile(*sp)
	if err != nil {
		t.Fatal(err)
	}
	// Two seconds of load; the timeout is for a hung pipeline, not a slow
	// one: under the race detector on a busy machine, identity's catch-up
	// with thousands of new users takes tens of seconds.
	res, err := Ingest(context.Background(), IngestOptions{DSN: filepath.Join(t.TempDir(), "b.db"), Events: 4000,
		Batch: 100, Clients: 4, Timeout: 5 * time.Minute, Score: rules, Cold: true, Rate: 2000},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("elapsed %s probes %v drain %s", res.Elapsed, res.Probes, res.Drain)
	if res.Stored < 4000 || len(res.Probes) < 4 || res.Drain <= 0 || !slices.IsSorted(res.Probes) {
		t.Fatalf("stored %d, %d probes (sorted: %v), drain %s", res.Stored, len(res.Probes), slices.IsSorted(res.Probes), res.Drain)
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

package sim

import (
	"path/filepath"
	"testing"
)

// BenchmarkDays measures generating events without writing them.
func BenchmarkDays(b *testing.B) {
	p := DefaultParams()
	gen := p.NewGenerator()
	events := 0
	for b.Loop() {
		for d := range p.Days {
			events += len(gen.Day(d))
		}
	}
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkSimulate measures the whole command: generation, gzip, files.
func BenchmarkSimulate(b *testing.B) {
	p := DefaultParams()
	events := 0
	for b.Loop() {
		sum, err := p.Simulate(filepath.Join(b.TempDir(), "w"))
		if err != nil {
			b.Fatal(err)
		}
		events += sum.Events
	}
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
}

package sim

import (
	"path/filepath"
	"testing"
)

// BenchmarkDays measures generating events without writing them.
func BenchmarkDays(b *testing.B) {
	p := DefaultParams()
	events := 0
	for b.Loop() {
		gen := p.NewGenerator() // days come in order, from a new generator
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

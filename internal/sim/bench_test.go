package sim

import (
	"path/filepath"
	"testing"
)

// BenchmarkDays measures generating events without writing them.
func BenchmarkDays(b *testing.B) {
	p := DefaultParams()
	accounts := make([]Account, p.Accounts)
	lives := make([]Lifecycle, p.Accounts)
	users := make([][]User, p.Accounts)
	for i := range accounts {
		accounts[i] = p.NewAccount(i)
		lives[i] = p.Lifecycle(accounts[i])
		for j := range accounts[i].Users {
			users[i] = append(users[i], p.NewUser(accounts[i], j))
		}
	}
	events := 0
	for b.Loop() {
		for d := range p.Days {
			events += len(p.Day(d, accounts, lives, users))
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

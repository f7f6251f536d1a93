package score_test

import (
	"fmt"
	"math"
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/beaconplg/beacon/internal/event"
	"github.com/beaconplg/beacon/internal/score"
	"github.com/beaconplg/beacon/internal/signal"
	"github.com/beaconplg/beacon/internal/sim"
)

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil {
		return n
	}
	return def
}

// BenchmarkRollups is the in-memory half of scoring, without the store: a
// simulated world's events into the rollups (events/s), then every account
// scored once (µs/account), and what the rollups hold per account once
// settled (bytes/account: live heap after a collection, minus the heap
// before, over accounts). BEACON_BENCH_ACCOUNTS and BEACON_BENCH_DAYS size
// the world (default: the demo's 2,000 accounts over 90 days).
func BenchmarkRollups(b *testing.B) {
	p := sim.DefaultParams()
	p.Accounts, p.Days = envInt("BEACON_BENCH_ACCOUNTS", p.Accounts), envInt("BEACON_BENCH_DAYS", p.Days)
	r := rules(b, "pql-150")
	for b.Loop() {
		b.StopTimer()
		runtime.GC()
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		roll := signal.NewRollups(r.Signals)
		accounts := map[string][]string{}
		member := map[string]bool{}
		gen := p.NewGenerator()
		events := 0
		var adding time.Duration
		for d := range p.Days {
			var evs []event.Event
			for _, line := range gen.Day(d) {
				batch, err := event.DecodeOne(line, "", time.Now())
				if err != nil {
					b.Fatal(err)
				}
				evs = append(evs, batch.Events...)
			}
			start := time.Now()
			for i := range evs {
				e := &evs[i]
				if e.UserID == "" {
					roll.AddVisitor(e.AnonymousID, e)
					continue
				}
				if e.GroupID != "" && !member[e.UserID] {
					member[e.UserID] = true
					accounts[e.GroupID] = append(accounts[e.GroupID], e.UserID)
				}
				roll.Add(e.UserID, e)
			}
			adding += time.Since(start)
			events += len(evs)
		}
		start := time.Now()
		today := signal.Day(p.End())
		for _, users := range accounts {
			actors := make([]*signal.Actor, len(users))
			for i, u := range users {
				actors[i] = roll.Actor(u)
			}
			if _, err := r.Evaluate(score.OfAccount, actors, today, score.Facts{Members: len(users)}); err != nil {
				b.Fatal(err)
			}
		}
		scoring := time.Since(start)
		// The daily sweep of a running server: cells no window reads, and
		// visitors never identified, gone quiet.
		roll.Prune(today)
		roll.DropVisitors(today - signal.VisitorDays)
		b.ReportMetric(float64(roll.Len()), "actors")
		member, gen = nil, nil
		runtime.GC()
		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(events)/adding.Seconds(), "events/s")
		b.ReportMetric(float64(scoring.Microseconds())/float64(len(accounts)), "µs/account")
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/float64(len(accounts)), "bytes/account")
		b.ReportMetric(float64(events), "events")
		// The same without the visitors: what users' rollups cost alone.
		roll.DropVisitors(math.MaxInt32)
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/float64(len(accounts)), "user-bytes/account")
		runtime.KeepAlive(roll)
		runtime.KeepAlive(accounts)
		b.StartTimer()
	}
}

// Scoring one active account with the default rules, as a pass does for
// every subject.
func BenchmarkEvaluate(b *testing.B) {
	r := rules(b, "pql-150")
	roll := signal.NewRollups(r.Signals)
	for i := range 60 {
		e := event.Event{Type: event.Track, Name: []string{"Invite Sent", "Project Created", "Report Viewed"}[i%3],
			Timestamp: now.AddDate(0, 0, -i/3), Properties: []byte(`{"project_count":3}`)}
		roll.Add(fmt.Sprint(i%2), &e)
	}
	actors := []*signal.Actor{roll.Actor("0"), roll.Actor("1")}
	f := score.Facts{Members: 2, BusinessEmail: true}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Evaluate(score.OfAccount, actors, signal.Day(now), f); err != nil {
			b.Fatal(err)
		}
	}
}

// An account's activity, which each account rescore measures beside its
// scores: against BenchmarkEvaluate, what it adds to a pass.
func BenchmarkActivity(b *testing.B) {
	r := rules(b, "pql-150")
	roll := signal.NewRollups(r.Signals)
	members := make([]string, 8)
	actors := make([]*signal.Actor, 8)
	for u := range members {
		members[u] = fmt.Sprint("user-", u)
		for d := range 30 {
			if (u+d)%3 != 0 {
				e := event.Event{Type: event.Track, Name: "Report Viewed", Timestamp: now.AddDate(0, 0, -d)}
				roll.Add(members[u], &e)
			}
		}
		actors[u] = roll.Actor(members[u])
	}
	b.ReportAllocs()
	for b.Loop() {
		if len(score.ActivityOf(members, actors, signal.Day(now))) == 0 {
			b.Fatal("no activity")
		}
	}
}

package score_test

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/beaconplg/beacon/internal/event"
	"github.com/beaconplg/beacon/internal/identity"
	"github.com/beaconplg/beacon/internal/score"
	"github.com/beaconplg/beacon/internal/sim"
	"github.com/beaconplg/beacon/internal/store/storetest"
)

// replaying feeds a world to a live pipeline whose clock is the time of the
// latest event, so scores move as they would have while it happened.
type replaying struct {
	stepping
	now *time.Time
}

func (r replaying) AppendEvents(ctx context.Context, evs []event.Event) (int, error) {
	for _, e := range evs {
		if e.Timestamp.After(*r.now) {
			*r.now = e.Timestamp
		}
	}
	return r.stepping.AppendEvents(ctx, evs)
}

// BenchmarkPQLConversion measures the default rubric against the demo
// world's ground truth: of the accounts that became Warm or Hot PQLs at
// least 30 days before the world's end, how many paid afterwards (seed 004:
// PQL-to-paid typically 25-30 %, below 15 % the definition is too loose),
// and what share of activated accounts became PQLs (below 5 %, too
// strict). BEACON_BENCH_ACCOUNTS sizes the world (default 1,000).
func BenchmarkPQLConversion(b *testing.B) {
	p := sim.DefaultParams()
	p.Accounts = envInt("BEACON_BENCH_ACCOUNTS", 1000)
	dir := b.TempDir()
	if _, err := p.Simulate(dir); err != nil {
		b.Fatal(err)
	}
	truth := readTruth(b, dir)
	for b.Loop() {
		db := storetest.SQLite(b)
		now := p.Start
		scorer := score.New(db, rules(b, "pql-150"), quiet, func() time.Time { return now })
		ids := identity.New(db, quiet, scorer.Signals())
		importCRM(b, dir, ids)
		live := stepping{db: db, ids: ids, scorer: scorer, t: b, counts: &counts{}}
		importEvents(b, dir, replaying{live, &now})
		live.settle(context.Background())

		pqls, paid, activated := map[string]int{}, map[string]int{}, 0
		for id, acc := range truth {
			if acc.Activated {
				activated++
			}
			hist, err := db.ScoreHistory(context.Background(), "pql", score.Subject(score.OfAccount, id), 1000)
			if err != nil {
				b.Fatal(err)
			}
			tier, day := "", -1
			for i := len(hist) - 1; i >= 0; i-- { // oldest first
				if h := hist[i]; (h.Tier == "warm" || h.Tier == "hot") && day < 0 {
					tier, day = h.Tier, int(h.At.Sub(p.Start).Hours()/24)
				}
			}
			if day < 0 || day > p.Days-30 {
				continue
			}
			pqls[tier]++
			if acc.Converted && acc.ConvertedDay >= day {
				paid[tier]++
			}
		}
		all, allPaid := pqls["warm"]+pqls["hot"], paid["warm"]+paid["hot"]
		b.ReportMetric(100*float64(allPaid)/float64(max(all, 1)), "%pql→paid")
		b.ReportMetric(100*float64(paid["hot"])/float64(max(pqls["hot"], 1)), "%hot→paid")
		b.ReportMetric(100*float64(paid["warm"])/float64(max(pqls["warm"], 1)), "%warm→paid")
		b.ReportMetric(100*float64(all)/float64(max(activated, 1)), "%activated→pql")
		b.ReportMetric(float64(all), "pqls")
	}
}

type truthAccount struct {
	Kind         string `json:"kind"`
	GroupID      string `json:"group_id"`
	Activated    bool   `json:"activated"`
	Converted    bool   `json:"converted"`
	ConvertedDay int    `json:"converted_day"`
}

func readTruth(b *testing.B, dir string) map[string]truthAccount {
	f, err := os.Open(filepath.Join(dir, sim.TruthFile))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	out := map[string]truthAccount{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var a truthAccount
		if err := json.Unmarshal(sc.Bytes(), &a); err != nil {
			b.Fatal(err)
		}
		if a.Kind == "account" {
			out[a.GroupID] = a
		}
	}
	return out
}

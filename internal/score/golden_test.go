package score_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/beaconplg/beacon/internal/identity"
	"github.com/beaconplg/beacon/internal/score"
	"github.com/beaconplg/beacon/internal/store"
	"github.com/beaconplg/beacon/internal/store/storetest"
)

var update = flag.Bool("update", false, "write the golden files of this run")

// golden is where the demo world's scores and alerts are kept, by a
// digest of every line and their counts by scorecard and tier.
const golden = "testdata/golden/demo-world.txt"

// The demo world (400 accounts, 75 days) scores, tiers, gives reasons and
// raises alerts exactly as it did when the golden file was written, on
// both engines: a change of structure (stages, storage) must leave every
// one of them as it was. A change of rules or of the simulated world that
// moves them is written again with -update, and says so in its commit.
func TestGoldenDemoWorld(t *testing.T) {
	dir, end := world(t)
	ctx := context.Background()
	r := rules(t, "pql-150")
	for _, eng := range storetest.Engines(t) {
		t.Run(eng.Name, func(t *testing.T) {
			db := eng.Open(t)
			ids := identity.New(db, quiet, nil)
			importCRM(t, dir, ids)
			scorer := score.New(db, r, quiet, func() time.Time { return end })
			loaded := stepping{db: db, ids: ids, scorer: scorer, t: t, counts: &counts{}}
			importEvents(t, dir, batched{loaded})
			loaded.settle(ctx)
			lines, summary := canonical(t, db, r)
			sum := sha256.Sum256([]byte(strings.Join(lines, "\n")))
			got := fmt.Sprintf("sha256 %s\n%s", hex.EncodeToString(sum[:]), summary)
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				full := filepath.Join(os.TempDir(), "beacon-demo-world-"+eng.Name+".txt")
				_ = os.WriteFile(full, []byte(strings.Join(lines, "\n")), 0o644)
				t.Logf("wrote %s; every line in %s", golden, full)
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want) {
				t.Fatalf("the demo world scores differently from the golden file:\n%s\nwant:\n%s\n(go test -run TestGoldenDemoWorld -update writes every line to a temporary file, to diff)",
					got, want)
			}
		})
	}
}

// canonical writes every score (scorecard, subject, score, tier, reasons)
// and every alert (subject, tiers, score, segment, zone, actions) as sorted
// lines, and counts them by scorecard and tier.
func canonical(t *testing.T, db *store.DB, r *score.Rules) ([]string, string) {
	t.Helper()
	var lines []string
	counts := map[string]int{}
	for k, s := range allScores(t, db, r) {
		lines = append(lines, fmt.Sprintf("score %s %g %s %s", k, s.Score, s.Tier, s.Reasons))
		counts[s.Scorecard+" "+s.Tier]++
	}
	als, _, err := db.ListAlerts(context.Background(), store.AlertQuery{Limit: 1 << 30})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range als {
		lines = append(lines, fmt.Sprintf("alert %s %s %s→%s %g %s %s %v", a.Scorecard, a.Subject, a.PreviousTier, a.Tier, a.Score,
			a.Segment, a.Zone, a.Actions))
		counts["alerts"]++
	}
	slices.Sort(lines)
	var summary []string
	for k, n := range counts {
		summary = append(summary, fmt.Sprintf("%s %d", k, n))
	}
	slices.Sort(summary)
	return lines, strings.Join(summary, "\n") + "\n"
}

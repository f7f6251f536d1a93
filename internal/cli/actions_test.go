package cli

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/beaconplg/beacon/internal/store"
	"github.com/beaconplg/beacon/internal/store/storetest"
)

// actions list shows dead deliveries with their error; actions retry makes
// them due again, and names a delivery that cannot be retried.
func TestActionsCommands(t *testing.T) {
	ctx := context.Background()
	file := filepath.Join(t.TempDir(), "b.db")
	db, err := store.Open(ctx, file)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	storetest.DeadDelivery(t, db, "hook", "HTTP 410: gone", time.Now())
	// A second destination with nothing dead: list --state dead leaves it out.
	if err := db.SaveScores(ctx, store.ScoreBatch{Alerts: []store.Alert{{Scorecard: "pql", Subject: "account:b", Tier: "hot",
		Payload: []byte(`{}`), CreatedAt: time.Now(), Destinations: []string{"slack"}}}}); err != nil {
		t.Fatal(err)
	}
	db.Close()

	out, err := beacon(t, "actions", "list", "--db", file, "--state", "dead")
	if err != nil || !strings.Contains(out, "hook") || !strings.Contains(out, "HTTP 410: gone") || strings.Contains(out, "slack") {
		t.Fatalf("list dead: %s %v", out, err)
	}
	if out, err := beacon(t, "actions", "retry", "--db", file); err != nil || !strings.Contains(out, "1 deliveries") {
		t.Fatalf("retry: %s %v", out, err)
	}
	if out, err := beacon(t, "actions", "list", "--db", file, "--state", "dead"); err != nil || strings.Contains(out, "hook") {
		t.Fatalf("still dead after retry: %s %v", out, err)
	}
	if out, err := beacon(t, "actions", "retry", "--db", file, "99"); err == nil || !strings.Contains(out+err.Error(), "delivery 99") {
		t.Fatalf("retry of no delivery: %s %v", out, err)
	}
}

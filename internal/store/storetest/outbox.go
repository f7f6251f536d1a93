package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/beaconplg/beacon/internal/store"
)

// DeadDelivery writes an alert with one delivery to destination and records
// that delivery as dead with msg, as a dispatcher would.
func DeadDelivery(t testing.TB, db *store.DB, destination, msg string, at time.Time) store.Delivery {
	t.Helper()
	ctx := context.Background()
	err := db.SaveScores(ctx, store.ScoreBatch{Alerts: []store.Alert{{Scorecard: "pql", Subject: "account:a", Tier: "hot",
		Payload: []byte(`{}`), CreatedAt: at, Destinations: []string{destination}}}})
	if err != nil {
		t.Fatal(err)
	}
	ds, err := db.Claim(ctx, destination, at, time.Minute, 1)
	if err != nil || len(ds) != 1 {
		t.Fatalf("claim: %v %v", ds, err)
	}
	if err := db.Settle(ctx, []store.Outcome{{ID: ds[0].ID, At: at, Err: msg}}); err != nil {
		t.Fatal(err)
	}
	return ds[0]
}

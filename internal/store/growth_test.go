package store_test

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/beaconplg/beacon/internal/store"
	"github.com/beaconplg/beacon/internal/store/storetest"
)

// What the metrics read of every account, membership and tier entry, on
// both engines: the lean reads keep the fields a pass needs, and a tier's
// first entry is its earliest.
func TestMetricsReads(t *testing.T) {
	ctx := context.Background()
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, eng := range storetest.Engines(t) {
		t.Run(eng.Name, func(t *testing.T) {
			db := eng.Open(t)
			a := store.Account{ID: "ws1", Kind: store.KindGroup, Name: "Acme", Domains: []string{"acme.com"}, Employees: 120,
				OpenOpportunity: true, CRMID: "crm:1", Traits: map[string]any{"plan": "pro"}, CreatedAt: at}
			b := store.Account{ID: "ws2", Kind: store.KindGroup, Traits: map[string]any{}, CreatedAt: at}
			err := db.Project(ctx, func(tx store.IdentityTx) error {
				return errors.Join(tx.PutAccount(ctx, a), tx.PutAccount(ctx, b),
					tx.PutMembership(ctx, store.Membership{UserID: "u1", AccountID: "ws1", Method: store.MethodGroup, Confidence: 1, CreatedAt: at}))
			})
			if err != nil {
				t.Fatal(err)
			}
			lean, err := db.AllAccountsLean(ctx)
			slices.SortFunc(lean, func(x, y store.Account) int { return cmp.Compare(x.ID, y.ID) })
			want := []store.Account{{ID: "ws1", Kind: store.KindGroup, Domains: []string{"acme.com"}, Employees: 120, OpenOpportunity: true, CRMID: "crm:1"},
				{ID: "ws2", Kind: store.KindGroup}}
			if err != nil || len(lean) != 2 || !slices.Equal(lean[0].Domains, want[0].Domains) || lean[0].Employees != 120 ||
				!lean[0].OpenOpportunity || lean[0].CRMID != "crm:1" || lean[1].ID != "ws2" || lean[1].Domains != nil {
				t.Fatalf("lean accounts %+v (%v), want %+v", lean, err, want)
			}
			pairs, err := db.AllMembershipPairs(ctx)
			if err != nil || len(pairs) != 1 || pairs[0] != (store.Membership{UserID: "u1", AccountID: "ws1"}) {
				t.Fatalf("membership pairs %+v (%v)", pairs, err)
			}

			hist := []store.ScoreEvent{
				{Scorecard: "pql", Subject: "account:ws1", At: at.Add(2 * time.Hour), Score: 90, Tier: "hot", PreviousTier: "warm"},
				{Scorecard: "pql", Subject: "account:ws1", At: at, Score: 60, Tier: "warm"},
				{Scorecard: "pql", Subject: "account:ws1", At: at.Add(time.Hour), Score: 40, Tier: "watching", PreviousTier: "warm"},
				{Scorecard: "pql", Subject: "account:ws1", At: at.Add(3 * time.Hour), Score: 65, Tier: "warm", PreviousTier: "hot"},
				{Scorecard: "health", Subject: "account:ws1", At: at, Score: 10, Tier: "red"},
			}
			for i := range hist {
				hist[i].Reasons = []byte(`[]`)
			}
			if err := db.SaveScores(ctx, store.ScoreBatch{History: hist}); err != nil {
				t.Fatal(err)
			}
			entries, err := db.TierEntries(ctx, "pql")
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]time.Time{}
			for _, e := range entries {
				got[e.Subject+" "+e.Tier] = e.At
			}
			if len(got) != 3 || !got["account:ws1 warm"].Equal(at) || !got["account:ws1 hot"].Equal(at.Add(2*time.Hour)) {
				t.Fatalf("tier entries %v", got)
			}

			checkDeliveryTimes(t, db, at)

			if n, err := db.BillingCount(ctx); err != nil || n != 0 {
				t.Fatalf("billing count %d (%v)", n, err)
			}
			if _, err := db.AddBillingEvent(ctx, store.BillingEvent{ID: "evt_1", Source: "stripe", Type: "customer.created", Created: at, ReceivedAt: at, Body: []byte(`{}`)}); err != nil {
				t.Fatal(err)
			}
			if n, err := db.BillingCount(ctx); err != nil || n != 1 {
				t.Fatalf("billing count %d (%v), want 1", n, err)
			}
		})
	}
}

// checkDeliveryTimes: the delivered deliveries to the destinations named,
// with their alert's time; pending ones and other destinations are not.
func checkDeliveryTimes(t *testing.T, db *store.DB, at time.Time) {
	t.Helper()
	ctx := context.Background()
	err := db.SaveMetricLevels(ctx, nil, []store.Alert{{Scorecard: "pql", Subject: "account:ws1", Tier: "hot", Payload: []byte(`{}`),
		CreatedAt: at, Destinations: []string{"hubspot", "slack"}}})
	if err != nil {
		t.Fatal(err)
	}
	claimed, err := db.Claim(ctx, "hubspot", at.Add(time.Minute), time.Minute, 10)
	if err != nil || len(claimed) != 1 {
		t.Fatalf("claimed %d (%v)", len(claimed), err)
	}
	if err := db.Settle(ctx, []store.Outcome{{ID: claimed[0].ID, At: at.Add(90 * time.Second)}}); err != nil {
		t.Fatal(err)
	}
	got, err := db.DeliveryTimes(ctx, at.Add(-time.Hour), []string{"hubspot", "salesforce"})
	if err != nil || len(got) != 1 || got[0].Destination != "hubspot" || !got[0].Created.Equal(at) || !got[0].DeliveredAt.Equal(at.Add(90*time.Second)) {
		t.Fatalf("delivery times %+v (%v)", got, err)
	}
	if got, err := db.DeliveryTimes(ctx, at.Add(time.Second), []string{"hubspot"}); err != nil || len(got) != 0 {
		t.Fatalf("alerts raised before since: %+v (%v)", got, err)
	}
}

package store_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/beaconplg/beacon/internal/store"
	"github.com/beaconplg/beacon/internal/store/storetest"
)

// The outbox, on every engine: alerts commit with their scores, deliveries
// go through their states, and nothing claimed is lost when a dispatcher
// stops.
func TestOutbox(t *testing.T) {
	for _, e := range storetest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			t.Run("states", func(t *testing.T) { t.Parallel(); testOutboxStates(t, e.Open(t)) })
			t.Run("alerts commit with scores or not at all", func(t *testing.T) { t.Parallel(); testAlertsAtomic(t, e.Open(t)) })
			t.Run("concurrent claims never share", func(t *testing.T) { t.Parallel(); testClaimsApart(t, e.Open(t)) })
			t.Run("ack", func(t *testing.T) { t.Parallel(); testAck(t, e.Open(t)) })
			t.Run("queue filters", func(t *testing.T) { t.Parallel(); testQueueFilters(t, e.Open(t)) })
			t.Run("latest alerts", func(t *testing.T) { t.Parallel(); testLatestAlerts(t, e.Open(t)) })
			t.Run("a large batch keeps each delivery with its alert", func(t *testing.T) { t.Parallel(); testAlertBatch(t, e.Open(t)) })
		})
	}
}

var t0 = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

func alertBatch(subject string, dests ...string) store.ScoreBatch {
	return store.ScoreBatch{
		Scores: []store.Score{{Scorecard: "pql", Subject: subject, Score: 85, Tier: "hot", RulesVersion: "v1",
			UpdatedAt: t0, TierSince: t0}},
		Alerts: []store.Alert{{Scorecard: "pql", Subject: subject, Tier: "hot", PreviousTier: "warm", Score: 85,
			Segment: "mid_market", Zone: "sales_available", Actions: []string{"ae_now"},
			Payload: []byte(`{"account":"` + subject + `"}`), CreatedAt: t0, Destinations: dests}},
	}
}

func claim(t *testing.T, db *store.DB, at time.Time, limit int) []store.Delivery {
	t.Helper()
	ds, err := db.Claim(context.Background(), "", at, time.Minute, limit)
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

func states(t *testing.T, db *store.DB) map[string]string {
	t.Helper()
	ds, err := db.ListDeliveries(context.Background(), store.DeliveryQuery{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, d := range ds {
		out[d.Destination] = fmt.Sprintf("%s/%d", d.State, d.Attempts)
	}
	return out
}

func testOutboxStates(t *testing.T, db *store.DB) {
	ctx := context.Background()
	if err := db.SaveScores(ctx, alertBatch("account:a1", "hook", "slack", "crm")); err != nil {
		t.Fatal(err)
	}
	if got := claim(t, db, t0.Add(-time.Second), 10); len(got) != 0 {
		t.Fatalf("claimed %d before they were due", len(got))
	}
	one, err := db.Claim(ctx, "slack", t0, time.Minute, 10)
	if err != nil || len(one) != 1 || one[0].Destination != "slack" {
		t.Fatalf("claim for slack: %+v, %v", one, err)
	}
	got := append(one, claim(t, db, t0, 10)...)
	if len(got) != 3 || got[1].Alert == nil || string(got[1].Alert.Payload) != `{"account":"account:a1"}` ||
		got[1].Alert.Actions[0] != "ae_now" || got[1].Attempts != 1 {
		t.Fatalf("claimed %+v", got)
	}
	if again := claim(t, db, t0.Add(30*time.Second), 10); len(again) != 0 {
		t.Fatalf("claimed %d still leased", len(again))
	}
	// The dispatcher stopped: after the lease they are taken again.
	retaken := claim(t, db, t0.Add(2*time.Minute), 10)
	if len(retaken) != 3 || retaken[0].Attempts != 2 {
		t.Fatalf("after the lease: %+v", retaken)
	}
	at := t0.Add(2 * time.Minute)
	ids := map[string]int64{}
	for _, d := range retaken {
		ids[d.Destination] = d.ID
	}
	if err := db.Settle(ctx, []store.Outcome{
		{ID: ids["hook"], At: at},
		{ID: ids["slack"], At: at, Err: "503 Service Unavailable", Retry: at.Add(time.Hour)},
		{ID: ids["crm"], At: at, Err: "401 Unauthorized"},
	}); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"hook": "delivered/2", "slack": "failed/2", "crm": "dead/2"}
	if got := states(t, db); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("states %v, want %v", got, want)
	}
	if early := claim(t, db, at.Add(time.Minute), 10); len(early) != 0 {
		t.Fatalf("claimed %d before the retry time", len(early))
	}
	late := claim(t, db, at.Add(time.Hour), 10)
	if len(late) != 1 || late[0].Destination != "slack" || late[0].Attempts != 3 {
		t.Fatalf("at the retry time: %+v", late)
	}
	// A late outcome for a delivery an operator revived meanwhile is ignored.
	if err := db.Settle(ctx, []store.Outcome{{ID: ids["crm"], At: at}}); err != nil {
		t.Fatal(err)
	}
	if n, err := db.Retry(ctx, at, nil, ""); err != nil || n != 1 {
		t.Fatalf("retry dead: %d, %v", n, err)
	}
	if got := states(t, db)["crm"]; got != "pending/0" {
		t.Fatalf("crm after retry: %s", got)
	}
	if _, err := db.Retry(ctx, at, []int64{ids["hook"]}, ""); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("retrying a delivered one: %v", err)
	}
	// crm leaves the configuration: what waits for it is dead, the rest stays.
	if n, err := db.Unroutable(ctx, []string{"hook", "slack"}, at); err != nil || n != 1 {
		t.Fatalf("unroutable: %d, %v", n, err)
	}
	if got := states(t, db)["crm"]; got != "dead/0" {
		t.Fatalf("crm once unconfigured: %s", got)
	}
}

func testAlertsAtomic(t *testing.T, db *store.DB) {
	ctx := context.Background()
	b := alertBatch("account:a2", "hook", "hook") // the same destination twice breaks the batch
	if err := db.SaveScores(ctx, b); err == nil {
		t.Fatal("saved a batch with a duplicate delivery")
	}
	if ss, _ := db.SubjectScores(ctx, "account:a2"); len(ss) != 0 {
		t.Fatalf("scores kept from a failed batch: %+v", ss)
	}
	if as, _ := db.AlertsOf(ctx, "account:a2", 10); len(as) != 0 {
		t.Fatalf("alerts kept from a failed batch: %+v", as)
	}
}

func testClaimsApart(t *testing.T, db *store.DB) {
	ctx := context.Background()
	for i := range 50 {
		if err := db.SaveScores(ctx, alertBatch(fmt.Sprint("account:c", i), "hook")); err != nil {
			t.Fatal(err)
		}
	}
	var mu sync.Mutex
	seen := map[int64]int{}
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				ds, err := db.Claim(ctx, "", t0, time.Minute, 7)
				if err != nil {
					t.Error(err)
					return
				}
				if len(ds) == 0 {
					return
				}
				mu.Lock()
				for _, d := range ds {
					seen[d.ID]++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(seen) != 50 {
		t.Fatalf("claimed %d of 50", len(seen))
	}
	for id, n := range seen {
		if n != 1 {
			t.Fatalf("delivery %d claimed %d times", id, n)
		}
	}
}

func testAck(t *testing.T, db *store.DB) {
	ctx := context.Background()
	if err := db.SaveScores(ctx, alertBatch("account:a3")); err != nil {
		t.Fatal(err)
	}
	as, err := db.AlertsOf(ctx, "account:a3", 10)
	if err != nil || len(as) != 1 {
		t.Fatalf("alerts %+v, %v", as, err)
	}
	first, err := db.Ack(ctx, as[0].ID, "ana@example.com", t0.Add(20*time.Minute))
	if err != nil || first.AckedBy != "ana@example.com" || !first.AckedAt.Equal(t0.Add(20*time.Minute)) {
		t.Fatalf("ack: %+v, %v", first, err)
	}
	second, err := db.Ack(ctx, as[0].ID, "bo@example.com", t0.Add(2*time.Hour))
	if err != nil || second.AckedBy != "ana@example.com" || !second.AckedAt.Equal(first.AckedAt) {
		t.Fatalf("a second ack changed the first: %+v, %v", second, err)
	}
	if _, err := db.Ack(ctx, as[0].ID+1000, "x", t0); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("ack of no alert: %v", err)
	}
}

func testQueueFilters(t *testing.T, db *store.DB) {
	ctx := context.Background()
	err := db.Project(ctx, func(tx store.IdentityTx) error {
		for _, a := range []store.Account{
			{ID: "acme", Kind: store.KindGroup, Name: "Acme 100%", Domains: []string{"acme.example"}, Owner: "dana", Traits: map[string]any{}},
			{ID: "globex", Kind: store.KindGroup, Name: "Globex", Domains: []string{"globex.example"}, Traits: map[string]any{}},
		} {
			if err := tx.PutAccount(ctx, a); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	b := alertBatch("account:acme")
	b.Scores = append(b.Scores, store.Score{Scorecard: "pql", Subject: "account:globex", Score: 40, Tier: "watching",
		RulesVersion: "v1", UpdatedAt: t0, TierSince: t0})
	if err := db.SaveScores(ctx, b); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		q    store.ScoreQuery
		want string
	}{
		{store.ScoreQuery{}, "[account:acme account:globex]"},
		{store.ScoreQuery{Search: "ACME"}, "[account:acme]"},
		{store.ScoreQuery{Search: "globex.exa"}, "[account:globex]"},
		{store.ScoreQuery{Search: "100%"}, "[account:acme]"},
		{store.ScoreQuery{Search: "%"}, "[account:acme]"}, // a literal %, in "Acme 100%" only
		{store.ScoreQuery{Search: "_"}, "[]"},
		{store.ScoreQuery{Owner: "dana"}, "[account:acme]"},
		{store.ScoreQuery{Segment: "mid_market"}, "[account:acme]"},
		{store.ScoreQuery{Segment: "smb"}, "[]"},
	} {
		tc.q.Scorecard, tc.q.Kind, tc.q.Sort, tc.q.Limit = "pql", "account", "-score", 10
		ss, total, err := db.ListScores(ctx, tc.q)
		if err != nil {
			t.Fatalf("%+v: %v", tc.q, err)
		}
		var got []string
		for _, s := range ss {
			got = append(got, s.Subject)
		}
		if fmt.Sprint(got) != tc.want && !(tc.want == "[]" && len(got) == 0) || total != len(ss) {
			t.Errorf("%+v: %v (total %d), want %s", tc.q, got, total, tc.want)
		}
	}
}

func testLatestAlerts(t *testing.T, db *store.DB) {
	ctx := context.Background()
	for _, b := range []store.ScoreBatch{alertBatch("account:acme"), alertBatch("account:globex"), alertBatch("account:acme")} {
		if err := db.SaveScores(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	got, err := db.LatestAlerts(ctx, []string{"account:acme", "account:globex", "account:none"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got["account:acme"].ID != 3 || got["account:globex"].ID != 2 {
		t.Fatalf("latest: %+v", got)
	}
}

// 123 alerts take statements of 100, 10 and 1, and one subject alerts twice:
// every alert gets its own two deliveries.
func testAlertBatch(t *testing.T, db *store.DB) {
	ctx := context.Background()
	var b store.ScoreBatch
	for i := range 123 {
		subject := fmt.Sprint("account:a", i)
		if i == 122 {
			subject = "account:a5"
		}
		b.Alerts = append(b.Alerts, store.Alert{Scorecard: "pql", Subject: subject, Tier: "hot", Score: float64(i),
			Payload: []byte(fmt.Sprintf(`{"n":%d}`, i)), CreatedAt: t0, Destinations: []string{"hook", "crm"}})
	}
	if err := db.SaveScores(ctx, b); err != nil {
		t.Fatal(err)
	}
	ds, err := db.ListDeliveries(ctx, store.DeliveryQuery{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 246 {
		t.Fatalf("%d deliveries, want 246", len(ds))
	}
	per := map[int64][]string{}
	for _, d := range ds {
		per[d.AlertID] = append(per[d.AlertID], d.Destination)
	}
	scores := map[float64]bool{}
	for id, dests := range per {
		a, err := db.Alert(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(dests)
		if !slices.Equal(dests, []string{"crm", "hook"}) || string(a.Payload) != fmt.Sprintf(`{"n":%v}`, a.Score) {
			t.Errorf("alert %d (%s, %s): deliveries %v", id, a.Subject, a.Payload, dests)
		}
		scores[a.Score] = true
	}
	if len(scores) != 123 {
		t.Errorf("%d alerts have deliveries, want 123", len(scores))
	}
}

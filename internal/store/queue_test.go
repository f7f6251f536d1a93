package store_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/beaconplg/beacon/internal/store"
)

var q0 = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

// queueOf saves scores on the pql card and lists it with q.
func queueOf(t *testing.T, db *store.DB, q store.ScoreQuery) []string {
	t.Helper()
	q.Scorecard, q.Kind, q.Limit = "pql", "account", 50
	if q.Sort == "" {
		q.Sort = "-score"
	}
	if q.Now.IsZero() {
		q.Now = q0
	}
	ss, total, err := db.ListScores(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	out := []string{}
	for _, s := range ss {
		_, id := store.SubjectID(s.Subject)
		out = append(out, id)
	}
	if total != len(out) {
		t.Fatalf("%+v: total %d for %d rows", q, total, len(out))
	}
	return out
}

func saveQueue(t *testing.T, db *store.DB, scores ...store.Score) {
	t.Helper()
	for i := range scores {
		s := &scores[i]
		s.Scorecard, s.Subject, s.RulesVersion, s.UpdatedAt = "pql", "account:"+s.Subject, "v1", q0
		if s.Tier == "" {
			s.Tier = "hot"
		}
	}
	if err := db.SaveScores(context.Background(), store.ScoreBatch{Scores: scores}); err != nil {
		t.Fatal(err)
	}
}

func testQueueSorts(t *testing.T, db *store.DB) {
	day := func(n int) time.Time { return q0.AddDate(0, 0, -n) }
	saveQueue(t, db,
		store.Score{Subject: "f", Score: 90, Momentum: 0, ActiveUsers: 5, TierSince: day(3), LastActive: day(9)},
		store.Score{Subject: "a", Score: 90, Momentum: 0, TierSince: day(3), LastActive: day(1)},
		store.Score{Subject: "b", Score: 90, Momentum: 2, TierSince: day(9), LastActive: day(5)},
		store.Score{Subject: "c", Score: 90, Momentum: 0, TierSince: day(1), LastActive: day(6)},
		store.Score{Subject: "d", Score: 90, Momentum: 0, TierSince: day(3), LastActive: day(0),
			Activity: []byte(`{"users":[1]}`)},
		store.Score{Subject: "e", Score: 120, Momentum: -1, TierSince: day(20), LastActive: day(30)},
	)
	for _, tc := range []struct{ sort, want string }{
		// The score, then rising momentum, then more users active this
		// week, then the newest in the tier, then the latest activity.
		{"-score", "[e b f c d a]"},
		{"score", "[c a d f b e]"},
		{"-momentum", "[b f d a c e]"},
		{"-tier_since", "[c f d a b e]"},
		{"tier_since", "[e b f d a c]"},
		{"-last_active", "[d a b c f e]"},
		{"last_active", "[e f c b a d]"},
	} {
		if got := fmt.Sprint(queueOf(t, db, store.ScoreQuery{Sort: tc.sort})); got != tc.want {
			t.Errorf("sort %s: %s, want %s", tc.sort, got, tc.want)
		}
	}
	ss, err := db.ScoresIn(context.Background(), "pql", []string{"account:d"})
	if err != nil || len(ss) != 1 || !ss[0].LastActive.Equal(day(0)) || string(ss[0].Activity) != `{"users":[1]}` {
		t.Fatalf("activity round trip: %+v (%v)", ss, err)
	}
}

func testQueueMine(t *testing.T, db *store.DB) {
	ctx := context.Background()
	err := db.Project(ctx, func(tx store.IdentityTx) error {
		for _, a := range []store.Account{
			{ID: "owned", Kind: store.KindGroup, Owner: "ana@seller.example", Traits: map[string]any{}},
			{ID: "given", Kind: store.KindGroup, Traits: map[string]any{}},
			{ID: "other", Kind: store.KindGroup, Owner: "bo@seller.example", Traits: map[string]any{}},
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
	saveQueue(t, db, store.Score{Subject: "owned", Score: 80}, store.Score{Subject: "given", Score: 85},
		store.Score{Subject: "other", Score: 90})
	if err := db.SaveScores(ctx, alertBatch("account:given")); err != nil {
		t.Fatal(err)
	}
	as, err := db.AlertsOf(ctx, "account:given", 1)
	if err != nil || len(as) != 1 {
		t.Fatal(err)
	}
	if _, err := db.Assign(ctx, as[0].ID, "ana@seller.example"); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(queueOf(t, db, store.ScoreQuery{Mine: "ana@seller.example"})); got != "[given owned]" {
		t.Fatalf("mine: %s", got)
	}
	if got := fmt.Sprint(queueOf(t, db, store.ScoreQuery{Owner: "ana@seller.example"})); got != "[owned]" {
		t.Fatalf("owner: %s", got)
	}
}

func testQueueHolds(t *testing.T, db *store.DB) {
	ctx := context.Background()
	saveQueue(t, db, store.Score{Subject: "snoozed", Score: 80}, store.Score{Subject: "out", Score: 85},
		store.Score{Subject: "open", Score: 70}, store.Score{Subject: "rising", Score: 60, Tier: "warm"})
	hold := func(subject, kind string, until time.Time) {
		t.Helper()
		h := store.Hold{Scorecard: "pql", Subject: "account:" + subject, Kind: kind, Reason: "not now", Until: until,
			Tier: "hot", By: "ana@seller.example", CreatedAt: q0}
		if _, err := db.PutHold(ctx, h, store.Note{AccountID: subject, Author: h.By, Body: kind, CreatedAt: q0}); err != nil {
			t.Fatal(err)
		}
	}
	hold("snoozed", store.HoldSnooze, q0.AddDate(0, 0, 7))
	hold("out", store.HoldDisqualify, time.Time{})
	hold("rising", store.HoldSnooze, q0.AddDate(0, 0, 7))
	if got := fmt.Sprint(queueOf(t, db, store.ScoreQuery{})); got != "[open]" {
		t.Fatalf("queue with holds: %s", got)
	}
	if got := fmt.Sprint(queueOf(t, db, store.ScoreQuery{Held: true})); got != "[out snoozed rising]" {
		t.Fatalf("held: %s", got)
	}
	// A week on, the snooze is over; the disqualification is not.
	if got := fmt.Sprint(queueOf(t, db, store.ScoreQuery{Now: q0.AddDate(0, 0, 8)})); got != "[snoozed open rising]" {
		t.Fatalf("a week on: %s", got)
	}
	// Its tier rises: its hold goes with the scores that raised it.
	rise := store.Score{Scorecard: "pql", Subject: "account:rising", Score: 95, Tier: "hot", RulesVersion: "v1", UpdatedAt: q0}
	if err := db.SaveScores(ctx, store.ScoreBatch{Scores: []store.Score{rise}, Risen: []store.Score{rise}}); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(queueOf(t, db, store.ScoreQuery{})); got != "[rising open]" {
		t.Fatalf("after the rise: %s", got)
	}
	hs, err := db.HoldsOf(ctx, "account:out")
	if err != nil || len(hs) != 1 || hs[0].Kind != store.HoldDisqualify || !hs[0].Active(q0.AddDate(1, 0, 0)) {
		t.Fatalf("holds of out: %+v (%v)", hs, err)
	}
	if err := db.DeleteHold(ctx, "pql", "account:out", store.Note{AccountID: "out", Author: "bo", Body: "back", CreatedAt: q0}); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteHold(ctx, "pql", "account:out", store.Note{AccountID: "out", Body: "again"}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("lifting no hold: %v", err)
	}
	ns, err := db.Notes(ctx, "out", 10)
	if err != nil || len(ns) != 2 || ns[0].Body != "back" || ns[1].Body != store.HoldDisqualify {
		t.Fatalf("notes of out: %+v (%v)", ns, err)
	}
}

func testHoldTier(t *testing.T, db *store.DB) {
	ctx := context.Background()
	saveQueue(t, db, store.Score{Subject: "warm", Score: 60, Tier: "warm"})
	cases := []struct{ subject, given, want string }{
		{"account:warm", "", "warm"},             // taken from its score
		{"account:warm", "watching", "watching"}, // given: kept
		{"account:unscored", "", ""},             // no score on the card: none
	}
	for _, c := range cases {
		h := store.Hold{Scorecard: "pql", Subject: c.subject, Kind: store.HoldSnooze, Until: q0.AddDate(0, 0, 7),
			Tier: c.given, By: "ana@seller.example", CreatedAt: q0}
		got, err := db.PutHold(ctx, h, store.Note{AccountID: c.subject, Author: h.By, Body: "snoozed", CreatedAt: q0})
		if err != nil {
			t.Fatal(err)
		}
		hs, err := db.HoldsOf(ctx, c.subject)
		if err != nil || len(hs) != 1 || got.Tier != c.want || hs[0].Tier != c.want {
			t.Fatalf("%s given %q: returned %q, stored %+v (%v); want %q", c.subject, c.given, got.Tier, hs, err, c.want)
		}
	}
}

func testNotes(t *testing.T, db *store.DB) {
	ctx := context.Background()
	for i, body := range []string{"called, no answer", "demo booked", "elsewhere"} {
		account := "acme"
		if i == 2 {
			account = "globex"
		}
		n, err := db.AddNote(ctx, store.Note{AccountID: account, Author: "ana@seller.example", Body: body,
			CreatedAt: q0.Add(time.Duration(i) * time.Hour)})
		if err != nil || n.ID == 0 {
			t.Fatalf("add: %+v (%v)", n, err)
		}
	}
	ns, err := db.Notes(ctx, "acme", 10)
	if err != nil || len(ns) != 2 || ns[0].Body != "demo booked" || ns[1].Body != "called, no answer" ||
		ns[0].Author != "ana@seller.example" || !ns[0].CreatedAt.Equal(q0.Add(time.Hour)) {
		t.Fatalf("notes: %+v (%v)", ns, err)
	}
}

func testLinkedAccounts(t *testing.T, db *store.DB) {
	ctx := context.Background()
	err := db.Project(ctx, func(tx store.IdentityTx) error {
		for _, a := range []store.Account{
			{ID: "crm:001", Kind: store.KindCRM, Name: "Acme Inc.", CRMID: "001", Traits: map[string]any{}},
			{ID: "ws-2", Kind: store.KindGroup, Name: "Acme EU", CRMID: "crm:001", CRMMethod: "name", Traits: map[string]any{}},
			{ID: "ws-1", Kind: store.KindGroup, Name: "Acme", CRMID: "crm:001", CRMMethod: "domain", Traits: map[string]any{}},
			{ID: "ws-3", Kind: store.KindGroup, Name: "Other", Traits: map[string]any{}},
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
	as, err := db.LinkedAccounts(ctx, "crm:001")
	if err != nil || len(as) != 2 || as[0].ID != "ws-1" || as[1].ID != "ws-2" {
		t.Fatalf("linked: %+v (%v)", as, err)
	}
	if as, err := db.LinkedAccounts(ctx, ""); err != nil || len(as) != 0 {
		t.Fatalf("linked to nothing: %+v (%v)", as, err)
	}
}

func testScoresAt(t *testing.T, db *store.DB) {
	ctx := context.Background()
	h := func(subject string, days int, score float64) store.ScoreEvent {
		return store.ScoreEvent{Scorecard: "pql", Subject: subject, At: q0.AddDate(0, 0, -days), Score: score, Tier: "hot", RulesVersion: "v1"}
	}
	b := store.ScoreBatch{History: []store.ScoreEvent{h("account:a", 20, 30), h("account:a", 9, 60), h("account:a", 2, 90),
		h("account:b", 3, 50), h("account:c", 7, 40)}}
	if err := db.SaveScores(ctx, b); err != nil {
		t.Fatal(err)
	}
	got, err := db.ScoresAt(ctx, "pql", []string{"account:a", "account:b", "account:c", "account:d"}, q0.AddDate(0, 0, -7))
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != "map[account:a:60 account:c:40]" {
		t.Fatalf("scores a week ago: %v", got)
	}
}

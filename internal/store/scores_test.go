package store_test

import (
	"context"
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/beaconplg/beacon/internal/store"
)

func testScoreStates(t *testing.T, db *store.DB) {
	ctx := context.Background()
	at := time.UnixMilli(1_770_000_000_000).UTC()
	scores := []store.Score{
		{Scorecard: "pql", Subject: "account:a", Score: 85, Tier: "hot", Reasons: []byte(`[{"label":"x"}]`),
			Signals: []byte(`{"x":1}`), RulesVersion: "v1", UpdatedAt: at, TierSince: at.Add(-time.Hour), Digest: math.MinInt64 + 7},
		{Scorecard: "pql", Subject: "account:b", Score: 40, Tier: "watching", RulesVersion: "v1", UpdatedAt: at,
			TierSince: at, Digest: math.MaxInt64},
		{Scorecard: "health", Subject: "account:a", Score: 3, Tier: "low", RulesVersion: "v2", UpdatedAt: at,
			TierSince: at, Digest: 5},
	}
	if err := db.SaveScores(ctx, store.ScoreBatch{Scores: scores}); err != nil {
		t.Fatal(err)
	}
	state := func(s store.Score) store.ScoreState {
		return store.ScoreState{Scorecard: s.Scorecard, Subject: s.Subject, Score: s.Score, Tier: s.Tier, RulesVersion: s.RulesVersion,
			TierSince: s.TierSince, Digest: s.Digest}
	}
	all, err := db.AllScoreStates(ctx)
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]store.ScoreState{}
	for _, s := range all {
		byID[s.Scorecard+" "+s.Subject] = s
	}
	want := map[string]store.ScoreState{"pql account:a": state(scores[0]), "pql account:b": state(scores[1]),
		"health account:a": state(scores[2])}
	if !reflect.DeepEqual(byID, want) {
		t.Fatalf("AllScoreStates = %+v, want %+v", byID, want)
	}
	some, err := db.ScoreStatesIn(ctx, "health", []string{"account:a", "account:b"})
	if err != nil {
		t.Fatal(err)
	}
	if len(some) != 1 || some[0] != state(scores[2]) {
		t.Fatalf("ScoreStatesIn(health) = %+v, want only %+v", some, state(scores[2]))
	}
	full, err := db.ScoresIn(ctx, "pql", []string{"account:a"})
	if err != nil {
		t.Fatal(err)
	}
	if len(full) != 1 || full[0].Digest != scores[0].Digest || string(full[0].Signals) != `{"x":1}` {
		t.Fatalf("ScoresIn = %+v", full)
	}
	// A subject's scores on every scorecard, in scorecard order.
	for subject, cards := range map[string][]string{"account:a": {"health", "pql"}, "account:b": {"pql"}, "account:c": nil} {
		got, err := db.SubjectScores(ctx, subject)
		var names []string
		for _, s := range got {
			if s.Subject != subject {
				t.Fatalf("SubjectScores(%s) returned %s", subject, s.Subject)
			}
			names = append(names, s.Scorecard)
		}
		if err != nil || !reflect.DeepEqual(names, cards) {
			t.Fatalf("SubjectScores(%s) = %v (%v), want %v", subject, names, err, cards)
		}
	}
	// A rewrite replaces the digest with the rest.
	scores[0].Digest, scores[0].Score = 11, 90
	if err := db.SaveScores(ctx, store.ScoreBatch{Scores: scores[:1]}); err != nil {
		t.Fatal(err)
	}
	again, err := db.ScoreStatesIn(ctx, "pql", []string{"account:a"})
	if err != nil {
		t.Fatal(err)
	}
	if len(again) != 1 || again[0] != state(scores[0]) {
		t.Fatalf("after a rewrite = %+v, want %+v", again, state(scores[0]))
	}
}

// testScoreRefreshed: a refreshed score writes all but its rank where it is
// stored, and the whole of it where it is not.
func testScoreRefreshed(t *testing.T, db *store.DB) {
	ctx := context.Background()
	at := time.UnixMilli(1_770_000_000_000).UTC()
	stored := store.Score{Scorecard: "pql", Subject: "account:a", Score: 60, Tier: "warm", Reasons: []byte(`[{"label":"x"}]`),
		Signals: []byte(`{"x":1}`), RulesVersion: "v1", UpdatedAt: at, TierSince: at.Add(-time.Hour), Digest: 1}
	if err := db.SaveScores(ctx, store.ScoreBatch{Scores: []store.Score{stored}}); err != nil {
		t.Fatal(err)
	}
	later := at.Add(time.Minute)
	refreshed := store.Score{Scorecard: "pql", Subject: "account:a", Score: 99, Tier: "hot", Reasons: []byte(`[{"label":"y"}]`),
		Signals: []byte(`{"x":2}`), RulesVersion: "v2", UpdatedAt: later, TierSince: later, Digest: 2}
	fresh := store.Score{Scorecard: "pql", Subject: "account:b", Score: 30, Tier: "watching", Reasons: []byte(`[]`),
		Signals: []byte(`{"x":3}`), RulesVersion: "v2", UpdatedAt: later, TierSince: later, Digest: 3}
	if err := db.SaveScores(ctx, store.ScoreBatch{Refreshed: []store.Score{refreshed, fresh}}); err != nil {
		t.Fatal(err)
	}
	got, err := db.ScoresIn(ctx, "pql", []string{"account:a", "account:b"})
	if err != nil {
		t.Fatal(err)
	}
	bySubject := map[string]store.Score{}
	for _, s := range got {
		bySubject[s.Subject] = s
	}
	a := bySubject["account:a"]
	if a.Score != stored.Score || a.Tier != stored.Tier || !a.TierSince.Equal(stored.TierSince) {
		t.Errorf("refreshed rank = %v %q since %v, want the stored %v %q since %v", a.Score, a.Tier, a.TierSince,
			stored.Score, stored.Tier, stored.TierSince)
	}
	if string(a.Signals) != `{"x":2}` || string(a.Reasons) != `[{"label":"y"}]` || a.RulesVersion != "v2" ||
		!a.UpdatedAt.Equal(later) || a.Digest != 2 {
		t.Errorf("refreshed rest = %s %s %q %v %d, want the new values", a.Signals, a.Reasons, a.RulesVersion, a.UpdatedAt, a.Digest)
	}
	b, ok := bySubject["account:b"]
	if !ok || b.Score != 30 || b.Tier != "watching" || string(b.Signals) != `{"x":3}` || b.Digest != 3 {
		t.Errorf("a refreshed score not stored = %+v (present %v), want it whole", b, ok)
	}
}

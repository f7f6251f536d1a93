package cli

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/beaconplg/beacon/internal/api"
	"github.com/beaconplg/beacon/internal/nudge"
	"github.com/beaconplg/beacon/internal/score"
	"github.com/beaconplg/beacon/internal/store"
)

// GET /v1/nudges answers a demo user at the seat limit with the upgrade
// prompt and the share it read; it wants the write key and a sane userId.
func TestNudgesAPI(t *testing.T) {
	base, db, secrets := runDemo(t)
	tierEdge(t, db) // scored
	get := func(key, user string, v any) int {
		req, _ := http.NewRequest(http.MethodGet, base+"/v1/nudges?userId="+url.QueryEscape(user), nil)
		if key != "" {
			req.SetBasicAuth(key, "")
		}
		return call(t, req, v)
	}
	ss, _, err := db.ListScores(context.Background(), store.ScoreQuery{Scorecard: "pql", Kind: score.OfAccount, Sort: "-score", Limit: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, s := range ss {
		var sig map[string]float64
		_ = json.Unmarshal(s.Signals, &sig)
		if sig["seat_quota"] < 0.8 {
			continue
		}
		_, id := store.SubjectID(s.Subject)
		users, err := db.AccountUsers(context.Background(), id)
		if err != nil || len(users) == 0 {
			continue
		}
		var a nudge.Answer
		if code := get(secrets.writeKey, users[0].UserID, &a); code != http.StatusOK {
			t.Fatalf("nudges of %s: %d", users[0].UserID, code)
		}
		for _, n := range a.Nudges {
			if n.Name == "seat_limit" && n.Kind == "upgrade" && strings.Contains(n.Message, "% of your plan's seats") &&
				n.Because["seat_quota"].(float64) >= 0.8 {
				found = true
			}
		}
		if !found {
			t.Fatalf("%s (seats %.2f) not nudged to upgrade: %+v", users[0].UserID, sig["seat_quota"], a)
		}
		break
	}
	if !found {
		t.Fatal("no demo account at its seat limit")
	}
	for _, tc := range []struct {
		key, user string
		code      int
		field     string
	}{
		{"", "u1", http.StatusUnauthorized, ""},
		{secrets.adminToken, "u1", http.StatusUnauthorized, ""},
		{secrets.writeKey, "", http.StatusBadRequest, "userId"},
		{secrets.writeKey, strings.Repeat("x", 257), http.StatusBadRequest, "userId"},
	} {
		var body struct{ Error api.Problem }
		if code := get(tc.key, tc.user, &body); code != tc.code || body.Error.Field != tc.field {
			t.Errorf("key %q user %.10q: %d %+v, want %d naming %q", tc.key, tc.user, code, body.Error, tc.code, tc.field)
		}
	}
}

package queue_test

import (
	"context"
	"encoding/csv"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/beaconplg/beacon/internal/queue"
	"github.com/beaconplg/beacon/internal/score"
	"github.com/beaconplg/beacon/internal/store"
	"github.com/beaconplg/beacon/internal/store/storetest"
)

var now = time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)

// world writes two hot accounts whose scores tie: acme, whose users grew
// this week, and globex; acme's champion is Ana, its most active user Bo.
func world(t *testing.T, db *store.DB) {
	t.Helper()
	ctx := context.Background()
	err := db.Project(ctx, func(tx store.IdentityTx) error {
		for _, a := range []store.Account{
			{ID: "acme", Kind: store.KindGroup, Name: "Acme", Owner: "dana@seller.example", Traits: map[string]any{}},
			{ID: "globex", Kind: store.KindGroup, Name: "=HYPERLINK(\"x\")", Traits: map[string]any{}},
		} {
			if err := tx.PutAccount(ctx, a); err != nil {
				return err
			}
		}
		for _, u := range []store.User{
			{ID: "ana", Email: "ana@acme.example", Traits: map[string]any{"name": "Ana Lima", "title": "CTO"}, FirstSeen: now, LastSeen: now},
			{ID: "bo", Email: "bo@acme.example", Traits: map[string]any{"firstName": "Bo", "lastName": "Chen"}, FirstSeen: now, LastSeen: now},
			{ID: "cy", Email: "cy@globex.example", Traits: map[string]any{}, FirstSeen: now, LastSeen: now},
		} {
			if err := tx.PutUser(ctx, u); err != nil {
				return err
			}
		}
		for _, m := range [][2]string{{"ana", "acme"}, {"bo", "acme"}, {"cy", "globex"}} {
			if err := tx.PutMembership(ctx, store.Membership{UserID: m[0], AccountID: m[1], Method: store.MethodGroup,
				Confidence: 1, CreatedAt: now}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	acme := `{"to":"2026-12-07","users":[0,0,0,0,0,0,0,1,1,0,2,2,1,2],"week":2,"prior_week":0,"people":[{"id":"bo","days":6},{"id":"ana","days":4}]}`
	globex := `{"to":"2026-12-05","users":[1,1,1,1,1,1,1,1,1,1,1,1,1,1],"week":1,"prior_week":1,"people":[{"id":"cy","days":14}]}`
	err = db.SaveScores(ctx, store.ScoreBatch{
		Scores: []store.Score{
			{Scorecard: "pql", Subject: "account:acme", Score: 90, Tier: "hot", RulesVersion: "v", UpdatedAt: now, TierSince: now,
				Reasons: []byte(`[{"rule":"a","label":"Invited 2+ teammates","points":25}]`), Momentum: 2,
				LastActive: now.Add(-2 * time.Hour), Activity: []byte(acme), Signals: []byte(`{"propensity":0.42,"teammates_invited":2}`)},
			{Scorecard: "pql", Subject: "account:globex", Score: 90, Tier: "hot", RulesVersion: "v", UpdatedAt: now, TierSince: now,
				Momentum: 0, LastActive: now.AddDate(0, 0, -2), Activity: []byte(globex)},
			{Scorecard: "champion", Subject: "user:ana", Score: 60, Tier: "champion", RulesVersion: "v", UpdatedAt: now, TierSince: now},
			{Scorecard: "champion", Subject: "user:bo", Score: 35, Tier: "engaged", RulesVersion: "v", UpdatedAt: now, TierSince: now},
		},
		History: []store.ScoreEvent{{Scorecard: "pql", Subject: "account:acme", At: now.AddDate(0, 0, -10), Score: 55, Tier: "warm",
			RulesVersion: "v"}},
		Alerts: []store.Alert{{Scorecard: "pql", Subject: "account:acme", Tier: "hot", Score: 90, Segment: "mid_market",
			Zone: "sales_available", Actions: []string{"ae_now"}, Payload: []byte(`{}`), CreatedAt: now.Add(-time.Hour), NeedsAck: true}},
	})
	if err != nil {
		t.Fatal(err)
	}
}

// A queue row names whom to call (the champion, the most active people, by
// name and title), says how the account moves (score over 7 days, active
// users this week against last, a sparkline up to today), carries a
// model's probability where the score kept one, and breaks the score's tie
// by momentum.
func TestPage(t *testing.T) {
	for _, eng := range storetest.Engines(t) {
		t.Run(eng.Name, func(t *testing.T) {
			t.Parallel()
			db := eng.Open(t)
			world(t, db)
			r := rules(t)
			rd := queue.New(db, func() time.Time { return now })
			q, err := queue.Parse(r, url.Values{}, "dana@seller.example")
			if err != nil {
				t.Fatal(err)
			}
			p, err := rd.Page(context.Background(), r, q)
			if err != nil {
				t.Fatal(err)
			}
			if p.Total != 2 || len(p.Rows) != 2 || p.Rows[0].ID != "acme" || p.Rows[1].ID != "globex" {
				t.Fatalf("rows: %+v", p.Rows)
			}
			acme := p.Rows[0]
			if acme.Change == nil || *acme.Change != 35 || acme.Momentum() != 2 || acme.Owner != "dana@seller.example" ||
				acme.Segment != "mid_market" || acme.Alert == nil || acme.TierLabel != "Hot PQL" || len(acme.Reasons) != 1 {
				t.Fatalf("acme: %+v", acme)
			}
			if acme.Propensity == nil || *acme.Propensity != 0.42 || p.Rows[1].Propensity != nil {
				t.Fatalf("the model's probability beside the score: %v and %v; want 0.42 for acme, none for globex", acme.Propensity, p.Rows[1].Propensity)
			}
			if c := acme.Champion; c == nil || c.Name != "Ana Lima" || c.Title != "CTO" || c.TierLabel != "champion" || c.ActiveDays != 4 {
				t.Fatalf("champion: %+v", acme.Champion)
			}
			if len(acme.People) != 2 || acme.People[0].Label() != "Bo Chen" || acme.People[0].ActiveDays != 6 {
				t.Fatalf("people: %+v", acme.People)
			}
			if !slices.Equal(acme.Activity, []int{0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 2, 2, 1, 2}) {
				t.Fatalf("acme's activity: %v", acme.Activity)
			}
			// Globex was last scored two days ago: the days since count no one.
			g := p.Rows[1]
			if g.Change != nil || g.Champion != nil || g.Activity[12] != 0 || g.Activity[13] != 0 || g.Activity[11] != 1 {
				t.Fatalf("globex: %+v", g)
			}
			// Mine: what dana owns.
			q.Mine = true
			if p, err := rd.Page(context.Background(), r, q); err != nil || p.Total != 1 || p.Rows[0].ID != "acme" {
				t.Fatalf("mine: %+v (%v)", p.Rows, err)
			}
		})
	}
}

// The export is the view's every row as CSV, in its order, with cells a
// spreadsheet would run as formulas defused.
func TestWriteCSV(t *testing.T) {
	db := storetest.Engines(t)[0].Open(t)
	world(t, db)
	r := rules(t)
	rd := queue.New(db, func() time.Time { return now })
	q, _ := queue.Parse(r, url.Values{"limit": {"1"}, "offset": {"1"}}, "")
	var b strings.Builder
	if err := rd.WriteCSV(context.Background(), &b, r, q); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(strings.NewReader(b.String())).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 3 || recs[0][0] != "account_id" || recs[1][0] != "acme" || recs[2][0] != "globex" {
		t.Fatalf("export: %v", recs)
	}
	row := map[string]string{}
	for i, h := range recs[0] {
		row[h] = recs[1][i]
	}
	if row["champion"] != "Ana Lima" || row["momentum"] != "2" || row["score_change_7d"] != "35" ||
		row["active_people"] != "Bo Chen <bo@acme.example> (6 days); Ana Lima <ana@acme.example> (4 days)" {
		t.Fatalf("acme's row: %v", row)
	}
	if got := recs[2][1]; got != `'=HYPERLINK("x")` {
		t.Fatalf("a formula name exported as %q", got)
	}
}

// Rules without a user scorecard name no champion, and still name the
// people of each account, by name and email.
func TestPeopleWithoutAUserScorecard(t *testing.T) {
	db := storetest.SQLite(t)
	world(t, db)
	sp, err := score.Preset("pql-150")
	if err != nil {
		t.Fatal(err)
	}
	sp.Scorecards = slices.DeleteFunc(sp.Scorecards, func(c score.ScorecardSpec) bool { return c.Of == score.OfUser })
	r, err := score.Compile(*sp)
	if err != nil {
		t.Fatal(err)
	}
	links := []store.Membership{{UserID: "ana", AccountID: "acme"}, {UserID: "bo", AccountID: "acme"}}
	champions, people, err := queue.Champions(context.Background(), db, r, links)
	if err != nil {
		t.Fatal(err)
	}
	if len(champions) != 0 || people["ana"].Email != "ana@acme.example" || people["bo"].Name != "Bo Chen" {
		t.Fatalf("champions %+v, people %+v", champions, people)
	}
}

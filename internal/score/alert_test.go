package score_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/beaconplg/beacon/internal/event"
	"github.com/beaconplg/beacon/internal/identity"
	"github.com/beaconplg/beacon/internal/score"
	"github.com/beaconplg/beacon/internal/store"
	"github.com/beaconplg/beacon/internal/store/storetest"
)

// sent numbers the messages msgs makes, so that none is a duplicate.
var sent atomic.Int64

// msgs decodes Segment messages, each sent daysAgo before at.
func msgs(t *testing.T, at time.Time, daysAgo int, lines ...string) []event.Event {
	t.Helper()
	var out []event.Event
	for i, l := range lines {
		ts := at.AddDate(0, 0, -daysAgo).Add(time.Duration(i) * time.Second).Format(time.RFC3339Nano)
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatal(err)
		}
		m["timestamp"], m["messageId"] = ts, fmt.Sprintf("m-%d", sent.Add(1))
		b, _ := json.Marshal(m)
		batch, err := event.DecodeOne(b, "", at)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, batch.Events...)
	}
	return out
}

// An account moving up into a routed tier raises an alert, with a delivery
// per destination of its actions, in the transaction of its score; moving
// down raises none; an account not active for a day is alerted quietly.
func TestAlerts(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 23, 15, 0, 0, 0, time.UTC)
	for _, eng := range storetest.Engines(t) {
		t.Run(eng.Name, func(t *testing.T) {
			sp, err := score.Preset("pql-150")
			if err != nil {
				t.Fatal(err)
			}
			for i, a := range sp.Routing.Actions {
				switch a.Name {
				case "ae_now":
					sp.Routing.Actions[i].To = []string{"sales-hook", "crm"}
				case "product_nurture":
					sp.Routing.Actions[i].To = []string{"nurture"}
				}
			}
			r, err := score.Compile(*sp)
			if err != nil {
				t.Fatal(err)
			}
			db := eng.Open(t)
			scorer := score.New(db, r, quiet, func() time.Time { return now })
			ids := identity.New(db, quiet, scorer.Signals())
			live := stepping{db: db, ids: ids, scorer: scorer, t: t, counts: &counts{}}
			send := func(evs []event.Event) { live.send(ctx, evs) }
			alerts := func(subject string) []store.Alert {
				as, err := db.AlertsOf(ctx, subject, 10)
				if err != nil {
					t.Fatal(err)
				}
				return as
			}

			// Acme (200 people: mid-market) creates a project: watching.
			send(msgs(t, now, 1,
				`{"type":"group","userId":"u1","groupId":"acme","traits":{"name":"Acme","employees":200}}`,
				`{"type":"identify","userId":"u1","traits":{"email":"ana@acme.example"}}`,
				`{"type":"track","userId":"u1","event":"Project Created","context":{"groupId":"acme"}}`))
			as := alerts("account:acme")
			if len(as) != 1 || as[0].Tier != "watching" || as[0].Zone != score.ZoneSalesAvailable ||
				fmt.Sprint(as[0].Actions) != "[product_nurture]" {
				t.Fatalf("after the first project: %+v", as)
			}
			// Invites, a teammate, pricing and support: hot.
			send(msgs(t, now, 0,
				`{"type":"track","userId":"u1","event":"Invite Sent","context":{"groupId":"acme"}}`,
				`{"type":"track","userId":"u1","event":"Invite Sent","context":{"groupId":"acme"}}`,
				`{"type":"group","userId":"u2","groupId":"acme"}`,
				`{"type":"track","userId":"u2","event":"Signed In","context":{"groupId":"acme"}}`,
				`{"type":"page","userId":"u1","name":"Pricing","context":{"groupId":"acme"}}`,
				`{"type":"track","userId":"u1","event":"Support Ticket Created","context":{"groupId":"acme"}}`))
			as = alerts("account:acme")
			if len(as) != 2 || as[0].Tier != "hot" || as[0].PreviousTier != "watching" || fmt.Sprint(as[0].Actions) != "[ae_now]" {
				t.Fatalf("after the invites: %+v", as)
			}
			var p score.AlertPayload
			if err := json.Unmarshal(as[0].Payload, &p); err != nil {
				t.Fatal(err)
			}
			if len(p.Account.People) != 1 || p.Account.People[0] != (score.Person{ID: "u1", Email: "ana@acme.example"}) {
				t.Fatalf("people of the alert: %+v", p.Account.People) // u2 has no email
			}
			if p.Account.Name != "Acme" || p.Account.Users != 2 || p.Segment != "mid_market" || p.Quiet ||
				len(p.Reasons) < 4 || p.Actions[0].Label != "Route immediately to an AE; respond in under 1 hour" {
				t.Fatalf("payload %+v", p)
			}
			// It carries the values behind its reasons, for whoever reads it.
			invited := -1.0
			for _, r := range p.Reasons {
				if n, ok := r.Signals["teammates_invited"].(float64); ok && r.Rule == "invited_teammates" {
					invited = n
				}
			}
			if views, _ := p.Signals["pricing_views"].(float64); invited != 2 || views != 1 {
				t.Fatalf("alert's values: teammates invited %v in its reasons, signals %v", invited, p.Signals)
			}
			ds, err := db.ListDeliveries(ctx, store.DeliveryQuery{AlertID: as[0].ID, Limit: 10})
			if err != nil || len(ds) != 2 || ds[0].State != store.Pending {
				t.Fatalf("deliveries of the hot alert: %+v, %v", ds, err)
			}
			if ds, _ := db.ListDeliveries(ctx, store.DeliveryQuery{AlertID: as[1].ID, Limit: 10}); len(ds) != 1 || ds[0].Destination != "nurture" {
				t.Fatalf("deliveries of the watching alert: %+v", ds)
			}

			// Stricter rules put Acme a tier down: history, no alert.
			for i, c := range sp.Scorecards {
				if c.Name == "pql" {
					sp.Scorecards[i].Tiers[2].Min = 120
				}
			}
			stricter, err := score.Compile(*sp)
			if err != nil {
				t.Fatal(err)
			}
			scorer.SetRules(stricter)
			live.step(ctx)
			got, _ := db.SubjectScores(ctx, "account:acme")
			if i := slices.IndexFunc(got, func(s store.Score) bool { return s.Scorecard == "pql" }); i < 0 || got[i].Tier != "warm" {
				t.Fatalf("not warm under the stricter rules: %d scores", len(got))
			}
			if as := alerts("account:acme"); len(as) != 2 {
				t.Fatalf("moving down raised an alert: %+v", as[0])
			}

			// Globex's history arrives late: its alert is quiet.
			send(msgs(t, now, 0, `{"type":"group","userId":"u9","groupId":"globex","traits":{"employees":300}}`))
			send(msgs(t, now, 10, `{"type":"track","userId":"u9","event":"Project Created","context":{"groupId":"globex"}}`))
			as = alerts("account:globex")
			if len(as) != 1 || as[0].Tier != "watching" {
				t.Fatalf("globex: %+v", as)
			}
			if ds, _ := db.ListDeliveries(ctx, store.DeliveryQuery{AlertID: as[0].ID, Limit: 10}); len(ds) != 0 {
				t.Fatalf("a quiet alert was sent: %+v", ds)
			}
		})
	}
}

// Seed 004, edge case 1: "a user signs up self-serve at an account with an
// open opportunity: never route to self-serve; alert the account owner with
// the usage data". The measured case: a small workspace whose CRM record (by
// name, no domain of its own) has an open opportunity and an owner.
func TestLinkedOpportunityAlertsOwner(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 23, 15, 0, 0, 0, time.UTC)
	onEachEngine(t, now, func(t *testing.T, db *store.DB, live stepping) {
		err := live.ids.ImportCRM(ctx, []identity.CRMAccount{{ID: "0010000015", Name: "Vandelay Industries",
			Owner: "ines.okafor@seller.example", OpenOpportunity: true}})
		if err != nil {
			t.Fatal(err)
		}
		// Twelve people, a Gmail address: by its own fields a
		// self-serve SMB sign-up; then it turns hot.
		live.send(ctx, msgs(t, now, 0,
			`{"type":"group","userId":"u1","groupId":"ws-00015","traits":{"name":"Vandelay Industries, Inc.","employees":12}}`,
			`{"type":"identify","userId":"u1","traits":{"email":"art@gmail.com"}}`,
			`{"type":"track","userId":"u1","event":"Project Created","context":{"groupId":"ws-00015"}}`,
			`{"type":"track","userId":"u1","event":"Invite Sent","context":{"groupId":"ws-00015"}}`,
			`{"type":"track","userId":"u1","event":"Invite Sent","context":{"groupId":"ws-00015"}}`,
			`{"type":"group","userId":"u2","groupId":"ws-00015"}`,
			`{"type":"track","userId":"u2","event":"Signed In","context":{"groupId":"ws-00015"}}`,
			`{"type":"page","userId":"u1","name":"Pricing","context":{"groupId":"ws-00015"}}`,
			`{"type":"track","userId":"u1","event":"Support Ticket Created","context":{"groupId":"ws-00015"}}`))
		as, err := db.AlertsOf(ctx, "account:ws-00015", 10)
		if err != nil || len(as) == 0 {
			t.Fatalf("no alert: %v", err)
		}
		top := as[0]
		if top.Zone == score.ZoneSelfServe || top.Segment != "smb" || !slices.Contains(top.Actions, "owner_alert") ||
			slices.Contains(top.Actions, "upgrade_prompt") {
			t.Fatalf("alert: %s zone, %s segment, actions %v: want an owner alert outside self-serve", top.Zone, top.Segment, top.Actions)
		}
		var p score.AlertPayload
		if err := json.Unmarshal(top.Payload, &p); err != nil {
			t.Fatal(err)
		}
		if p.Account.Owner != "ines.okafor@seller.example" || p.Account.CRMID != "0010000015" || !p.Coexists {
			t.Fatalf("payload account %+v (coexists %v): want the CRM record's owner and id", p.Account, p.Coexists)
		}
	})
}

// A snooze lasts until the account's tier rises: the pass that raises it
// lifts the hold, in the transaction of the new score.
func TestRiseLiftsHold(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 23, 15, 0, 0, 0, time.UTC)
	onEachEngine(t, now, func(t *testing.T, db *store.DB, live stepping) {
		live.send(ctx, msgs(t, now, 0,
			`{"type":"group","userId":"u1","groupId":"acme","traits":{"employees":200}}`,
			`{"type":"track","userId":"u1","event":"Project Created","context":{"groupId":"acme"}}`))
		hold := store.Hold{Scorecard: "pql", Subject: "account:acme", Kind: store.HoldSnooze, Reason: "on holiday",
			Until: now.AddDate(0, 1, 0), Tier: "watching", By: "ana@seller.example", CreatedAt: now}
		if _, err := db.PutHold(ctx, hold, store.Note{AccountID: "acme", Author: hold.By, Body: "snoozed", CreatedAt: now}); err != nil {
			t.Fatal(err)
		}
		// More of the same moves nothing: the hold stays.
		live.send(ctx, msgs(t, now, 0, `{"type":"page","userId":"u1","name":"Home","context":{"groupId":"acme"}}`))
		if hs, err := db.HoldsOf(ctx, "account:acme"); err != nil || len(hs) != 1 {
			t.Fatalf("holds before the rise: %+v (%v)", hs, err)
		}
		live.send(ctx, msgs(t, now, 0,
			`{"type":"track","userId":"u1","event":"Invite Sent","context":{"groupId":"acme"}}`,
			`{"type":"track","userId":"u1","event":"Invite Sent","context":{"groupId":"acme"}}`,
			`{"type":"group","userId":"u2","groupId":"acme"}`,
			`{"type":"track","userId":"u2","event":"Signed In","context":{"groupId":"acme"}}`,
			`{"type":"page","userId":"u1","name":"Pricing","context":{"groupId":"acme"}}`))
		ss, err := db.ScoresIn(ctx, "pql", []string{"account:acme"})
		if err != nil || len(ss) != 1 || ss[0].Tier == "watching" {
			t.Fatalf("no rise: %+v (%v)", ss, err)
		}
		if hs, err := db.HoldsOf(ctx, "account:acme"); err != nil || len(hs) != 0 {
			t.Fatalf("holds after rising to %s: %+v (%v)", ss[0].Tier, hs, err)
		}
	})
}

package route_test

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/beaconplg/beacon/internal/alert"
	"github.com/beaconplg/beacon/internal/route"
	"github.com/beaconplg/beacon/internal/store"
	"github.com/beaconplg/beacon/internal/store/storetest"
)

// The first sales activity the CRMs recorded for an alert's account after
// the alert is its outreach: the earliest of HubSpot's calls, emails and
// meetings of the company and Salesforce's Tasks and Events of the
// Account, through the destinations' connections; activity before the
// alert does not count. An alert with none yet is looked for again after
// a few minutes, and alert → outreach is measured beside alert →
// acknowledgement.
func TestOutreach(t *testing.T) {
	for _, eng := range storetest.Engines(t) {
		t.Run(eng.Name, func(t *testing.T) {
			ctx := context.Background()
			db := eng.Open(t)
			hs := newHubSpot("companies", "beacon_account_id", "beacon_score")
			company := hs.seed(map[string]string{"beacon_account_id": "acme", "domain": "acme.example"})
			sf := &fakeSalesforce{object: "Account", fields: accountFields(num("Beacon_Score__c")), records: map[string]map[string]any{}}
			account := sf.seed(map[string]any{"Name": "Acme", "Beacon_Account_Id__c": "acme"})
			s1, s2 := httptest.NewServer(hs), httptest.NewServer(sf)
			defer s1.Close()
			defer s2.Close()
			hs.activities = []hsActivity{{"calls", company, t0.Add(-time.Hour)}, {"calls", company, t0.Add(2 * time.Hour)},
				{"emails", company, t0.Add(50 * time.Minute)}}
			sf.activities = []sfActivity{{"Task", account, t0.Add(40 * time.Minute)}, {"Event", account, t0.Add(3 * time.Hour)}}

			payload := func(id string) []byte {
				b, _ := json.Marshal(alert.Payload{Account: alert.AccountRef{ID: id, Owner: "ana@seller.example",
					Domains: []string{id + ".example"}}, Tier: "hot"})
				return b
			}
			err := db.SaveScores(ctx, store.ScoreBatch{Alerts: []store.Alert{
				{Scorecard: "pql", Subject: "account:acme", Tier: "hot", Segment: "smb", Payload: payload("acme"), CreatedAt: t0, NeedsAck: true,
					AckedAt: time.Time{}},
				{Scorecard: "pql", Subject: "account:globex", Tier: "hot", Segment: "smb", Payload: payload("globex"), CreatedAt: t0, NeedsAck: true},
			}})
			if err != nil {
				t.Fatal(err)
			}
			clock := t0.Add(4 * time.Hour)
			o, err := route.NewOutreach([]route.Spec{hubspotSpec(s1.URL),
				{Name: "salesforce", Type: route.Salesforce, URL: s2.URL, Secret: crmToken, Object: "Account",
					IDProperty: "Beacon_Account_Id__c", Properties: map[string]string{"Beacon_Score__c": "score"}}},
				db, route.Deps{Log: quiet, Clock: func() time.Time { return clock }})
			if err != nil || o == nil {
				t.Fatalf("NewOutreach: %v, %v", o, err)
			}
			if n, err := o.Pass(ctx); err != nil || n != 1 {
				t.Fatalf("first pass: %d found, %v", n, err)
			}
			als, _, err := db.ListAlerts(ctx, store.AlertQuery{Limit: 10})
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]store.Alert{}
			for _, a := range als {
				got[a.Subject] = a
			}
			if a := got["account:acme"]; !a.OutreachAt.Equal(t0.Add(40*time.Minute)) || a.OutreachVia != "salesforce" {
				t.Fatalf("acme's outreach: %v via %q, want the Task at +40 min", a.OutreachAt, a.OutreachVia)
			}
			if a := got["account:globex"]; !a.OutreachAt.IsZero() {
				t.Fatalf("globex had no outreach: %v", a.OutreachAt)
			}

			// Globex is called later: found once it is looked for again.
			globex := hs.seed(map[string]string{"beacon_account_id": "globex"})
			hs.activities = append(hs.activities, hsActivity{"meetings", globex, t0.Add(5 * time.Hour)})
			clock = clock.Add(time.Minute)
			if n, _ := o.Pass(ctx); n != 0 {
				t.Fatal("looked for again within minutes")
			}
			clock = clock.Add(time.Hour)
			if n, err := o.Pass(ctx); err != nil || n != 1 {
				t.Fatalf("a later pass: %d found, %v", n, err)
			}

			times, err := db.AlertTimes(ctx, t0.Add(-time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			r := route.Measure(times, t0.Add(-time.Hour), clock)
			if r.Outreach.Done != 2 || *r.Outreach.P50 != (40*time.Minute).Seconds() || *r.Outreach.P90 != (5*time.Hour).Seconds() ||
				r.ByOwner["ana@seller.example"].Outreach.Done != 2 || r.Acked != 0 {
				t.Fatalf("measured: %+v", r)
			}
		})
	}
}

package route_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/beaconplg/beacon/internal/route"
	"github.com/beaconplg/beacon/internal/store"
	"github.com/beaconplg/beacon/internal/store/storetest"
)

func hubspotSpec(url string) route.Spec {
	return route.Spec{Name: "hubspot", Type: route.HubSpot, URL: url, Secret: crmToken, Object: "companies",
		IDProperty: "beacon_account_id", Properties: crmProps}
}

// HubSpot gets the alert's fields on the company found by the account id
// (updated, not made again), after waiting out a secondly 429; two alerts
// about one company in a batch write it once, the newer; a portal lacking
// a property makes deliveries wait, naming it and the command that
// creates it.
func testHubSpot(t *testing.T, db *store.DB) {
	hs := newHubSpot("companies", "beacon_account_id", "beacon_score", "beacon_tier", "beacon_reasons", "beacon_teammates_invited")
	hs.limited, hs.retryHint = 1, "3"
	hs.seed(map[string]string{"name": "Acme", "domain": "acme.example", "beacon_account_id": "acme"})
	srv := httptest.NewServer(hs)
	defer srv.Close()
	f := newFixture(t, db, []route.Spec{hubspotSpec(srv.URL)})
	f.drain(t)
	if d := f.delivery(t, "hubspot"); d.State != store.Failed || d.NextAt.Sub(t0) < 3*time.Second || !strings.Contains(d.LastError, "HTTP 429") {
		t.Fatalf("after a 429: %+v", d)
	}
	f.clock = f.clock.Add(time.Minute)
	f.drain(t)
	if d := f.delivery(t, "hubspot"); d.State != store.Delivered {
		t.Fatalf("after the limit: %+v", d)
	}
	got := hs.find("beacon_account_id", "acme")
	if len(got) != 1 || len(hs.records) != 1 || got[0]["name"] != "Acme" || got[0]["beacon_score"] != "95" || got[0]["beacon_tier"] != "Hot PQL" ||
		got[0]["beacon_teammates_invited"] != "4" || !strings.HasPrefix(got[0]["beacon_reasons"], "Created a project (+30)") {
		t.Fatalf("company acme: %v (of %d)", got, len(hs.records))
	}

	for _, tier := range []string{"Warm PQL", "Hot PQL again"} {
		err := db.SaveScores(context.Background(), store.ScoreBatch{Alerts: []store.Alert{{Scorecard: "pql", Subject: "account:acme",
			Tier: "x", Payload: []byte(`{"account":{"id":"acme"},"tier_label":"` + tier + `","score":1}`), CreatedAt: f.clock,
			Destinations: []string{"hubspot"}}}})
		if err != nil {
			t.Fatal(err)
		}
	}
	before := hs.batches
	f.drain(t)
	if ds, _ := db.ListDeliveries(context.Background(), store.DeliveryQuery{State: store.Delivered, Limit: 10}); len(ds) != 3 ||
		hs.batches != before+1 || hs.find("beacon_account_id", "acme")[0]["beacon_tier"] != "Hot PQL again" {
		t.Fatalf("%d delivered in %d batches", len(ds), hs.batches-before)
	}

	lacking := newHubSpot("companies", "beacon_account_id", "beacon_score")
	srv2 := httptest.NewServer(lacking)
	defer srv2.Close()
	f2 := newFixture(t, storetest.SQLite(t), []route.Spec{hubspotSpec(srv2.URL)})
	f2.drain(t)
	if d := f2.delivery(t, "hubspot"); d.State != store.Failed ||
		!strings.Contains(d.LastError, "HubSpot companies lack the properties beacon_reasons, beacon_teammates_invited, beacon_tier") ||
		!strings.Contains(d.LastError, "beacon destinations setup hubspot") || d.NextAt.Sub(t0) < 15*time.Minute || lacking.batches != 0 {
		t.Fatalf("a portal lacking properties: %+v", d)
	}
	// Once setup makes them, the waiting delivery goes at its next try,
	// not when the hour a good description is kept runs out.
	lacking.seed(map[string]string{"beacon_account_id": "acme"})
	if _, err := route.Setup(context.Background(), hubspotSpec(srv2.URL), route.Deps{}); err != nil {
		t.Fatal(err)
	}
	f2.clock = f2.delivery(t, "hubspot").NextAt
	f2.drain(t)
	if d := f2.delivery(t, "hubspot"); d.State != store.Delivered {
		t.Fatalf("after setup: %+v", d)
	}
}

// One record HubSpot refuses in a batch of 100 (its 400 is for the whole
// batch) is found by splitting the batch: it alone is dead, with HubSpot's
// reason, and the other 99 are delivered.
func testHubSpotOneBadRecord(t *testing.T, db *store.DB) {
	hs := newHubSpot("companies", "beacon_account_id", "beacon_score", "beacon_tier", "beacon_reasons", "beacon_teammates_invited")
	hs.seed(map[string]string{"beacon_account_id": "acme"})
	for i := range 99 {
		hs.seed(map[string]string{"beacon_account_id": fmt.Sprintf("acct-%d", i)})
	}
	hs.refuse = map[string]string{"acct-41": "beacon_reasons is over the portal's limit"}
	srv := httptest.NewServer(hs)
	defer srv.Close()
	f := newFixture(t, db, []route.Spec{hubspotSpec(srv.URL)})
	alertMore(t, db, 0, 99, "hubspot")
	f.drain(t)
	ds, err := db.ListDeliveries(context.Background(), store.DeliveryQuery{Destination: "hubspot", Limit: 200})
	if err != nil {
		t.Fatal(err)
	}
	states := map[string]int{}
	for _, d := range ds {
		states[d.State]++
		if d.State == store.Dead && !strings.Contains(d.LastError, "beacon_reasons is over the portal's limit") {
			t.Fatalf("the dead one: %+v", d)
		}
	}
	if states[store.Delivered] != 99 || states[store.Dead] != 1 || len(hs.records) != 100 {
		t.Fatalf("deliveries %v, %d companies", states, len(hs.records))
	}
	t.Logf("%d batch requests to find it", hs.batches)
}

// The daily limit (429 policyName DAILY) waits until midnight in the
// portal's time zone, and spends no attempt.
func testHubSpotDailyLimit(t *testing.T, db *store.DB) {
	hs := newHubSpot("companies", "beacon_account_id", "beacon_score", "beacon_tier", "beacon_reasons", "beacon_teammates_invited")
	srv := httptest.NewServer(hs)
	defer srv.Close()
	f := newFixture(t, db, []route.Spec{hubspotSpec(srv.URL)})
	hs.daily = true
	f.drain(t)
	d := f.delivery(t, "hubspot")
	// t0 is 09:00 UTC, 04:00 in New York: midnight there is 05:00 UTC the next day.
	want := time.Date(2026, 11, 24, 5, 1, 0, 0, time.UTC)
	if d.State != store.Failed || !d.NextAt.Equal(want) || d.Attempts != 0 || !strings.Contains(d.LastError, "daily limit") {
		t.Fatalf("after the daily limit: %+v, want next at %v with no attempt spent", d, want)
	}
}

// Setup makes in a bare portal what the mapping needs (the group, the
// properties, the id property unique), and says so; run again, it finds
// them. A run afterwards writes onto the company HubSpot already had for
// the account's domain, and gives it the id property: no second company.
func TestHubSpotSetupThenDomain(t *testing.T) {
	hs := newHubSpot("companies")
	acme := hs.seed(map[string]string{"name": "Acme", "domain": "acme.example"})
	srv := httptest.NewServer(hs)
	defer srv.Close()
	spec := hubspotSpec(srv.URL)
	if err := route.Check(context.Background(), spec, route.Deps{}); err == nil || !strings.Contains(err.Error(), "beacon destinations setup hubspot") {
		t.Fatalf("check of a bare portal: %v", err)
	}
	lines, err := route.Setup(context.Background(), spec, route.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(lines, "\n")
	for _, want := range []string{"property group beacon: made", "property beacon_account_id (string, unique): made",
		"property beacon_score (number): made", "property beacon_reasons (string): made"} {
		if !strings.Contains(got, want) {
			t.Errorf("setup said %q, lacking %q", got, want)
		}
	}
	if p, _ := hs.prop("beacon_account_id"); !p.HasUniqueValue || p.GroupName != "beacon" {
		t.Fatalf("the id property: %+v", p)
	}
	if err := route.Check(context.Background(), spec, route.Deps{}); err != nil {
		t.Fatalf("check after setup: %v", err)
	}
	again, err := route.Setup(context.Background(), spec, route.Deps{})
	if err != nil || strings.Contains(strings.Join(again, "\n"), ": made") {
		t.Fatalf("setup again: %v, %v", again, err)
	}

	f := newFixture(t, storetest.SQLite(t), []route.Spec{spec})
	f.drain(t)
	if d := f.delivery(t, "hubspot"); d.State != store.Delivered {
		t.Fatalf("delivery: %+v", d)
	}
	if len(hs.records) != 1 || hs.records[acme]["beacon_account_id"] != "acme" || hs.records[acme]["beacon_score"] != "95" ||
		hs.records[acme]["name"] != "Acme" {
		t.Fatalf("companies: %v", hs.records)
	}
}

// A destination that finds the company by HubSpot's own record id (the
// account's CRM link: id_field crm_id, id_property hs_object_id) updates it
// without writing hs_object_id, which HubSpot calculates and refuses to be
// set ("READ_ONLY_VALUE"); an alert about an account without a CRM link
// fails alone, naming it. A mapped property HubSpot calculates is refused
// before anything is written, and so is create with hs_object_id.
func TestHubSpotByRecordID(t *testing.T) {
	hs := newHubSpot("companies", "beacon_score", "beacon_tier")
	id := hs.seed(map[string]string{"name": "Acme", "domain": "acme.example"})
	srv := httptest.NewServer(hs)
	defer srv.Close()
	spec := route.Spec{Name: "hubspot", Type: route.HubSpot, URL: srv.URL, Secret: crmToken, Object: "companies",
		IDField: "crm_id", IDProperty: "hs_object_id", Properties: map[string]string{"beacon_score": "score", "beacon_tier": "tier_label"}}
	for _, eng := range storetest.Engines(t) {
		t.Run(eng.Name, func(t *testing.T) {
			db := eng.Open(t)
			f := newFixture(t, db, []route.Spec{spec}) // its alert's account has no CRM link
			err := db.SaveScores(context.Background(), store.ScoreBatch{Alerts: []store.Alert{{Scorecard: "pql", Subject: "account:linked",
				Tier: "hot", Payload: []byte(`{"account":{"id":"linked","crm_id":"` + id + `"},"tier_label":"Hot PQL","score":95}`),
				CreatedAt: f.clock, Destinations: []string{"hubspot"}}}})
			if err != nil {
				t.Fatal(err)
			}
			f.drain(t)
			ds, err := db.ListDeliveries(context.Background(), store.DeliveryQuery{Destination: "hubspot", Limit: 10})
			if err != nil || len(ds) != 2 {
				t.Fatalf("deliveries: %+v, %v", ds, err)
			}
			last := max(ds[0].AlertID, ds[1].AlertID) // the linked account's, saved after the fixture's
			for _, d := range ds {
				switch linked := d.AlertID == last; {
				case linked && d.State != store.Delivered:
					t.Errorf("the alert about the linked account: %s, %s", d.State, d.LastError)
				case !linked && (d.State != store.Dead || !strings.Contains(d.LastError, "no crm_id")):
					t.Errorf("the alert without a CRM link: %s, %q; want dead, naming crm_id", d.State, d.LastError)
				}
			}
			rec := hs.find("name", "Acme")
			if len(rec) != 1 || rec[0]["beacon_score"] != "95" || rec[0]["beacon_tier"] != "Hot PQL" || len(hs.records) != 1 {
				t.Errorf("the company: %v (of %d)", rec, len(hs.records))
			}
		})
	}

	bad := spec
	bad.Properties = map[string]string{"beacon_score": "score", "hs_object_id": "account_id"}
	f := newFixture(t, storetest.SQLite(t), []route.Spec{bad})
	before := hs.batches
	f.drain(t)
	if d := f.delivery(t, "hubspot"); d.State != store.Failed || !strings.Contains(d.LastError, "HubSpot calculates hs_object_id of companies itself") ||
		hs.batches != before {
		t.Errorf("a calculated property mapped: %s, %q, %d batches", d.State, d.LastError, hs.batches-before)
	}
	bad = spec
	bad.Create = true
	if err := route.Validate([]route.Spec{bad}); err == nil || !strings.Contains(err.Error(), "destinations[0].create") {
		t.Errorf("create with hs_object_id: %v", err)
	}
}

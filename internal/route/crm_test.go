package route_test

import (
	"maps"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/beaconplg/beacon/internal/route"
	"github.com/beaconplg/beacon/internal/store"
	"github.com/beaconplg/beacon/internal/store/storetest"
)

const crmToken = "pat-na1-test-token"

var crmProps = map[string]string{"beacon_score": "score", "beacon_tier": "tier_label", "beacon_reasons": "reasons",
	"beacon_teammates_invited": "signals.teammates_invited"}

func TestCRM(t *testing.T) {
	for _, eng := range storetest.Engines(t) {
		t.Run(eng.Name, func(t *testing.T) {
			t.Run("hubspot", func(t *testing.T) { testHubSpot(t, eng.Open(t)) })
			t.Run("hubspot, one bad record", func(t *testing.T) { testHubSpotOneBadRecord(t, eng.Open(t)) })
			t.Run("hubspot, the daily limit", func(t *testing.T) { testHubSpotDailyLimit(t, eng.Open(t)) })
			t.Run("salesforce", func(t *testing.T) { testSalesforce(t, eng.Open(t)) })
			t.Run("salesforce oauth", func(t *testing.T) { testSalesforceOAuth(t, eng.Open) })
			t.Run("salesforce field rules", func(t *testing.T) { testSalesforceFieldRules(t, eng.Open) })
			t.Run("per person", func(t *testing.T) { testPerPerson(t, eng.Open(t)) })
		})
	}
}

// Salesforce gets the fields on the Account found by its external id (an
// existing record, updated), after a 503 and the daily limit, which waits
// without spending an attempt; a record it refuses is dead on its own.
func testSalesforce(t *testing.T, db *store.DB) {
	sf := &fakeSalesforce{object: "Account", fields: accountFields(num("Beacon_Score__c"), text("Beacon_Tier__c", 40),
		text("Beacon_Reasons__c", 1000)), script: []int{503, 403}, records: map[string]map[string]any{}}
	sf.seed(map[string]any{"Name": "Acme", "Beacon_Account_Id__c": "acme"})
	srv := httptest.NewServer(sf)
	defer srv.Close()
	spec := route.Spec{Name: "salesforce", Type: route.Salesforce, URL: srv.URL, Secret: crmToken, Object: "Account",
		IDProperty: "Beacon_Account_Id__c", Properties: map[string]string{"Beacon_Score__c": "score", "Beacon_Tier__c": "tier",
			"Beacon_Reasons__c": "reasons"}}
	f := newFixture(t, db, []route.Spec{spec})
	f.drain(t)
	if d := f.delivery(t, "salesforce"); d.State != store.Failed || !strings.Contains(d.LastError, "HTTP 503") {
		t.Fatalf("after a 503: %+v", d)
	}
	f.clock = f.clock.Add(time.Hour)
	f.drain(t)
	d := f.delivery(t, "salesforce")
	if d.State != store.Failed || !strings.Contains(d.LastError, "REQUEST_LIMIT_EXCEEDED") || d.NextAt.Sub(f.clock) < 15*time.Minute ||
		d.Attempts != 1 {
		t.Fatalf("after the daily limit: %+v (next in %v), want it waiting with its attempt given back", d, d.NextAt.Sub(f.clock))
	}
	f.clock = d.NextAt
	f.drain(t)
	if d := f.delivery(t, "salesforce"); d.State != store.Delivered {
		t.Fatalf("after the limit: %+v", d)
	}
	got := sf.byExt("acme")
	if got["Name"] != "Acme" || got["Beacon_Score__c"] != 95.0 || got["Beacon_Tier__c"] != "hot" ||
		!strings.HasPrefix(got["Beacon_Reasons__c"].(string), "Created a project (+30)") || len(sf.records) != 1 {
		t.Fatalf("account acme: %v (of %d)", got, len(sf.records))
	}

	db2 := storetest.SQLite(t)
	sf.refuse = map[string]string{"acme": "Score must be below 150"}
	f2 := newFixture(t, db2, []route.Spec{spec})
	f2.drain(t)
	if d := f2.delivery(t, "salesforce"); d.State != store.Dead || !strings.Contains(d.LastError, "FIELD_CUSTOM_VALIDATION_EXCEPTION: Score must be below 150") {
		t.Fatalf("refused record: %+v", d)
	}
}

// Salesforce's field rules, read from Describe before writing: text longer
// than its field is cut with an ellipsis, not refused as STRING_TOO_LONG; a
// record no existing one matches is not created unless the destination
// says create, and then only with the object's required fields mapped; a
// field the org lacks is named, and the deliveries wait for it, not die.
func testSalesforceFieldRules(t *testing.T, open func(testing.TB) *store.DB) {
	reasons := text("Beacon_Reasons__c", 80) // the alert's reasons take 103 characters
	props := map[string]string{"Beacon_Score__c": "score", "Beacon_Reasons__c": "reasons"}
	spec := func(create bool, extra map[string]string) route.Spec {
		p := maps.Clone(props)
		maps.Copy(p, extra)
		return route.Spec{Name: "salesforce", Type: route.Salesforce, Secret: crmToken, Object: "Account",
			IDProperty: "Beacon_Account_Id__c", Properties: p, Create: create}
	}
	tests := []struct {
		name   string
		spec   route.Spec
		seeded bool
		fields []sfField
		check  func(t *testing.T, d store.Delivery, sf *fakeSalesforce)
	}{
		{"text cut to its field", spec(false, nil), true, accountFields(num("Beacon_Score__c"), reasons),
			func(t *testing.T, d store.Delivery, sf *fakeSalesforce) {
				r, _ := sf.byExt("acme")["Beacon_Reasons__c"].(string)
				if d.State != store.Delivered || utf8.RuneCountInString(r) != 80 || !strings.HasSuffix(r, "…") {
					t.Fatalf("%+v: reasons %q (%d characters)", d, r, utf8.RuneCountInString(r))
				}
			}},
		{"no record to update", spec(false, nil), false, accountFields(num("Beacon_Score__c"), reasons),
			func(t *testing.T, d store.Delivery, sf *fakeSalesforce) {
				if d.State != store.Dead || !strings.Contains(d.LastError, `no Account has Beacon_Account_Id__c = "acme" to update`) ||
					len(sf.records) != 0 {
					t.Fatalf("%+v, %d records", d, len(sf.records))
				}
			}},
		{"create without the required fields", spec(true, nil), false, accountFields(num("Beacon_Score__c"), reasons),
			func(t *testing.T, d store.Delivery, sf *fakeSalesforce) {
				if d.State != store.Failed || !strings.Contains(d.LastError, "create: true needs Account's required fields mapped: Name") ||
					len(sf.records) != 0 {
					t.Fatalf("%+v, %d records", d, len(sf.records))
				}
			}},
		{"create with them", spec(true, map[string]string{"Name": "account_name"}), false, accountFields(num("Beacon_Score__c"), reasons),
			func(t *testing.T, d store.Delivery, sf *fakeSalesforce) {
				if r := sf.byExt("acme"); d.State != store.Delivered || r["Name"] != "Acme <Labs>" || r["Beacon_Score__c"] != 95.0 {
					t.Fatalf("%+v: %v", d, r)
				}
			}},
		{"a field the org lacks", spec(false, map[string]string{"Beacon_Tier__c": "tier"}), true, accountFields(num("Beacon_Score__c"), reasons),
			func(t *testing.T, d store.Delivery, sf *fakeSalesforce) {
				if d.State != store.Failed || !strings.Contains(d.LastError, "Account has no field Beacon_Tier__c: create it") ||
					d.NextAt.Sub(t0) < 15*time.Minute {
					t.Fatalf("%+v", d)
				}
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sf := &fakeSalesforce{object: "Account", fields: tc.fields, records: map[string]map[string]any{}}
			if tc.seeded {
				sf.seed(map[string]any{"Name": "Acme", "Beacon_Account_Id__c": "acme"})
			}
			srv := httptest.NewServer(sf)
			defer srv.Close()
			tc.spec.URL = srv.URL
			f := newFixture(t, open(t), []route.Spec{tc.spec})
			f.drain(t)
			tc.check(t, f.delivery(t, "salesforce"), sf)
		})
	}
}

// Written per person, each of the account's people with an email gets the
// account's fields on their contact (HubSpot) or lead (Salesforce), found by
// their email; one delivery, one batch.
func testPerPerson(t *testing.T, db *store.DB) {
	hs := newHubSpot("contacts", "beacon_score", "beacon_tier", "beacon_user")
	hs.seed(map[string]string{"email": "ana@acme.example"})
	hs.seed(map[string]string{"email": "bo@acme.example"})
	email := text("Beacon_Email__c", 80)
	email.ExternalID = true
	sf := &fakeSalesforce{object: "Lead", fields: []sfField{{Name: "Id", Type: "id", IDLookup: true}, num("Beacon_Score__c"), email},
		records: map[string]map[string]any{}}
	sf.seed(map[string]any{"Beacon_Email__c": "ana@acme.example"})
	sf.seed(map[string]any{"Beacon_Email__c": "bo@acme.example"})
	s1, s2 := httptest.NewServer(hs), httptest.NewServer(sf)
	defer s1.Close()
	defer s2.Close()
	f := newFixture(t, db, []route.Spec{
		{Name: "hubspot", Type: route.HubSpot, URL: s1.URL, Secret: crmToken, Object: "contacts", IDProperty: "email",
			Per: route.PerPerson, Properties: map[string]string{"beacon_score": "score", "beacon_tier": "tier", "beacon_user": "user_id"}},
		{Name: "salesforce", Type: route.Salesforce, URL: s2.URL, Secret: crmToken, Object: "Lead", IDProperty: "Beacon_Email__c",
			Per: route.PerPerson, Properties: map[string]string{"Beacon_Score__c": "score"}},
	})
	f.drain(t)
	for _, name := range []string{"hubspot", "salesforce"} {
		if d := f.delivery(t, name); d.State != store.Delivered {
			t.Fatalf("%s: %+v", name, d)
		}
	}
	for email, user := range map[string]string{"ana@acme.example": "u1", "bo@acme.example": "u2"} {
		got := hs.find("email", email)
		if len(got) != 1 || got[0]["beacon_score"] != "95" || got[0]["beacon_tier"] != "hot" || got[0]["beacon_user"] != user {
			t.Fatalf("contact %s: %v", email, got)
		}
	}
	if len(hs.records) != 2 || hs.batches != 1 {
		t.Fatalf("%d contacts written in %d batches", len(hs.records), hs.batches)
	}
	if len(sf.records) != 2 || sf.byExt("bo@acme.example")["Beacon_Score__c"] != 95.0 {
		t.Fatalf("leads %v", sf.records)
	}
}

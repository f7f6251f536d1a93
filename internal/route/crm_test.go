package route_test

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/beaconplg/beacon/internal/route"
	"github.com/beaconplg/beacon/internal/store"
	"github.com/beaconplg/beacon/internal/store/storetest"
)

const crmToken = "pat-na1-test-token"

// fakeHubSpot answers POST /crm/v3/objects/{objectType}/batch/upsert as
// HubSpot's CRM v3 API documents it: a bearer token, at most 100 inputs,
// each with an id and idProperty; properties it does not have are a 400
// VALIDATION_ERROR; records it refuses come back in a 207 with their ids;
// rate limits are a 429 RATE_LIMIT. Records are kept by id.
type fakeHubSpot struct {
	mu        sync.Mutex
	known     []string          // the properties the portal has
	refuse    map[string]string // id → the error HubSpot gives it
	limited   int               // answer this many requests with 429 first
	retryHint string            // Retry-After on the 429, if any
	requests  int
	records   map[string]map[string]string
}

func (f *fakeHubSpot) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests++
	w.Header().Set("Content-Type", "application/json")
	fail := func(code int, category, msg string) {
		w.WriteHeader(code)
		json.NewEncoder(w).Encode(map[string]any{"status": "error", "message": msg, "category": category,
			"correlationId": "4e1c1b2a-0000-4000-8000-000000000000"})
	}
	if r.Header.Get("Authorization") != "Bearer "+crmToken {
		fail(401, "INVALID_AUTHENTICATION", "Authentication credentials not found.")
		return
	}
	if r.Method != http.MethodPost || !strings.HasPrefix(r.URL.Path, "/crm/v3/objects/") || !strings.HasSuffix(r.URL.Path, "/batch/upsert") {
		fail(404, "OBJECT_NOT_FOUND", "no such endpoint")
		return
	}
	if f.limited > 0 {
		f.limited--
		if f.retryHint != "" {
			w.Header().Set("Retry-After", f.retryHint)
		}
		w.WriteHeader(429)
		json.NewEncoder(w).Encode(map[string]any{"status": "error", "message": "You have reached your secondly limit.",
			"errorType": "RATE_LIMIT", "policyName": "SECONDLY"})
		return
	}
	var req struct {
		Inputs []struct {
			ID         string            `json:"id"`
			IDProperty string            `json:"idProperty"`
			Properties map[string]string `json:"properties"`
		} `json:"inputs"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || len(req.Inputs) == 0 || len(req.Inputs) > 100 {
		fail(400, "VALIDATION_ERROR", "Invalid input JSON or batch size")
		return
	}
	seen := map[string]bool{}
	for _, in := range req.Inputs {
		if in.ID == "" || in.IDProperty == "" || seen[in.ID] {
			fail(400, "VALIDATION_ERROR", "Duplicate or missing IDs found in batch input: "+in.ID)
			return
		}
		seen[in.ID] = true
		for p := range in.Properties {
			if !slices.Contains(f.known, p) {
				fail(400, "VALIDATION_ERROR", fmt.Sprintf("Property values were not valid: Property %q does not exist", p))
				return
			}
		}
	}
	type result struct {
		ID         string            `json:"id"`
		Properties map[string]string `json:"properties"`
		New        bool              `json:"new"`
	}
	var results []result
	var errs []map[string]any
	for _, in := range req.Inputs {
		if msg, bad := f.refuse[in.ID]; bad {
			errs = append(errs, map[string]any{"status": "error", "category": "VALIDATION_ERROR", "message": msg,
				"context": map[string][]string{"ids": {in.ID}}})
			continue
		}
		rec, had := f.records[in.ID]
		if !had {
			rec = map[string]string{}
			f.records[in.ID] = rec
		}
		for k, v := range in.Properties {
			rec[k] = v
		}
		results = append(results, result{ID: in.ID, Properties: rec, New: !had})
	}
	now := time.Now().UTC().Format(time.RFC3339)
	code := 200
	ans := map[string]any{"status": "COMPLETE", "results": results, "startedAt": now, "completedAt": now}
	if len(errs) > 0 {
		code, ans["errors"], ans["numErrors"] = 207, errs, len(errs)
	}
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(ans)
}

var crmProps = map[string]string{"beacon_score": "score", "beacon_tier": "tier_label", "beacon_reasons": "reasons",
	"beacon_teammates_invited": "signals.teammates_invited"}

func TestCRM(t *testing.T) {
	for _, eng := range storetest.Engines(t) {
		t.Run(eng.Name, func(t *testing.T) {
			t.Run("hubspot", func(t *testing.T) { testHubSpot(t, eng.Open(t)) })
			t.Run("salesforce", func(t *testing.T) { testSalesforce(t, eng.Open(t)) })
			t.Run("salesforce oauth", func(t *testing.T) { testSalesforceOAuth(t, eng.Open) })
			t.Run("salesforce field rules", func(t *testing.T) { testSalesforceFieldRules(t, eng.Open) })
			t.Run("per person", func(t *testing.T) { testPerPerson(t, eng.Open(t)) })
		})
	}
}

// HubSpot gets the alert's fields on the company found by the account id,
// after waiting out a 429; a portal lacking a property refuses the batch.
func testHubSpot(t *testing.T, db *store.DB) {
	hs := &fakeHubSpot{known: []string{"beacon_score", "beacon_tier", "beacon_reasons", "beacon_teammates_invited"},
		limited: 1, retryHint: "3", records: map[string]map[string]string{}}
	srv := httptest.NewServer(hs)
	defer srv.Close()
	f := newFixture(t, db, []route.Spec{{Name: "hubspot", Type: route.HubSpot, URL: srv.URL, Secret: crmToken,
		Object: "companies", IDProperty: "beacon_account_id", Properties: crmProps}})
	f.drain(t)
	if d := f.delivery(t, "hubspot"); d.State != store.Failed || d.NextAt.Sub(t0) < 3*time.Second || !strings.Contains(d.LastError, "HTTP 429") {
		t.Fatalf("after a 429: %+v", d)
	}
	f.clock = f.clock.Add(time.Minute)
	f.drain(t)
	if d := f.delivery(t, "hubspot"); d.State != store.Delivered {
		t.Fatalf("after the limit: %+v", d)
	}
	want := map[string]string{"beacon_score": "95", "beacon_tier": "Hot PQL", "beacon_teammates_invited": "4",
		"beacon_reasons": "Created a project (+30); Invited 2+ teammates (+25); Viewed the pricing page (+10); Business email (+5)"}
	if got := hs.records["acme"]; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("company acme: %v\nwant %v", got, want)
	}

	// Two alerts about one company in one batch: written once, the newer.
	for _, tier := range []string{"Warm PQL", "Hot PQL again"} {
		err := db.SaveScores(context.Background(), store.ScoreBatch{Alerts: []store.Alert{{Scorecard: "pql", Subject: "account:acme",
			Tier: "x", Payload: []byte(`{"account":{"id":"acme"},"tier_label":"` + tier + `","score":1}`), CreatedAt: f.clock,
			Destinations: []string{"hubspot"}}}})
		if err != nil {
			t.Fatal(err)
		}
	}
	before := hs.requests
	f.drain(t)
	if ds, _ := db.ListDeliveries(context.Background(), store.DeliveryQuery{State: store.Delivered, Limit: 10}); len(ds) != 3 ||
		hs.requests != before+1 || hs.records["acme"]["beacon_tier"] != "Hot PQL again" {
		t.Fatalf("%d delivered in %d requests; acme %v", len(ds), hs.requests-before, hs.records["acme"])
	}

	// A property the portal lacks: the batch is refused, nothing retried.
	db2 := storetest.SQLite(t)
	hs.known = hs.known[:1]
	f2 := newFixture(t, db2, []route.Spec{{Name: "hubspot", Type: route.HubSpot, URL: srv.URL, Secret: crmToken,
		Object: "companies", IDProperty: "beacon_account_id", Properties: crmProps}})
	f2.drain(t)
	if d := f2.delivery(t, "hubspot"); d.State != store.Dead || !strings.Contains(d.LastError, "does not exist") {
		t.Fatalf("unknown property: %+v", d)
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
	hs := &fakeHubSpot{known: []string{"beacon_score", "beacon_tier", "beacon_user"}, records: map[string]map[string]string{}}
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
	want := map[string]map[string]string{
		"ana@acme.example": {"beacon_score": "95", "beacon_tier": "hot", "beacon_user": "u1"},
		"bo@acme.example":  {"beacon_score": "95", "beacon_tier": "hot", "beacon_user": "u2"},
	}
	if fmt.Sprint(hs.records) != fmt.Sprint(want) || hs.requests != 1 {
		t.Fatalf("contacts %v in %d requests", hs.records, hs.requests)
	}
	if len(sf.records) != 2 || sf.byExt("bo@acme.example")["Beacon_Score__c"] != 95.0 {
		t.Fatalf("leads %v", sf.records)
	}
}

package route_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

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

// fakeSalesforce answers PATCH
// /services/data/vXX.X/composite/sobjects/{SObject}/{ExternalIdField} as
// Salesforce documents sObject Collections upsert: a bearer token, at most
// 200 records, each with attributes.type and the external id; one
// UpsertResult per record, in order, each succeeding or failing alone;
// expired sessions are a 401, the daily API limit a 403
// REQUEST_LIMIT_EXCEEDED, overload a 503.
type fakeSalesforce struct {
	mu sync.Mutex
	// sessions are the tokens its login server issued that still work
	// (sfLogin); crmToken always does.
	sessions map[string]bool
	unauth   int // requests answered 401
	fields   []string
	refuse   map[string]string // external id → error message
	script   []int             // statuses to answer first
	requests int
	records  map[string]map[string]any
}

func (f *fakeSalesforce) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests++
	w.Header().Set("Content-Type", "application/json")
	fail := func(code int, errorCode, msg string) {
		w.WriteHeader(code)
		json.NewEncoder(w).Encode([]map[string]string{{"message": msg, "errorCode": errorCode}})
	}
	if tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "); tok != crmToken && !f.sessions[tok] {
		f.unauth++
		fail(401, "INVALID_SESSION_ID", "Session expired or invalid")
		return
	}
	if len(f.script) > 0 {
		code := f.script[0]
		f.script = f.script[1:]
		switch code {
		case 403:
			fail(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
		default:
			fail(code, "SERVER_UNAVAILABLE", "Server unavailable")
		}
		return
	}
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/"), "/")
	if r.Method != http.MethodPatch || len(parts) != 7 || parts[0] != "services" || parts[3] != "composite" || parts[4] != "sobjects" {
		fail(404, "NOT_FOUND", "The requested resource does not exist")
		return
	}
	extID := parts[6] // after the sObject, parts[5]
	var req struct {
		AllOrNone bool             `json:"allOrNone"`
		Records   []map[string]any `json:"records"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || len(req.Records) == 0 || len(req.Records) > 200 {
		fail(400, "JSON_PARSER_ERROR", "bad request or more than 200 records")
		return
	}
	type upsertResult struct {
		ID      string           `json:"id,omitempty"`
		Success bool             `json:"success"`
		Created bool             `json:"created"`
		Errors  []map[string]any `json:"errors"`
	}
	out := make([]upsertResult, len(req.Records))
	for i, rec := range req.Records {
		attrs, _ := rec["attributes"].(map[string]any)
		id, _ := rec[extID].(string)
		if attrs["type"] != parts[5] || id == "" {
			out[i] = upsertResult{Errors: []map[string]any{{"statusCode": "MISSING_ARGUMENT", "message": "attributes.type and the external id are required", "fields": []string{}}}}
			continue
		}
		if msg, bad := f.refuse[id]; bad {
			out[i] = upsertResult{Errors: []map[string]any{{"statusCode": "FIELD_CUSTOM_VALIDATION_EXCEPTION", "message": msg, "fields": []string{}}}}
			continue
		}
		for k := range rec {
			if k != "attributes" && k != extID && !slices.Contains(f.fields, k) {
				out[i] = upsertResult{Errors: []map[string]any{{"statusCode": "INVALID_FIELD", "message": "No such column '" + k + "'", "fields": []string{k}}}}
			}
		}
		if out[i].Errors != nil {
			continue
		}
		_, had := f.records[id]
		f.records[id] = rec
		out[i] = upsertResult{ID: fmt.Sprintf("001%015d", len(f.records)), Success: true, Created: !had, Errors: []map[string]any{}}
	}
	json.NewEncoder(w).Encode(out)
}

var crmProps = map[string]string{"beacon_score": "score", "beacon_tier": "tier_label", "beacon_reasons": "reasons",
	"beacon_teammates_invited": "signals.teammates_invited"}

func TestCRM(t *testing.T) {
	for _, eng := range storetest.Engines(t) {
		t.Run(eng.Name, func(t *testing.T) {
			t.Run("hubspot", func(t *testing.T) { testHubSpot(t, eng.Open(t)) })
			t.Run("salesforce", func(t *testing.T) { testSalesforce(t, eng.Open(t)) })
			t.Run("salesforce oauth", func(t *testing.T) { testSalesforceOAuth(t, eng.Open) })
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

// Salesforce gets the fields on the Account found by its external id, after
// a 503 and the daily limit; a record it refuses is dead on its own.
func testSalesforce(t *testing.T, db *store.DB) {
	sf := &fakeSalesforce{fields: []string{"Beacon_Score__c", "Beacon_Tier__c", "Beacon_Reasons__c"}, script: []int{503, 403},
		records: map[string]map[string]any{}}
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
	if d.State != store.Failed || !strings.Contains(d.LastError, "REQUEST_LIMIT_EXCEEDED") || d.NextAt.Sub(f.clock) < 15*time.Minute {
		t.Fatalf("after the daily limit: %+v (next in %v)", d, d.NextAt.Sub(f.clock))
	}
	f.clock = d.NextAt
	f.drain(t)
	if d := f.delivery(t, "salesforce"); d.State != store.Delivered {
		t.Fatalf("after the limit: %+v", d)
	}
	got := sf.records["acme"]
	if got["Beacon_Score__c"] != 95.0 || got["Beacon_Tier__c"] != "hot" || got["attributes"].(map[string]any)["type"] != "Account" ||
		!strings.HasPrefix(got["Beacon_Reasons__c"].(string), "Created a project (+30)") {
		t.Fatalf("account acme: %v", got)
	}

	db2 := storetest.SQLite(t)
	sf.refuse = map[string]string{"acme": "Score must be below 150"}
	f2 := newFixture(t, db2, []route.Spec{spec})
	f2.drain(t)
	if d := f2.delivery(t, "salesforce"); d.State != store.Dead || !strings.Contains(d.LastError, "FIELD_CUSTOM_VALIDATION_EXCEPTION: Score must be below 150") {
		t.Fatalf("refused record: %+v", d)
	}
}

// Written per person, each of the account's people with an email gets the
// account's fields on their contact (HubSpot) or lead (Salesforce), found by
// their email; one delivery, one batch.
func testPerPerson(t *testing.T, db *store.DB) {
	hs := &fakeHubSpot{known: []string{"beacon_score", "beacon_tier", "beacon_user"}, records: map[string]map[string]string{}}
	sf := &fakeSalesforce{fields: []string{"Beacon_Score__c"}, records: map[string]map[string]any{}}
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
	if len(sf.records) != 2 || sf.records["bo@acme.example"]["Beacon_Score__c"] != 95.0 {
		t.Fatalf("leads %v", sf.records)
	}
}

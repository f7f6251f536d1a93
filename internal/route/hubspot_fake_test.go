package route_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// hsProperty is a property as HubSpot's properties API gives and takes it
// ("CRM API | Properties": name, label, type, fieldType, groupName,
// hasUniqueValue, options).
type hsProperty struct {
	Name                 string         `json:"name"`
	Label                string         `json:"label"`
	Type                 string         `json:"type"`
	FieldType            string         `json:"fieldType"`
	GroupName            string         `json:"groupName"`
	HasUniqueValue       bool           `json:"hasUniqueValue"`
	ModificationMetadata hsModification `json:"modificationMetadata"`
}

// hsModification is what may change of a property: HubSpot calculates the
// value of one with readOnlyValue (hs_object_id, the record's id).
type hsModification struct {
	Archivable         bool `json:"archivable"`
	ReadOnlyDefinition bool `json:"readOnlyDefinition"`
	ReadOnlyValue      bool `json:"readOnlyValue"`
}

// fakeHubSpot is a portal's CRM v3 API as HubSpot documents it, for one
// object type: properties (GET the list, POST a property or a group, 409
// OBJECT_ALREADY_EXISTS if there is one); search (POST .../search with an
// IN filter, results with the properties asked for); batch update and
// batch create (at most 100 inputs; an input with a property the portal
// lacks, a value a number property cannot take, or one the portal refuses
// is a 400 VALIDATION_ERROR for the whole batch, which writes nothing);
// account details (GET /account-info/v3/details, its timeZone); the
// secondly limit (429 policyName SECONDLY, Retry-After) and the daily one
// (429 policyName DAILY, "resets at midnight based on your time zone
// setting"); X-HubSpot-RateLimit-* on every answer ("API usage
// guidelines"). It never dedupes companies by domain: a create is a new
// company.
type fakeHubSpot struct {
	mu        sync.Mutex
	object    string
	props     []hsProperty
	groups    []string
	refuse    map[string]string // a value of the id property → the message of its 400
	limited   int               // answer this many requests 429 SECONDLY first
	retryHint string
	daily     bool // the day's calls are spent
	timeZone  string
	requests  int
	batches   int // batch/update and batch/create requests
	records   map[string]map[string]string
	made      int
	// activities are engagements (calls, emails, meetings) associated
	// with companies, found by the search API on their own object types
	// with associations.company and hs_timestamp ("Engagements").
	activities []hsActivity
}

type hsActivity struct {
	object, company string
	at              time.Time
}

func newHubSpot(object string, props ...string) *fakeHubSpot {
	f := &fakeHubSpot{object: object, records: map[string]map[string]string{}, timeZone: "America/New_York"}
	f.props = append(f.props, hsProperty{Name: "domain", Type: "string", FieldType: "text"},
		hsProperty{Name: "email", Type: "string", FieldType: "text"}, hsProperty{Name: "name", Type: "string", FieldType: "text"},
		hsProperty{Name: "hs_object_id", Label: "Record ID", Type: "number", FieldType: "number",
			ModificationMetadata: hsModification{ReadOnlyDefinition: true, ReadOnlyValue: true}})
	for _, p := range props {
		typ := "string"
		if strings.Contains(p, "score") {
			typ = "number"
		}
		f.props = append(f.props, hsProperty{Name: p, Type: typ, FieldType: "text", HasUniqueValue: p == "beacon_account_id"})
	}
	return f
}

func (f *fakeHubSpot) prop(name string) (hsProperty, bool) {
	for _, p := range f.props {
		if p.Name == name {
			return p, true
		}
	}
	return hsProperty{}, false
}

// seed puts a record in the portal and returns its id.
func (f *fakeHubSpot) seed(props map[string]string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.made++
	id := strconv.Itoa(1000 + f.made)
	f.records[id] = props
	return id
}

// find returns the records whose property is value.
func (f *fakeHubSpot) find(property, value string) []map[string]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []map[string]string
	for _, r := range f.records {
		if r[property] == value {
			out = append(out, r)
		}
	}
	return out
}

func (f *fakeHubSpot) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests++
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-HubSpot-RateLimit-Max", "100")
	w.Header().Set("X-HubSpot-RateLimit-Remaining", "99")
	w.Header().Set("X-HubSpot-RateLimit-Interval-Milliseconds", "10000")
	fail := func(code int, category, msg string) {
		w.WriteHeader(code)
		json.NewEncoder(w).Encode(map[string]any{"status": "error", "message": msg, "category": category,
			"correlationId": "4e1c1b2a-0000-4000-8000-000000000000"})
	}
	if r.Header.Get("Authorization") != "Bearer "+crmToken {
		fail(401, "INVALID_AUTHENTICATION", "Authentication credentials not found.")
		return
	}
	limit := func(policy, msg string) {
		w.WriteHeader(429)
		// Laid out as "API usage guidelines" shows it: indented, the
		// policy after the message.
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.Encode(map[string]any{"status": "error", "message": msg, "errorType": "RATE_LIMIT",
			"correlationId": "c033cdaa-2c40-4a64-ae48-b4cec88dad24", "policyName": policy, "requestId": "3d3e35b7"})
	}
	switch {
	case f.daily && r.URL.Path != "/account-info/v3/details":
		limit("DAILY", "You have reached your daily limit.")
		return
	case f.limited > 0:
		f.limited--
		if f.retryHint != "" {
			w.Header().Set("Retry-After", f.retryHint)
		}
		limit("SECONDLY", "You have reached your secondly limit.")
		return
	}
	objects, props := "/crm/v3/objects/"+f.object, "/crm/v3/properties/"+f.object
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/account-info/v3/details":
		json.NewEncoder(w).Encode(map[string]any{"portalId": 62515, "accountType": "STANDARD", "timeZone": f.timeZone,
			"companyCurrency": "USD", "uiDomain": "app.hubspot.com", "dataHostingLocation": "na1"})
	case r.Method == http.MethodGet && r.URL.Path == props:
		json.NewEncoder(w).Encode(map[string]any{"results": f.props})
	case r.Method == http.MethodPost && r.URL.Path == props+"/groups":
		var g struct{ Name, Label string }
		json.NewDecoder(r.Body).Decode(&g)
		if slices.Contains(f.groups, g.Name) {
			fail(409, "OBJECT_ALREADY_EXISTS", "Property group named '"+g.Name+"' already exists.")
			return
		}
		f.groups = append(f.groups, g.Name)
		w.WriteHeader(201)
		json.NewEncoder(w).Encode(map[string]any{"name": g.Name, "label": g.Label, "displayOrder": -1, "archived": false})
	case r.Method == http.MethodPost && r.URL.Path == props:
		var p hsProperty
		json.NewDecoder(r.Body).Decode(&p)
		if _, ok := f.prop(p.Name); ok {
			fail(409, "OBJECT_ALREADY_EXISTS", "Property named '"+p.Name+"' already exists.")
			return
		}
		if p.Name == "" || p.Type == "" || p.FieldType == "" || p.GroupName == "" || !slices.Contains(f.groups, p.GroupName) {
			fail(400, "VALIDATION_ERROR", "name, label, type, fieldType and an existing groupName are required")
			return
		}
		f.props = append(f.props, p)
		w.WriteHeader(201)
		json.NewEncoder(w).Encode(p)
	case r.Method == http.MethodPost && r.URL.Path == objects+"/search":
		f.search(w, r, fail)
	case r.Method == http.MethodPost && slices.Contains([]string{"/crm/v3/objects/calls/search", "/crm/v3/objects/emails/search",
		"/crm/v3/objects/meetings/search"}, r.URL.Path):
		f.activitySearch(w, r, strings.Split(r.URL.Path, "/")[4], fail)
	case r.Method == http.MethodPost && (r.URL.Path == objects+"/batch/update" || r.URL.Path == objects+"/batch/create"):
		f.batch(w, r, strings.HasSuffix(r.URL.Path, "/create"), fail)
	default:
		fail(404, "OBJECT_NOT_FOUND", "no such endpoint")
	}
}

func (f *fakeHubSpot) search(w http.ResponseWriter, r *http.Request, fail func(int, string, string)) {
	var req struct {
		FilterGroups []struct {
			Filters []struct {
				PropertyName string   `json:"propertyName"`
				Operator     string   `json:"operator"`
				Values       []string `json:"values"`
			} `json:"filters"`
		} `json:"filterGroups"`
		Properties []string `json:"properties"`
		Limit      int      `json:"limit"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || len(req.FilterGroups) != 1 || len(req.FilterGroups[0].Filters) != 1 ||
		req.FilterGroups[0].Filters[0].Operator != "IN" || req.Limit > 200 {
		fail(400, "VALIDATION_ERROR", "unexpected search")
		return
	}
	flt := req.FilterGroups[0].Filters[0]
	type hit struct {
		ID         string            `json:"id"`
		Properties map[string]string `json:"properties"`
		CreatedAt  string            `json:"createdAt"`
		UpdatedAt  string            `json:"updatedAt"`
		Archived   bool              `json:"archived"`
	}
	results := []hit{}
	ids := slices.Sorted(maps.Keys(f.records))
	for _, id := range ids {
		rec := f.records[id]
		value := rec[flt.PropertyName]
		if flt.PropertyName == "hs_object_id" {
			value = id
		}
		if !slices.Contains(flt.Values, value) {
			continue
		}
		props := map[string]string{}
		for _, p := range req.Properties {
			props[p] = rec[p]
		}
		props["hs_object_id"] = id // always there, whatever was asked
		results = append(results, hit{ID: id, Properties: props, CreatedAt: "2026-01-05T10:00:00Z", UpdatedAt: "2026-11-01T10:00:00Z"})
	}
	json.NewEncoder(w).Encode(map[string]any{"total": len(results), "results": results})
}

func (f *fakeHubSpot) batch(w http.ResponseWriter, r *http.Request, create bool, fail func(int, string, string)) {
	f.batches++
	var req struct {
		Inputs []struct {
			ID         string            `json:"id"`
			Properties map[string]string `json:"properties"`
		} `json:"inputs"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || len(req.Inputs) == 0 || len(req.Inputs) > 100 {
		fail(400, "VALIDATION_ERROR", "Invalid input JSON or batch size")
		return
	}
	for i, in := range req.Inputs {
		if _, ok := f.records[in.ID]; !create && !ok {
			fail(400, "VALIDATION_ERROR", fmt.Sprintf("Object %q does not exist (input %d)", in.ID, i))
			return
		}
		for name, v := range in.Properties {
			p, ok := f.prop(name)
			if !ok {
				fail(400, "VALIDATION_ERROR", fmt.Sprintf("Property values were not valid: [{\"isValid\":false,\"message\":\"Property \\\"%s\\\" does not exist\",\"error\":\"PROPERTY_DOESNT_EXIST\",\"name\":\"%s\"}]", name, name))
				return
			}
			if p.ModificationMetadata.ReadOnlyValue {
				fail(400, "VALIDATION_ERROR", fmt.Sprintf("Property values were not valid: [{\"isValid\":false,\"message\":\"\\\"%s\\\" is a calculated property; its value cannot be set.\",\"error\":\"READ_ONLY_VALUE\",\"name\":\"%s\"}]", name, name))
				return
			}
			if _, err := strconv.ParseFloat(v, 64); p.Type == "number" && v != "" && err != nil {
				fail(400, "VALIDATION_ERROR", fmt.Sprintf("Property values were not valid: %q is not a valid number for %s", v, name))
				return
			}
			if msg, bad := f.refuse[v]; bad && name == "beacon_account_id" {
				fail(400, "VALIDATION_ERROR", "Property values were not valid: "+msg)
				return
			}
		}
	}
	now := time.Now().UTC().Format(time.RFC3339)
	results := []map[string]any{}
	for _, in := range req.Inputs {
		id := in.ID
		if create {
			f.made++
			id = strconv.Itoa(1000 + f.made)
			f.records[id] = map[string]string{}
		}
		for k, v := range in.Properties {
			f.records[id][k] = v
		}
		results = append(results, map[string]any{"id": id, "properties": f.records[id], "createdAt": now, "updatedAt": now, "archived": false})
	}
	code := 200
	if create {
		code = 201
	}
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(map[string]any{"status": "COMPLETE", "results": results, "startedAt": now, "completedAt": now})
}

// activitySearch answers a search of one engagement type by company and
// time, earliest first, as the engagement objects' search documents it;
// hs_timestamp comes back in ISO 8601.
func (f *fakeHubSpot) activitySearch(w http.ResponseWriter, r *http.Request, object string, fail func(int, string, string)) {
	var req struct {
		FilterGroups []struct {
			Filters []struct {
				PropertyName string `json:"propertyName"`
				Operator     string `json:"operator"`
				Value        string `json:"value"`
			} `json:"filters"`
		} `json:"filterGroups"`
		Sorts []struct {
			PropertyName string `json:"propertyName"`
			Direction    string `json:"direction"`
		} `json:"sorts"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || len(req.FilterGroups) != 1 || len(req.Sorts) != 1 ||
		req.Sorts[0].PropertyName != "hs_timestamp" || req.Sorts[0].Direction != "ASCENDING" {
		fail(400, "VALIDATION_ERROR", "unexpected search")
		return
	}
	var company string
	var after int64
	for _, flt := range req.FilterGroups[0].Filters {
		switch {
		case flt.PropertyName == "associations.company" && flt.Operator == "EQ":
			company = flt.Value
		case flt.PropertyName == "hs_timestamp" && flt.Operator == "GTE":
			after, _ = strconv.ParseInt(flt.Value, 10, 64)
		default:
			fail(400, "VALIDATION_ERROR", "unexpected filter "+flt.PropertyName)
			return
		}
	}
	var hits []hsActivity
	for _, a := range f.activities {
		if a.object == object && a.company == company && a.at.UnixMilli() >= after {
			hits = append(hits, a)
		}
	}
	slices.SortFunc(hits, func(a, b hsActivity) int { return a.at.Compare(b.at) })
	results := []map[string]any{}
	for _, h := range hits[:min(len(hits), 1)] {
		results = append(results, map[string]any{"id": "9001", "properties": map[string]string{"hs_timestamp": h.at.UTC().Format("2006-01-02T15:04:05.000Z")}})
	}
	json.NewEncoder(w).Encode(map[string]any{"total": len(hits), "results": results})
}

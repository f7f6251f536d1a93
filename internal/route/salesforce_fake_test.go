package route_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// sfField is a field of the fake org's object, as sObject Describe gives
// it (REST API Developer Guide, "sObject Describe"; the DescribeSObjectResult
// Field type of the SOAP API reference).
type sfField struct {
	Name              string `json:"name"`
	Type              string `json:"type"`
	Length            int    `json:"length"`
	Nillable          bool   `json:"nillable"`
	Createable        bool   `json:"createable"`
	Updateable        bool   `json:"updateable"`
	DefaultedOnCreate bool   `json:"defaultedOnCreate"`
	ExternalID        bool   `json:"externalId"`
	IDLookup          bool   `json:"idLookup"`
}

func text(name string, length int) sfField {
	return sfField{Name: name, Type: "string", Length: length, Nillable: true, Createable: true, Updateable: true}
}

func num(name string) sfField {
	return sfField{Name: name, Type: "double", Nillable: true, Createable: true, Updateable: true}
}

// accountFields are an Account's: Name is required to create one (Account
// in the Object Reference), Beacon_Account_Id__c an external id.
func accountFields(extra ...sfField) []sfField {
	name := text("Name", 255)
	name.Nillable = false
	ext := text("Beacon_Account_Id__c", 64)
	ext.ExternalID, ext.IDLookup = true, true
	id := sfField{Name: "Id", Type: "id", Length: 18, IDLookup: true, DefaultedOnCreate: true}
	return append([]sfField{id, name, ext}, extra...)
}

// fakeSalesforce is an org's REST API as Salesforce documents it, for one
// object: Describe; SOQL query (GET /query?q=, "Query"); sObject
// Collections create (POST /composite/sobjects) and update (PATCH
// /composite/sobjects), allOrNone false, one SaveResult per record in
// order, each failing alone with StatusCode values from the API's fault
// codes: REQUIRED_FIELD_MISSING, STRING_TOO_LONG, INVALID_FIELD,
// ENTITY_IS_DELETED. A session it does not know is a 401
// INVALID_SESSION_ID; script answers statuses first (403
// REQUEST_LIMIT_EXCEEDED for the daily limit, 503 otherwise).
type fakeSalesforce struct {
	mu       sync.Mutex
	object   string
	fields   []sfField
	sessions map[string]bool // issued by sfLogin; crmToken always works
	unauth   int
	refuse   map[string]string // external id → validation rule message
	script   []int
	requests int
	records  map[string]map[string]any // by Salesforce Id
	created  int
	// activities are Tasks and Events on accounts, by their AccountId and
	// CreatedDate (Object Reference: Task, Event).
	activities []sfActivity
}

type sfActivity struct {
	object, account string
	created         time.Time
}

var soqlActivity = regexp.MustCompile(`^SELECT CreatedDate FROM (Task|Event) WHERE AccountId = '([^']*)' AND CreatedDate >= (\S+) ORDER BY CreatedDate ASC LIMIT 1$`)

func (f *fakeSalesforce) field(name string) (sfField, bool) {
	for _, fl := range f.fields {
		if fl.Name == name {
			return fl, true
		}
	}
	return sfField{}, false
}

// byExt finds a record by its external id.
func (f *fakeSalesforce) byExt(ext string) map[string]any {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, r := range f.records {
		if r["Beacon_Account_Id__c"] == ext || r["Beacon_Email__c"] == ext {
			return r
		}
	}
	return nil
}

// seed puts an existing record in the org, and returns its Id.
func (f *fakeSalesforce) seed(fields map[string]any) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.created++
	id := fmt.Sprintf("001xx%013d", f.created)
	rec := map[string]any{"Id": id}
	for k, v := range fields {
		rec[k] = v
	}
	f.records[id] = rec
	return id
}

var soqlIn = regexp.MustCompile(`^SELECT Id, (\w+) FROM (\w+) WHERE (\w+) IN \((.*)\)$`)

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
		if code == 403 {
			fail(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
		} else {
			fail(code, "SERVER_UNAVAILABLE", "Server unavailable")
		}
		return
	}
	path := strings.TrimPrefix(r.URL.Path, "/services/data/v60.0")
	switch {
	case r.Method == http.MethodGet && path == "/sobjects/"+f.object+"/describe":
		json.NewEncoder(w).Encode(map[string]any{"name": f.object, "fields": f.fields})
	case r.Method == http.MethodGet && path == "/query":
		f.query(w, r.URL.Query().Get("q"), fail)
	case path == "/composite/sobjects" && (r.Method == http.MethodPost || r.Method == http.MethodPatch):
		var req struct {
			AllOrNone bool             `json:"allOrNone"`
			Records   []map[string]any `json:"records"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil || len(req.Records) == 0 || len(req.Records) > 200 {
			fail(400, "JSON_PARSER_ERROR", "bad request or more than 200 records")
			return
		}
		out := make([]map[string]any, len(req.Records))
		for i, rec := range req.Records {
			out[i] = f.save(rec, r.Method == http.MethodPost)
		}
		json.NewEncoder(w).Encode(out)
	default:
		fail(404, "NOT_FOUND", "The requested resource does not exist")
	}
}

func (f *fakeSalesforce) query(w http.ResponseWriter, q string, fail func(int, string, string)) {
	if m := soqlActivity.FindStringSubmatch(q); m != nil {
		after, err := time.Parse(time.RFC3339, m[3])
		if err != nil {
			fail(400, "MALFORMED_QUERY", "bad datetime literal "+m[3])
			return
		}
		var first *sfActivity
		for i, a := range f.activities {
			if a.object == m[1] && a.account == m[2] && !a.created.Before(after) && (first == nil || a.created.Before(first.created)) {
				first = &f.activities[i]
			}
		}
		records := []map[string]any{}
		if first != nil {
			records = append(records, map[string]any{"attributes": map[string]string{"type": m[1]},
				"CreatedDate": first.created.UTC().Format("2006-01-02T15:04:05.000+0000")})
		}
		json.NewEncoder(w).Encode(map[string]any{"totalSize": len(records), "done": true, "records": records})
		return
	}
	m := soqlIn.FindStringSubmatch(q)
	if m == nil || m[2] != f.object || m[1] != m[3] {
		fail(400, "MALFORMED_QUERY", "unexpected query: "+q)
		return
	}
	var want []string
	for _, v := range regexp.MustCompile(`'((?:[^'\\]|\\.)*)'`).FindAllStringSubmatch(m[4], -1) {
		want = append(want, strings.NewReplacer(`\'`, `'`, `\\`, `\`).Replace(v[1]))
	}
	records := []map[string]any{}
	for _, rec := range f.records {
		for _, v := range want {
			if rec[m[1]] == v {
				records = append(records, map[string]any{"attributes": map[string]string{"type": f.object,
					"url": "/services/data/v60.0/sobjects/" + f.object + "/" + rec["Id"].(string)}, "Id": rec["Id"], m[1]: v})
			}
		}
	}
	json.NewEncoder(w).Encode(map[string]any{"totalSize": len(records), "done": true, "records": records})
}

// save creates or updates one record and returns its SaveResult.
func (f *fakeSalesforce) save(rec map[string]any, create bool) map[string]any {
	failed := func(code, msg string, fields ...string) map[string]any {
		return map[string]any{"success": false, "errors": []map[string]any{{"statusCode": code, "message": msg, "fields": fields}}}
	}
	attrs, _ := rec["attributes"].(map[string]any)
	if attrs["type"] != f.object {
		return failed("INVALID_TYPE", "attributes.type is required")
	}
	for k, v := range rec {
		if k == "attributes" || k == "Id" {
			continue
		}
		fl, ok := f.field(k)
		if !ok {
			return failed("INVALID_FIELD", "No such column '"+k+"' on sobject of type "+f.object, k)
		}
		if s, isText := v.(string); isText && fl.Type == "string" && utf8.RuneCountInString(s) > fl.Length {
			return failed("STRING_TOO_LONG", fmt.Sprintf("%s: data value too large: %.20s… (max length=%d)", k, s, fl.Length), k)
		}
	}
	ext, _ := rec["Beacon_Account_Id__c"].(string)
	if cur, ok := f.records[fmt.Sprint(rec["Id"])]; ok && ext == "" {
		ext, _ = cur["Beacon_Account_Id__c"].(string)
	}
	if msg, bad := f.refuse[ext]; bad {
		return failed("FIELD_CUSTOM_VALIDATION_EXCEPTION", msg)
	}
	if create {
		var missing []string
		for _, fl := range f.fields {
			if fl.Createable && !fl.Nillable && !fl.DefaultedOnCreate && rec[fl.Name] == nil {
				missing = append(missing, fl.Name)
			}
		}
		if len(missing) > 0 {
			return failed("REQUIRED_FIELD_MISSING", "Required fields are missing: ["+strings.Join(missing, ", ")+"]", missing...)
		}
		f.created++
		id := fmt.Sprintf("001xx%013d", f.created)
		rec["Id"] = id
		f.records[id] = rec
		return map[string]any{"id": id, "success": true, "errors": []any{}}
	}
	id, _ := rec["Id"].(string)
	cur, ok := f.records[id]
	if !ok {
		return failed("ENTITY_IS_DELETED", "entity is deleted")
	}
	for k, v := range rec {
		cur[k] = v
	}
	return map[string]any{"id": id, "success": true, "errors": []any{}}
}

package route

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/beaconplg/beacon/internal/store"
)

// salesforce writes fields onto Salesforce records through sObject
// Collections: it reads the object's Describe first, fits each value to
// its field, finds the records (by the Salesforce Id a linked account
// carries, or by the external id field through SOQL), updates those it
// finds, and creates the others only when the destination says create.
type salesforce struct {
	spec    Spec
	session *session
	client  *http.Client
	ua      string
	pace    *pacer
	now     func() time.Time

	schema described[*sfSchema]
}

const (
	salesforceBatch   = 200
	salesforceVersion = "v60.0"
	// salesforceLimitWait is how long to wait once the org's API requests
	// for the day are spent: they come back over a rolling 24 hours.
	salesforceLimitWait = 15 * time.Minute
	// schemaTTL is how long a Describe is trusted: fields made meanwhile
	// are seen within it.
	schemaTTL = time.Hour
	// mappingWait is how long deliveries wait while the mapping cannot
	// work (a field to create): not dead, so that they go once it is made.
	mappingWait = 15 * time.Minute
)

// sfField is what Describe says of a field.
type sfField struct {
	Name              string            `json:"name"`
	Type              string            `json:"type"`
	Length            int               `json:"length"`
	Nillable          bool              `json:"nillable"`
	Createable        bool              `json:"createable"`
	Updateable        bool              `json:"updateable"`
	DefaultedOnCreate bool              `json:"defaultedOnCreate"`
	ExternalID        bool              `json:"externalId"`
	IDLookup          bool              `json:"idLookup"`
	Restricted        bool              `json:"restrictedPicklist"`
	PicklistValues    []sfPicklistValue `json:"picklistValues"`
}

type sfPicklistValue struct {
	Value  string `json:"value"`
	Active bool   `json:"active"`
}

// sfSchema is an object's fields, and why the mapping cannot work with
// them, if it cannot.
type sfSchema struct {
	fields  map[string]sfField
	problem error
}

func (s *sfSchema) mappingProblem() error { return s.problem }

// byID: the destination finds records by their Salesforce Id (crm_id, the
// record a workspace is linked to), not by an external id.
func (s *salesforce) byID() bool { return s.spec.idField() == "crm_id" }

func (s *salesforce) Send(ctx context.Context, ds []store.Delivery) []error {
	schema, err := s.schema.get(s.now(), func() (*sfSchema, error) { return s.describe(ctx) })
	return sendMapped(ctx, s.spec, ds, salesforceBatch, schema, err, s.write)
}

// describe reads the object's fields (sObject Describe) and checks the
// mapping against them.
func (s *salesforce) describe(ctx context.Context) (*sfSchema, error) {
	var d struct {
		Fields []sfField `json:"fields"`
	}
	path := "/sobjects/" + url.PathEscape(s.spec.Object) + "/describe"
	if err := s.call(ctx, http.MethodGet, path, nil, func(b []byte) error { return json.Unmarshal(b, &d) }); err != nil {
		return nil, fmt.Errorf("describing %s: %w", s.spec.Object, err)
	}
	schema := &sfSchema{fields: map[string]sfField{}}
	for _, f := range d.Fields {
		schema.fields[f.Name] = f
	}
	schema.problem = s.check(schema)
	return schema, nil
}

// check says what the org lacks for the mapping to work: each field to
// create, or to make editable, and for create, the object's required
// fields to map.
func (s *salesforce) check(schema *sfSchema) error {
	var missing []string
	obj := s.spec.Object
	for _, prop := range slices.Sorted(maps.Keys(s.spec.Properties)) {
		f, ok := schema.fields[prop]
		switch {
		case !ok:
			missing = append(missing, fmt.Sprintf("%s has no field %s: create it (for Beacon's %s) or change the mapping",
				obj, prop, s.spec.Properties[prop]))
		case !f.Updateable:
			missing = append(missing, fmt.Sprintf("%s.%s is not editable by Beacon's user: grant it edit access", obj, prop))
		}
	}
	if !s.byID() {
		f, ok := schema.fields[s.spec.IDProperty]
		if !ok || !(f.ExternalID || f.IDLookup) {
			missing = append(missing, fmt.Sprintf("%s has no External ID field %s to find records by: create it (Text, unique, External ID)",
				obj, s.spec.IDProperty))
		}
	}
	if s.spec.Create {
		var need []string
		for _, f := range schema.fields {
			_, mapped := s.spec.Properties[f.Name]
			if f.Createable && !f.Nillable && !f.DefaultedOnCreate && f.Type != "boolean" && !mapped && f.Name != s.spec.IDProperty {
				need = append(need, f.Name)
			}
		}
		sort.Strings(need)
		if len(need) > 0 {
			missing = append(missing, fmt.Sprintf("create: true needs %s's required fields mapped: %s (under properties, e.g. %s: account_name)",
				obj, strings.Join(need, ", "), need[0]))
		}
	}
	if len(missing) > 0 {
		return errors.New(strings.Join(missing, "; "))
	}
	return nil
}

// fit makes a record's values what their fields take: text cut to the
// field's length with an ellipsis, numbers as numbers, a restricted
// picklist's values among its own. An error names the field.
func fit(schema *sfSchema, props map[string]any) (map[string]any, error) {
	out := make(map[string]any, len(props))
	for name, v := range props {
		f := schema.fields[name]
		switch f.Type {
		case "string", "textarea", "url", "email", "phone", "encryptedstring":
			s := fmt.Sprint(v)
			if v == nil {
				s = ""
			}
			if f.Length > 0 {
				s = cut(s, f.Length)
			}
			out[name] = s
		case "double", "int", "currency", "percent", "long":
			n, ok := number(v)
			if !ok {
				return nil, fmt.Errorf("%s is a number field; Beacon's value is %v", name, v)
			}
			out[name] = n
		case "picklist":
			s := fmt.Sprint(v)
			if f.Restricted && !slices.ContainsFunc(f.PicklistValues, func(p sfPicklistValue) bool { return p.Active && p.Value == s }) {
				return nil, fmt.Errorf("%s takes only its picklist's values; %q is not one of them: add it", name, s)
			}
			out[name] = s
		default:
			out[name] = v
		}
	}
	return out, nil
}

// number reads a value as a number, if it is one.
func number(v any) (any, bool) {
	switch x := v.(type) {
	case nil:
		return nil, true // clears the field
	case float64, int, int64:
		return x, true
	case string:
		n, err := strconv.ParseFloat(x, 64)
		return n, err == nil
	}
	return nil, false
}

// write updates the records found and creates the others when told to.
func (s *salesforce) write(ctx context.Context, schema *sfSchema, recs []record) []error {
	out := make([]error, len(recs))
	fitted := make([]map[string]any, len(recs))
	for i, r := range recs {
		var err error
		if fitted[i], err = fit(schema, r.props); err != nil {
			out[i] = &SendError{Permanent: true, Err: err}
		}
	}
	ids, err := s.find(ctx, recs, out)
	if err != nil {
		return all(len(recs), err)
	}
	var updates, creates []int
	for i, r := range recs {
		switch {
		case out[i] != nil:
		case ids[r.id] != "":
			updates = append(updates, i)
		case s.spec.Create:
			creates = append(creates, i)
		default:
			out[i] = &SendError{Permanent: true, Err: fmt.Errorf("no %s has %s = %q to update: Beacon creates none unless the destination says create: true",
				s.spec.Object, s.findBy(), r.id)}
		}
	}
	body := func(idx []int, withID bool) []map[string]any {
		rows := make([]map[string]any, len(idx))
		for j, i := range idx {
			m := map[string]any{"attributes": map[string]string{"type": s.spec.Object}}
			if withID {
				m["Id"] = ids[recs[i].id]
			} else {
				m[s.spec.IDProperty] = recs[i].id
			}
			for k, v := range fitted[i] {
				m[k] = v
			}
			rows[j] = m
		}
		return rows
	}
	s.save(ctx, http.MethodPatch, updates, body(updates, true), out)
	s.save(ctx, http.MethodPost, creates, body(creates, false), out)
	return out
}

// findBy names what finds a record, for messages.
func (s *salesforce) findBy() string {
	if s.byID() {
		return "Id"
	}
	return s.spec.IDProperty
}

// find returns the Salesforce Id of each record that exists, by its key:
// the key itself when it is an Id, else through SOQL on the external id.
func (s *salesforce) find(ctx context.Context, recs []record, skip []error) (map[string]string, error) {
	ids := map[string]string{}
	var keys []string
	for i, r := range recs {
		if skip[i] != nil {
			continue
		}
		if s.byID() {
			ids[r.id] = r.id
			continue
		}
		keys = append(keys, "'"+soqlEscape(r.id)+"'")
	}
	if len(keys) == 0 {
		return ids, nil
	}
	q := "SELECT Id, " + s.spec.IDProperty + " FROM " + s.spec.Object + " WHERE " + s.spec.IDProperty + " IN (" + strings.Join(keys, ",") + ")"
	path := "/query?q=" + url.QueryEscape(q)
	for path != "" {
		var page struct {
			Done    bool             `json:"done"`
			Next    string           `json:"nextRecordsUrl"`
			Records []map[string]any `json:"records"`
		}
		if err := s.call(ctx, http.MethodGet, path, nil, func(b []byte) error { return json.Unmarshal(b, &page) }); err != nil {
			return nil, err
		}
		for _, r := range page.Records {
			id, _ := r["Id"].(string)
			ids[fmt.Sprint(r[s.spec.IDProperty])] = id
		}
		path = ""
		if !page.Done && page.Next != "" {
			path = strings.TrimPrefix(page.Next, "/services/data/"+salesforceVersion)
		}
	}
	return ids, nil
}

// soqlEscape escapes a value for a quoted SOQL string.
func soqlEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s)
}

// save sends rows (updates with PATCH, creates with POST) as one
// collection, allOrNone false, and gives out[idx[j]] the result of row j.
func (s *salesforce) save(ctx context.Context, method string, idx []int, rows []map[string]any, out []error) {
	if len(rows) == 0 {
		return
	}
	body, err := json.Marshal(map[string]any{"allOrNone": false, "records": rows})
	if err != nil {
		for _, i := range idx {
			out[i] = &SendError{Permanent: true, Err: err}
		}
		return
	}
	var results []salesforceResult
	err = s.call(ctx, method, "/composite/sobjects", body, func(b []byte) error {
		if err := json.Unmarshal(b, &results); err != nil {
			return &SendError{Err: fmt.Errorf("reading the answer from Salesforce: %w", err)}
		}
		if len(results) != len(rows) {
			return &SendError{Err: fmt.Errorf("the answer from Salesforce has %d results for %d records", len(results), len(rows))}
		}
		return nil
	})
	for j, i := range idx {
		if err != nil {
			out[i] = err
			continue
		}
		out[i] = results[j].err()
	}
}

type salesforceResult struct {
	ID      string `json:"id"`
	Success bool   `json:"success"`
	Errors  []struct {
		StatusCode string   `json:"statusCode"`
		Message    string   `json:"message"`
		Fields     []string `json:"fields"`
	} `json:"errors"`
}

// err is a result's failure, with every error Salesforce gave for it.
func (r salesforceResult) err() error {
	if r.Success {
		return nil
	}
	var msgs []string
	for _, e := range r.Errors {
		m := e.StatusCode + ": " + e.Message
		if len(e.Fields) > 0 {
			m += " (" + strings.Join(e.Fields, ", ") + ")"
		}
		msgs = append(msgs, m)
	}
	return &SendError{Permanent: true, Err: fmt.Errorf("refused by Salesforce: %s", strings.Join(msgs, "; "))}
}

// call sends a request to the org's REST API (path under
// /services/data/vXX.X). A session Salesforce ended is renewed, once, and
// the request sent again before it counts as failed; the daily API limit
// waits instead of failing.
func (s *salesforce) call(ctx context.Context, method, path string, body []byte, read func([]byte) error) error {
	for try := 0; ; try++ {
		token, instance, err := s.session.get(ctx)
		if err != nil {
			return &SendError{Err: err}
		}
		if err := s.pace.wait(ctx); err != nil {
			return &SendError{Err: err}
		}
		err = post(ctx, s.client, method, instance+"/services/data/"+salesforceVersion+path, bearer(token, s.ua), body, read)
		if try == 0 && sessionEnded(err) && s.session.ended(token) {
			continue
		}
		var se *SendError
		if errors.As(err, &se) && se.Status == http.StatusForbidden && strings.Contains(se.Err.Error(), "REQUEST_LIMIT_EXCEEDED") {
			// The org's daily API limit: worth waiting for, not a
			// wrong request, and not an attempt spent.
			se.Permanent, se.RetryAfter, se.Waiting = false, salesforceLimitWait, true
		}
		return err
	}
}

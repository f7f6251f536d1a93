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
	"strconv"
	"strings"
	"sync"
	"time"
	// The portal's daily limit resets at its midnight: its time zone must
	// load wherever Beacon runs, a container without zoneinfo included.
	_ "time/tzdata"

	"github.com/beaconplg/beacon/internal/store"
)

// hubspot writes properties onto HubSpot records through the CRM v3 API:
// it reads the object's properties first, finds the records (by the
// unique id property, then companies by domain, so that none is made
// twice), updates those it finds in batches of up to 100, and creates the
// others only when the destination says create. A batch HubSpot refuses
// for one input is split until that input is found, and only it fails.
type hubspot struct {
	spec   Spec
	token  string
	client *http.Client
	ua     string
	pace   *pacer
	// searching paces the search API, which takes fewer requests a
	// second than the rest ("API usage guidelines": 4 a second).
	searching *pacer
	now       func() time.Time

	schema described[*hsSchema]

	rate sync.Mutex     // guards what the portal said of its limits
	zone *time.Location // the portal's, where its daily limit resets
	slow time.Time      // no request before: the portal's window is spent
}

// hubspotBatch is the most inputs one batch request takes.
const hubspotBatch = 100

// hsProperty is what the properties API says of a property.
type hsProperty struct {
	Name           string     `json:"name"`
	Type           string     `json:"type"`
	HasUniqueValue bool       `json:"hasUniqueValue"`
	Options        []hsOption `json:"options"`
	// ModificationMetadata.ReadOnlyValue marks a property HubSpot
	// calculates (hs_object_id, say): a write to it fails the whole
	// batch ("READ_ONLY_VALUE").
	ModificationMetadata struct {
		ReadOnlyValue bool `json:"readOnlyValue"`
	} `json:"modificationMetadata"`
}

type hsOption struct {
	Value string `json:"value"`
}

type hsSchema struct {
	props   map[string]hsProperty
	problem error
}

func (s *hsSchema) mappingProblem() error { return s.problem }

func (h *hubspot) Send(ctx context.Context, ds []store.Delivery) []error {
	schema, err := h.schema.get(h.now(), func() (*hsSchema, error) {
		props, err := hubspotProperties(ctx, h.call, h.spec.Object)
		if err != nil {
			return nil, err
		}
		return &hsSchema{props: props, problem: checkHubSpot(h.spec, props)}, nil
	})
	return sendMapped(ctx, h.spec, ds, hubspotBatch, schema, err, h.write)
}

// hubspotProperties reads an object's properties, by name.
func hubspotProperties(ctx context.Context, call caller, object string) (map[string]hsProperty, error) {
	var list struct {
		Results []hsProperty `json:"results"`
	}
	err := call(ctx, http.MethodGet, "/crm/v3/properties/"+url.PathEscape(object), nil, func(b []byte) error {
		return json.Unmarshal(b, &list)
	})
	if err != nil {
		return nil, fmt.Errorf("reading the %s properties: %w", object, err)
	}
	props := map[string]hsProperty{}
	for _, p := range list.Results {
		props[p.Name] = p
	}
	return props, nil
}

// checkHubSpot says what the portal lacks for the mapping to work.
func checkHubSpot(sp Spec, props map[string]hsProperty) error {
	var missing, calculated []string
	for _, name := range slices.Sorted(maps.Keys(sp.Properties)) {
		p, ok := props[name]
		switch {
		case !ok:
			missing = append(missing, name)
		case p.ModificationMetadata.ReadOnlyValue:
			calculated = append(calculated, name)
		}
	}
	var problems []string
	if len(calculated) > 0 {
		// No setup makes these writable: beacon.yaml must map others.
		problems = append(problems, fmt.Sprintf("HubSpot calculates %s of %s itself: map other properties in beacon.yaml",
			strings.Join(calculated, ", "), sp.Object))
	}
	var fixable []string
	if len(missing) > 0 {
		fixable = append(fixable, fmt.Sprintf("HubSpot %s lack the properties %s", sp.Object, strings.Join(missing, ", ")))
	}
	if p, ok := props[sp.IDProperty]; !ok || !(p.HasUniqueValue || nativeID(sp)) {
		fixable = append(fixable, fmt.Sprintf("%s is not a unique property of HubSpot %s: records cannot be found by it",
			sp.IDProperty, sp.Object))
	}
	if len(fixable) > 0 {
		problems = append(problems, fmt.Sprintf("%s: run `beacon destinations setup %s` to create them", strings.Join(fixable, "; "), sp.Name))
	}
	if len(problems) == 0 {
		return nil
	}
	return errors.New(strings.Join(problems, "; "))
}

// nativeID: the id property is one HubSpot keeps unique itself.
func nativeID(sp Spec) bool {
	return (sp.Object == "contacts" && sp.IDProperty == "email") || sp.IDProperty == "hs_object_id"
}

// write updates the records found and creates the others when told to.
func (h *hubspot) write(ctx context.Context, schema *hsSchema, recs []record) []error {
	out := make([]error, len(recs))
	values := make([]map[string]string, len(recs))
	for i, r := range recs {
		var err error
		if values[i], err = fitHubSpot(schema, r.props); err != nil {
			out[i] = &SendError{Permanent: true, Err: err}
			continue
		}
		if !schema.props[h.spec.IDProperty].ModificationMetadata.ReadOnlyValue {
			// The record keeps the id it is found by; HubSpot's own
			// (hs_object_id) it keeps itself, and refuses to be set.
			values[i][h.spec.IDProperty] = r.id
		}
	}
	ids, err := h.find(ctx, recs, out)
	if err != nil {
		return all(len(recs), err)
	}
	var updates, creates []int
	for i, r := range recs {
		switch {
		case out[i] != nil:
		case ids[i] != "":
			updates = append(updates, i)
		case h.spec.Create:
			creates = append(creates, i)
		default:
			out[i] = &SendError{Permanent: true, Err: fmt.Errorf("no HubSpot %s has %s = %q%s to update: Beacon creates none unless the destination says create: true",
				h.spec.Object, h.spec.IDProperty, r.id, byDomain(h.spec, r))}
		}
	}
	inputs := func(idx []int, withID bool) []map[string]any {
		rows := make([]map[string]any, len(idx))
		for j, i := range idx {
			rows[j] = map[string]any{"properties": values[i]}
			if withID {
				rows[j]["id"] = ids[i]
			}
		}
		return rows
	}
	h.batch(ctx, "update", updates, inputs(updates, true), out)
	h.batch(ctx, "create", creates, inputs(creates, false), out)
	return out
}

func byDomain(sp Spec, r record) string {
	if sp.Object == "companies" && r.domain != "" {
		return " or domain " + r.domain
	}
	return ""
}

// fitHubSpot makes a record's values what HubSpot takes: strings, numbers
// checked against number properties and options against enumerations.
func fitHubSpot(schema *hsSchema, props map[string]any) (map[string]string, error) {
	out := make(map[string]string, len(props)+1)
	for name, v := range props {
		s := hubspotValue(v)
		p := schema.props[name]
		switch p.Type {
		case "number":
			if _, err := strconv.ParseFloat(s, 64); s != "" && err != nil {
				return nil, fmt.Errorf("%s is a number property; Beacon's value is %q", name, s)
			}
		case "enumeration":
			if s != "" && !slices.ContainsFunc(p.Options, func(o hsOption) bool { return o.Value == s }) {
				return nil, fmt.Errorf("%s takes only its options; %q is not one of them: add it", name, s)
			}
		}
		out[name] = s
	}
	return out, nil
}

// hubspotValue is how HubSpot takes a value: a string (numbers written
// plainly); nil, an empty string, which clears the property.
func hubspotValue(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// find returns, by record, the HubSpot id of the record that exists: found
// by the id property, or, for a company not yet given it, by its domain.
func (h *hubspot) find(ctx context.Context, recs []record, skip []error) ([]string, error) {
	ids := make([]string, len(recs))
	var keys []string
	for i, r := range recs {
		if skip[i] == nil {
			keys = append(keys, r.id)
		}
	}
	byKey, err := h.search(ctx, h.spec.IDProperty, keys)
	if err != nil {
		return nil, err
	}
	var domains []string
	for i, r := range recs {
		ids[i] = byKey[r.id]
		if ids[i] == "" && skip[i] == nil && h.spec.Object == "companies" && r.domain != "" {
			domains = append(domains, r.domain)
		}
	}
	if len(domains) == 0 {
		return ids, nil
	}
	found, err := h.search(ctx, "domain", domains)
	if err != nil {
		return nil, err
	}
	for i, r := range recs {
		if ids[i] == "" && r.domain != "" {
			ids[i] = found[r.domain]
		}
	}
	return ids, nil
}

// search finds the records whose property has one of values, through the
// CRM search API, and returns their ids by value.
func (h *hubspot) search(ctx context.Context, property string, values []string) (map[string]string, error) {
	out := map[string]string{}
	slices.Sort(values)
	values = slices.Compact(values)
	for len(values) > 0 {
		part := values[:min(len(values), hubspotBatch)]
		values = values[len(part):]
		after := ""
		for {
			req := map[string]any{"filterGroups": []any{map[string]any{"filters": []any{
				map[string]any{"propertyName": property, "operator": "IN", "values": part}}}},
				"properties": []string{property}, "limit": hubspotBatch}
			if after != "" {
				req["after"] = after
			}
			body, _ := json.Marshal(req)
			var ans struct {
				Results []struct {
					ID         string            `json:"id"`
					Properties map[string]string `json:"properties"`
				} `json:"results"`
				Paging struct {
					Next struct {
						After string `json:"after"`
					} `json:"next"`
				} `json:"paging"`
			}
			err := h.searchCall(ctx, "/crm/v3/objects/"+url.PathEscape(h.spec.Object)+"/search", body,
				func(b []byte) error { return json.Unmarshal(b, &ans) })
			if err != nil {
				return nil, fmt.Errorf("searching HubSpot %s by %s: %w", h.spec.Object, property, err)
			}
			for _, r := range ans.Results {
				if v := r.Properties[property]; out[v] == "" {
					out[v] = r.ID // the first HubSpot returns, of records that share a value
				}
			}
			if after = ans.Paging.Next.After; after == "" {
				break
			}
		}
	}
	return out, nil
}

// batch sends inputs to batch/update or batch/create and gives out[idx[j]]
// the outcome of input j. A batch HubSpot refuses whole (a 400 for one
// input) or answers without saying which inputs failed (a 207 without
// ids) is split in halves and sent again, until the input that fails is
// alone: it fails, the others are written.
func (h *hubspot) batch(ctx context.Context, op string, idx []int, inputs []map[string]any, out []error) {
	if len(inputs) == 0 {
		return
	}
	body, err := json.Marshal(map[string]any{"inputs": inputs})
	if err != nil {
		for _, i := range idx {
			out[i] = &SendError{Permanent: true, Err: err}
		}
		return
	}
	var ans struct {
		Errors []hsError `json:"errors"`
	}
	err = h.call(ctx, http.MethodPost, "/crm/v3/objects/"+url.PathEscape(h.spec.Object)+"/batch/"+op, body,
		func(b []byte) error { return json.Unmarshal(b, &ans) })
	var se *SendError
	whole := errors.As(err, &se) && se.Status == http.StatusBadRequest
	if err == nil && len(ans.Errors) > 0 {
		named := h.named(ans.Errors, inputs, idx, out)
		whole = !named
		err = errors.New(ans.Errors[0].Message)
	}
	switch {
	case whole && len(inputs) > 1:
		mid := len(inputs) / 2
		h.batch(ctx, op, idx[:mid], inputs[:mid], out)
		h.batch(ctx, op, idx[mid:], inputs[mid:], out)
	case whole:
		out[idx[0]] = &SendError{Permanent: true, Err: fmt.Errorf("refused by HubSpot: %v", err)}
	case err != nil && len(ans.Errors) == 0:
		for _, i := range idx {
			out[i] = err
		}
	}
}

// hsError is one error of a multi-status batch answer.
type hsError struct {
	Category string              `json:"category"`
	Message  string              `json:"message"`
	Context  map[string][]string `json:"context"`
}

// named marks the inputs a multi-status answer's errors name (by the id
// in context.ids); it reports whether every error named one.
func (h *hubspot) named(errs []hsError, inputs []map[string]any, idx []int, out []error) bool {
	for _, e := range errs {
		if len(e.Context["ids"]) == 0 {
			return false
		}
		for _, id := range e.Context["ids"] {
			for j, in := range inputs {
				props, _ := in["properties"].(map[string]string)
				if in["id"] == id || props[h.spec.IDProperty] == id {
					out[idx[j]] = &SendError{Permanent: true, Err: fmt.Errorf("refused by HubSpot (%s): %s", e.Category, e.Message)}
				}
			}
		}
	}
	return true
}

// searchCall is call for the search API, paced to its own limit.
func (h *hubspot) searchCall(ctx context.Context, path string, body []byte, read func([]byte) error) error {
	if err := h.searching.wait(ctx); err != nil {
		return &SendError{Err: err}
	}
	return h.call(ctx, http.MethodPost, path, body, read)
}

// hubspotSearchRate is how many search requests a second a portal takes.
const hubspotSearchRate = 4.0

// caller sends a request to a CRM's API: path under its base URL, read
// taking a 2xx body.
type caller func(ctx context.Context, method, path string, body []byte, read func([]byte) error) error

// call sends a request to the portal. It waits out a window the portal
// said is spent (X-HubSpot-RateLimit-Remaining), and turns the daily limit
// (429 policyName DAILY) into a wait until the portal's midnight that
// spends no attempt.
func (h *hubspot) call(ctx context.Context, method, path string, body []byte, read func([]byte) error) error {
	// The portal's windows are of the wall clock's time, whatever clock
	// the dispatcher schedules by.
	h.rate.Lock()
	wait := time.Until(h.slow)
	h.rate.Unlock()
	if wait > 0 {
		select {
		case <-ctx.Done():
			return &SendError{Err: ctx.Err()}
		case <-time.After(wait):
		}
	}
	if err := h.pace.wait(ctx); err != nil {
		return &SendError{Err: err}
	}
	var header http.Header
	err := postHeader(ctx, h.client, method, strings.TrimSuffix(h.spec.URL, "/")+path, bearer(h.token, h.ua), body, read, &header)
	h.rate.Lock()
	h.slow = slowUntil(header, time.Now(), h.slow)
	h.rate.Unlock()
	var se *SendError
	if errors.As(err, &se) && se.Status == http.StatusTooManyRequests && hubspotPolicy(se.body) == "DAILY" {
		se.Waiting, se.RetryAfter = true, h.untilMidnight(ctx)
	}
	return err
}

// hubspotPolicy is the limit a 429 of HubSpot's names ("policyName":
// SECONDLY, DAILY ...), however the answer is laid out; "" if none.
func hubspotPolicy(body []byte) string {
	var a struct {
		PolicyName string `json:"policyName"`
	}
	if json.Unmarshal(body, &a) != nil {
		return ""
	}
	return a.PolicyName
}

// slowUntil reads HubSpot's rate-limit headers: with one request or none
// left in the window, none is sent until the window is over.
func slowUntil(h http.Header, now, cur time.Time) time.Time {
	left, err := strconv.Atoi(h.Get("X-HubSpot-RateLimit-Remaining"))
	if err != nil || left > 1 {
		return cur
	}
	ms, err := strconv.Atoi(h.Get("X-HubSpot-RateLimit-Interval-Milliseconds"))
	if err != nil || ms <= 0 || ms > 60_000 {
		ms = 10_000
	}
	return now.Add(time.Duration(ms) * time.Millisecond)
}

// untilMidnight is how long until the portal's daily limit resets: its
// midnight, in the time zone its account settings name (account-info
// API), or UTC's if that cannot be read.
func (h *hubspot) untilMidnight(ctx context.Context) time.Duration {
	h.rate.Lock()
	zone := h.zone
	h.rate.Unlock()
	if zone == nil {
		zone = time.UTC
		var acct struct {
			TimeZone string `json:"timeZone"`
		}
		err := postHeader(ctx, h.client, http.MethodGet, strings.TrimSuffix(h.spec.URL, "/")+"/account-info/v3/details",
			bearer(h.token, h.ua), nil, func(b []byte) error { return json.Unmarshal(b, &acct) }, nil)
		if loc, lerr := time.LoadLocation(acct.TimeZone); err == nil && lerr == nil && acct.TimeZone != "" {
			zone = loc
			h.rate.Lock()
			h.zone = loc
			h.rate.Unlock()
		}
	}
	now := h.now().In(zone)
	midnight := time.Date(now.Year(), now.Month(), now.Day()+1, 0, 0, 0, 0, zone)
	return midnight.Sub(now) + time.Minute // a minute past, for clocks that differ
}

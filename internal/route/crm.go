package route

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/beaconplg/beacon/internal/score"
	"github.com/beaconplg/beacon/internal/store"
)

// record is one CRM record to write: the value that finds it, and the
// properties to set on it.
type record struct {
	id    string
	props map[string]any
}

// crmRecords maps each delivery to its records: one for the account, or
// one per person with an email when the destination writes per person.
// Deliveries about the same record in one batch write it once, with the
// newest alert: a CRM may refuse a batch naming one record twice. same[i]
// are the indexes in recs of delivery i's records; errs[i] is set for a
// delivery that cannot be mapped.
func crmRecords(sp Spec, ds []store.Delivery) (recs []record, same [][]int, errs []error) {
	same, errs = make([][]int, len(ds)), make([]error, len(ds))
	byID := map[string]int{}
	var newest []int64 // by record: the alert its properties come from
	idField := sp.idField()
	for i, d := range ds {
		data, err := alertData(d)
		if err != nil {
			errs[i] = &SendError{Permanent: true, Err: err}
			continue
		}
		who := []*score.Person{nil}
		if sp.Per == PerPerson {
			who = who[:0]
			for j := range data.Account.People {
				who = append(who, &data.Account.People[j])
			}
		}
		for _, p := range who {
			id := data.fieldFor(idField, p)
			if id == nil || id == "" {
				errs[i] = &SendError{Permanent: true, Err: fmt.Errorf("the alert has no %s to find the record by", idField)}
				break
			}
			props := map[string]any{}
			for prop, field := range sp.Properties {
				props[prop] = data.fieldFor(field, p)
			}
			key := fmt.Sprint(id)
			k, seen := byID[key]
			if !seen {
				k = len(recs)
				byID[key] = k
				recs, newest = append(recs, record{id: key}), append(newest, 0)
			}
			if d.AlertID >= newest[k] {
				recs[k].props, newest[k] = props, d.AlertID
			}
			same[i] = append(same[i], k)
		}
	}
	return recs, same, errs
}

// sendRecords writes the records of ds, size to a request, and gives each
// delivery the outcome of its record.
func sendRecords(ctx context.Context, sp Spec, ds []store.Delivery, size int, upsert func(context.Context, []record) []error) []error {
	recs, same, errs := crmRecords(sp, ds)
	recErrs := make([]error, len(recs))
	for start := 0; start < len(recs); start += size {
		copy(recErrs[start:], upsert(ctx, recs[start:min(start+size, len(recs))]))
	}
	for i, ks := range same {
		for _, k := range ks {
			if errs[i] == nil {
				errs[i] = recErrs[k] // the first record that failed fails the delivery
			}
		}
	}
	return errs
}

// all is one error for every record.
func all(n int, err error) []error {
	out := make([]error, n)
	for i := range out {
		out[i] = err
	}
	return out
}

// hubspot writes properties onto HubSpot records through the CRM v3 batch
// upsert API, up to 100 records a request, found by a unique property.
type hubspot struct {
	spec   Spec
	token  string
	client *http.Client
	ua     string
	pace   *pacer
}

// hubspotBatch is the most records one batch upsert takes.
const hubspotBatch = 100

type hubspotInput struct {
	ID         string         `json:"id"`
	IDProperty string         `json:"idProperty"`
	Properties map[string]any `json:"properties"`
}

// hubspotAnswer is what a batch answers: results, and with status 207 the
// records that failed.
type hubspotAnswer struct {
	Status  string `json:"status"`
	Results []struct {
		ID string `json:"id"`
	} `json:"results"`
	Errors []struct {
		Category string              `json:"category"`
		Message  string              `json:"message"`
		Context  map[string][]string `json:"context"`
	} `json:"errors"`
}

func (h *hubspot) Send(ctx context.Context, ds []store.Delivery) []error {
	return sendRecords(ctx, h.spec, ds, hubspotBatch, h.upsert)
}

func (h *hubspot) upsert(ctx context.Context, recs []record) []error {
	inputs := make([]hubspotInput, len(recs))
	for i, r := range recs {
		props := map[string]any{}
		for k, v := range r.props {
			props[k] = hubspotValue(v)
		}
		inputs[i] = hubspotInput{ID: r.id, IDProperty: h.spec.IDProperty, Properties: props}
	}
	body, err := json.Marshal(map[string]any{"inputs": inputs})
	if err != nil {
		return all(len(recs), &SendError{Permanent: true, Err: err})
	}
	if err := h.pace.wait(ctx); err != nil {
		return all(len(recs), &SendError{Err: err})
	}
	u := strings.TrimSuffix(h.spec.URL, "/") + "/crm/v3/objects/" + url.PathEscape(h.spec.Object) + "/batch/upsert"
	var ans hubspotAnswer
	err = post(ctx, h.client, http.MethodPost, u, bearer(h.token, h.ua), body, func(b []byte) error {
		if err := json.Unmarshal(b, &ans); err != nil {
			return &SendError{Err: fmt.Errorf("reading the answer from HubSpot: %w", err)}
		}
		return nil
	})
	if err != nil {
		return all(len(recs), err)
	}
	// A record HubSpot names in an error failed; the others were written.
	out := make([]error, len(recs))
	for _, e := range ans.Errors {
		for _, id := range e.Context["ids"] {
			for i, r := range recs {
				if r.id == id {
					out[i] = &SendError{Permanent: true, Err: fmt.Errorf("refused by HubSpot (%s): %s", e.Category, e.Message)}
				}
			}
		}
	}
	return out
}

// hubspotValue is a property value as HubSpot takes it: text; an empty
// string clears the property.
func hubspotValue(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case float64:
		return fmt.Sprint(x)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func bearer(token, ua string) http.Header {
	h := http.Header{}
	h.Set("Authorization", "Bearer "+token)
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", ua)
	return h
}

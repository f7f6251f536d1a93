package route

import (
	"context"
	"fmt"
	"net/http"

	"github.com/beaconplg/beacon/internal/alert"
	"github.com/beaconplg/beacon/internal/store"
)

// record is one CRM record to write: the value that finds it, and the
// properties to set on it.
type record struct {
	id    string
	props map[string]any
	// domain is the account's, for CRMs that can find a company by it.
	domain string
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
		who := []*alert.Person{nil}
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
				domain, _ := data.fieldFor("domain", p).(string)
				recs, newest = append(recs, record{id: key, domain: domain}), append(newest, 0)
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

func bearer(token, ua string) http.Header {
	h := http.Header{}
	h.Set("Authorization", "Bearer "+token)
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", ua)
	return h
}

package route

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/beaconplg/beacon/internal/projection"
	"github.com/beaconplg/beacon/internal/store"
)

// OutreachStore is what finding outreach needs from storage.
type OutreachStore interface {
	AwaitingOutreach(ctx context.Context, since, checkedBefore time.Time, limit int) ([]store.Alert, error)
	RecordOutreach(ctx context.Context, id int64, at time.Time, via string, checked time.Time) error
}

// activities is a CRM that records sales activity on accounts.
type activities interface {
	// firstActivity is the time of the first activity the CRM recorded
	// with the alert's account at or after after; zero if none.
	firstActivity(ctx context.Context, a AlertData, after time.Time) (time.Time, error)
}

// Outreach looks in the CRMs, through the destinations' connections, for
// the first sales activity after each alert that needs a person (HubSpot
// calls, emails and meetings of the company; Salesforce Tasks and Events
// of the account), and records it with the alert: seed 004's response
// time is alert → outreach, which acknowledging in Beacon only stands for.
type Outreach struct {
	db      OutreachStore
	sources []outreachSource
	clock   func() time.Time
	log     *slog.Logger
	loop    *projection.Loop
}

type outreachSource struct {
	name string
	crm  activities
}

const (
	// outreachWindow is how long after an alert its outreach is looked
	// for: past it, the alert stays red.
	outreachWindow = 14 * 24 * time.Hour
	// outreachEvery is how often an alert still waiting is looked for.
	outreachEvery = 5 * time.Minute
	outreachBatch = 200
)

// NewOutreach returns the finder over the CRM destinations among specs
// that write accounts (HubSpot companies, Salesforce Accounts); nil if
// there is none.
func NewOutreach(specs []Spec, db OutreachStore, deps Deps) (*Outreach, error) {
	deps = deps.withDefaults()
	o := &Outreach{db: db, clock: deps.Clock, log: deps.Log, loop: projection.New(outreachEvery, 0)}
	for _, sp := range specs {
		accounts := (sp.Type == HubSpot && sp.Object == "companies") || (sp.Type == Salesforce && sp.Object == "Account")
		if !accounts || sp.Per == PerPerson {
			continue
		}
		s, err := newSender(sp, deps, newPacer(sp.RateLimit))
		if err != nil {
			return nil, fmt.Errorf("destination %s: %w", sp.Name, err)
		}
		o.sources = append(o.sources, outreachSource{name: sp.Name, crm: s.(activities)})
	}
	if len(o.sources) == 0 {
		return nil, nil
	}
	return o, nil
}

// Run looks for outreach every few minutes until ctx ends.
func (o *Outreach) Run(ctx context.Context) {
	o.loop.Run(ctx, o.Pass, func(err error) { o.log.Warn("looking for outreach in the CRMs failed; retrying", "err", err) })
}

// Pass looks once for the outreach of the alerts waiting for it, and says
// how many it found.
func (o *Outreach) Pass(ctx context.Context) (int, error) {
	now := o.clock()
	alerts, err := o.db.AwaitingOutreach(ctx, now.Add(-outreachWindow), now.Add(-outreachEvery), outreachBatch)
	if err != nil {
		return 0, err
	}
	found := 0
	for _, al := range alerts {
		data, err := alertData(store.Delivery{AlertID: al.ID, Alert: &al})
		if err != nil {
			return found, err
		}
		var first time.Time
		var via string
		for _, src := range o.sources {
			at, err := src.crm.firstActivity(ctx, data, al.CreatedAt)
			if err != nil {
				return found, fmt.Errorf("%s: %w", src.name, err)
			}
			if !at.IsZero() && (first.IsZero() || at.Before(first)) {
				first, via = at, src.name
			}
		}
		if !first.IsZero() {
			found++
		}
		if err := o.db.RecordOutreach(ctx, al.ID, first, via, now); err != nil {
			return found, err
		}
	}
	return found, nil
}

// hubspotActivities are the engagement objects that count as outreach.
var hubspotActivities = []string{"calls", "emails", "meetings"}

// firstActivity searches the company's calls, emails and meetings by their
// association and hs_timestamp, earliest first (CRM search API:
// associations.company, sorts).
func (h *hubspot) firstActivity(ctx context.Context, a AlertData, after time.Time) (time.Time, error) {
	key, _ := a.fieldFor(h.spec.idField(), nil).(string)
	domain, _ := a.fieldFor("domain", nil).(string)
	ids, err := h.find(ctx, []record{{id: key, domain: domain}}, []error{nil})
	if err != nil || ids[0] == "" {
		return time.Time{}, err
	}
	var first time.Time
	for _, obj := range hubspotActivities {
		body, _ := json.Marshal(map[string]any{
			"filterGroups": []any{map[string]any{"filters": []any{
				map[string]any{"propertyName": "associations.company", "operator": "EQ", "value": ids[0]},
				map[string]any{"propertyName": "hs_timestamp", "operator": "GTE", "value": strconv.FormatInt(after.UnixMilli(), 10)}}}},
			"sorts": []any{map[string]string{"propertyName": "hs_timestamp", "direction": "ASCENDING"}}, "properties": []string{"hs_timestamp"},
			"limit": 1})
		var ans struct {
			Results []struct {
				Properties map[string]string `json:"properties"`
			} `json:"results"`
		}
		err := h.searchCall(ctx, "/crm/v3/objects/"+obj+"/search", body, func(b []byte) error { return json.Unmarshal(b, &ans) })
		if err != nil {
			return time.Time{}, fmt.Errorf("searching HubSpot %s: %w", obj, err)
		}
		if len(ans.Results) == 0 {
			continue
		}
		at, err := time.Parse(time.RFC3339Nano, ans.Results[0].Properties["hs_timestamp"])
		if err == nil && (first.IsZero() || at.Before(first)) {
			first = at
		}
	}
	return first, nil
}

// firstActivity queries the account's Tasks and Events (calls logged,
// emails, meetings) created at or after after, earliest first.
func (s *salesforce) firstActivity(ctx context.Context, a AlertData, after time.Time) (time.Time, error) {
	key := fmt.Sprint(a.fieldFor(s.spec.idField(), nil))
	ids, err := s.find(ctx, []record{{id: key}}, []error{nil})
	if err != nil || ids[key] == "" {
		return time.Time{}, err
	}
	var first time.Time
	for _, obj := range []string{"Task", "Event"} {
		q := "SELECT CreatedDate FROM " + obj + " WHERE AccountId = '" + soqlEscape(ids[key]) + "' AND CreatedDate >= " +
			after.UTC().Format("2006-01-02T15:04:05Z") + " ORDER BY CreatedDate ASC LIMIT 1"
		var page struct {
			Records []struct {
				CreatedDate string `json:"CreatedDate"`
			} `json:"records"`
		}
		if err := s.call(ctx, http.MethodGet, "/query?q="+url.QueryEscape(q), nil, func(b []byte) error { return json.Unmarshal(b, &page) }); err != nil {
			return time.Time{}, fmt.Errorf("querying Salesforce %ss: %w", obj, err)
		}
		if len(page.Records) == 0 {
			continue
		}
		// Salesforce writes datetimes as 2026-11-23T09:30:00.000+0000.
		at, err := time.Parse("2006-01-02T15:04:05.000-0700", page.Records[0].CreatedDate)
		if err == nil && (first.IsZero() || at.Before(first)) {
			first = at
		}
	}
	return first, nil
}

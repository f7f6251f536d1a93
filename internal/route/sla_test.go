package route_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/beaconplg/beacon/internal/route"
	"github.com/beaconplg/beacon/internal/store"
)

// Seed 004's bands: < 1 hour good, 1-24 hours warning, > 24 hours red flag;
// p50 and p90 over acknowledged alerts; open ones past a day are red.
func TestSLA(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		band string
	}{{0, "good"}, {59 * time.Minute, "good"}, {time.Hour, "warning"}, {24 * time.Hour, "warning"}, {25 * time.Hour, "red"}} {
		if got := route.Band(tc.d); got != tc.band {
			t.Errorf("%v: %s, want %s", tc.d, got, tc.band)
		}
	}
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	var times []store.AlertTime
	for i, took := range []time.Duration{5, 10, 20, 30, 40, 50, 55, 90, 120, 30 * 60} { // minutes
		c := now.Add(-72 * time.Hour).Add(time.Duration(i) * time.Minute)
		times = append(times, store.AlertTime{Created: c, Acked: c.Add(took * time.Minute)})
	}
	times = append(times, store.AlertTime{Created: now.Add(-30 * time.Hour)}, store.AlertTime{Created: now.Add(-time.Hour)})
	r := route.Measure(times, now.Add(-7*24*time.Hour), now)
	want := route.SLA{Alerts: 12, Acked: 10, Times: route.Times{Open: 2, P50Band: "good", P90Band: "warning"}}
	if r.Alerts != want.Alerts || r.Acked != want.Acked || r.Open != want.Open || r.P50 == nil || *r.P50 != 40*60 ||
		r.P90 == nil || *r.P90 != 120*60 || r.P50Band != want.P50Band || r.P90Band != want.P90Band {
		t.Fatalf("got %+v\nwant %+v with p50 40 min, p90 2 h", r, want)
	}
	if r.Bands["good"] != 7 || r.Bands["warning"] != 2 || r.Bands["red"] != 2 {
		t.Fatalf("bands %v", r.Bands)
	}
	// Nothing acknowledged is no response time, not one of zero: null.
	empty := route.Measure(times[10:], now.Add(-7*24*time.Hour), now)
	if empty.Acked != 0 || empty.P50Band != "" || empty.P50 != nil || empty.P90 != nil {
		t.Fatalf("none acknowledged: %+v", empty)
	}
	b, err := json.Marshal(empty)
	if err != nil || !strings.Contains(string(b), `"p50_seconds":null`) || !strings.Contains(string(b), `"p90_seconds":null`) {
		t.Fatalf("none acknowledged, as JSON: %s (%v)", b, err)
	}
}

// Outreach is measured as acknowledgement is, from the CRM's first
// activity after the alert, in all and by owner and segment, beside it.
func TestOutreachSLA(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	c := now.Add(-48 * time.Hour)
	times := []store.AlertTime{
		{Created: c, Acked: c.Add(10 * time.Minute), Outreach: c.Add(30 * time.Minute), Owner: "ana@s.example", Segment: "smb"},
		{Created: c, Acked: c.Add(20 * time.Minute), Outreach: c.Add(3 * time.Hour), Owner: "ana@s.example", Segment: "mid_market"},
		{Created: c, Acked: c.Add(5 * time.Minute), Owner: "bo@s.example", Segment: "mid_market"}, // no outreach: red by now
	}
	r := route.Measure(times, now.Add(-7*24*time.Hour), now)
	if r.Outreach.Done != 2 || r.Outreach.Open != 1 || *r.Outreach.P50 != 30*60 || *r.Outreach.P90 != 3*3600 ||
		r.Outreach.Bands["good"] != 1 || r.Outreach.Bands["warning"] != 1 || r.Outreach.Bands["red"] != 1 {
		t.Fatalf("outreach %+v", r.Outreach)
	}
	ana, bo := r.ByOwner["ana@s.example"], r.ByOwner["bo@s.example"]
	if ana.Alerts != 2 || ana.Outreach.Done != 2 || *ana.Ack.P90 != 20*60 || bo.Outreach.Done != 0 || bo.Outreach.P50 != nil ||
		r.BySegment["mid_market"].Alerts != 2 || *r.BySegment["smb"].Outreach.P50 != 30*60 {
		t.Fatalf("by owner %+v, by segment %+v", r.ByOwner, r.BySegment)
	}
}

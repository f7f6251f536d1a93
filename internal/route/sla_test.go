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
	want := route.SLA{Alerts: 12, Acked: 10, Open: 2, P50Band: "good", P90Band: "warning"}
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

package cli

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/beaconplg/beacon/internal/api"
	"github.com/beaconplg/beacon/internal/route"
)

// Open alerts can be listed and acknowledged once; the SLA report counts the
// acknowledgement in seed 004's bands; bad requests name what is wrong.
func TestAlertsAPI(t *testing.T) {
	base, db, secrets := runDemo(t)
	tierEdge(t, db) // scored, alerts raised
	do := func(method, path, body string, v any) int {
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+secrets.adminToken)
		return call(t, req, v)
	}
	var open api.AlertList
	if code := do(http.MethodGet, "/api/v1/alerts?open=true&limit=5", "", &open); code != http.StatusOK || open.Total == 0 {
		t.Fatalf("open alerts: %d %+v", code, open)
	}
	first := open.Alerts[0]
	if !first.NeedsAck || first.AckedAt != nil || first.Zone == "self_serve" || len(first.Actions) == 0 {
		t.Fatalf("an open alert: %+v", first)
	}
	var acked api.AlertView
	path := "/api/v1/alerts/" + itoa(first.ID) + "/ack"
	asked := time.Now().Add(-time.Millisecond) // the store keeps milliseconds
	if code := do(http.MethodPost, path, `{"by":"ana@seller.example"}`, &acked); code != http.StatusOK ||
		acked.AckedBy != "ana@seller.example" || acked.AckedAt == nil || acked.AckedAt.Before(asked) || acked.AckedAt.After(time.Now()) {
		t.Fatalf("ack: %d %+v", code, acked)
	}
	var again api.AlertView
	if do(http.MethodPost, path, "", &again); again.AckedBy != "ana@seller.example" {
		t.Fatalf("a second ack replaced the first: %+v", again)
	}
	var after api.AlertList
	do(http.MethodGet, "/api/v1/alerts?open=true&limit=500", "", &after)
	if after.Total != open.Total-1 {
		t.Fatalf("open alerts %d after one ack, before %d", after.Total, open.Total)
	}
	var sla route.SLA
	if code := do(http.MethodGet, "/api/v1/alerts/sla?days=7", "", &sla); code != http.StatusOK || sla.Acked != 1 ||
		sla.Bands["good"] != 1 || sla.P50Band != "good" || sla.Open != open.Total-1 {
		t.Fatalf("sla: %d %+v", code, sla)
	}
	for _, tc := range []struct {
		method, path, body string
		code               int
		field              string
	}{
		{http.MethodPost, "/api/v1/alerts/abc/ack", "", http.StatusBadRequest, "id"},
		{http.MethodPost, "/api/v1/alerts/999999/ack", "", http.StatusNotFound, ""},
		{http.MethodPost, path, "{not json", http.StatusBadRequest, "body"},
		{http.MethodPost, path, `{"by":"` + strings.Repeat("x", 5000) + `"}`, http.StatusRequestEntityTooLarge, ""},
		{http.MethodGet, "/api/v1/alerts?open=maybe", "", http.StatusBadRequest, "open"},
		{http.MethodGet, "/api/v1/alerts/sla?days=0", "", http.StatusBadRequest, "days"},
	} {
		var body struct{ Error api.Problem }
		if code := do(tc.method, tc.path, tc.body, &body); code != tc.code || body.Error.Field != tc.field {
			t.Errorf("%s %s: %d %+v, want %d naming %q", tc.method, tc.path, code, body.Error, tc.code, tc.field)
		}
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

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

// Notes and holds through the API: a hold takes the account out of its
// queue, with its note, until it is released; bad requests name the field.
func TestNotesAndHoldsAPI(t *testing.T) {
	base, db, secrets := runDemo(t)
	acc, _ := tierEdge(t, db)
	do := func(method, path, body string, v any) int {
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+secrets.adminToken)
		return call(t, req, v)
	}
	inQueue := func() bool {
		var q api.QueueView
		if code := do(http.MethodGet, "/api/v1/accounts?limit=500&q="+acc, "", &q); code != http.StatusOK {
			t.Fatalf("queue: %d", code)
		}
		for _, it := range q.Accounts {
			if it.ID == acc {
				return true
			}
		}
		return false
	}
	if !inQueue() {
		t.Fatalf("%s is not in the queue", acc)
	}
	until := time.Now().AddDate(0, 0, 14).Format(time.DateOnly)
	var h api.HoldView
	if code := do(http.MethodPost, "/api/v1/accounts/"+acc+"/hold",
		`{"scorecard":"pql","kind":"snooze","until":"`+until+`","reason":"Budget in January","by":"ana@seller.example"}`, &h); code != http.StatusOK ||
		h.Kind != "snooze" || h.Until == nil || h.By != "ana@seller.example" {
		t.Fatalf("hold: %d %+v", code, h)
	}
	if inQueue() {
		t.Fatal("a snoozed account is still in the queue")
	}
	var n api.NoteView
	if code := do(http.MethodPost, "/api/v1/accounts/"+acc+"/notes", `{"body":"Left a voicemail","author":"bo@seller.example"}`, &n); code != http.StatusOK ||
		n.ID == 0 || n.Author != "bo@seller.example" {
		t.Fatalf("note: %d %+v", code, n)
	}
	var notes struct{ Notes []api.NoteView }
	if code := do(http.MethodGet, "/api/v1/accounts/"+acc+"/notes", "", &notes); code != http.StatusOK || len(notes.Notes) != 2 ||
		notes.Notes[0].Body != "Left a voicemail" || !strings.Contains(notes.Notes[1].Body, "Budget in January") {
		t.Fatalf("notes: %d %+v", code, notes)
	}
	if code := do(http.MethodDelete, "/api/v1/accounts/"+acc+"/hold?scorecard=pql", "", nil); code != http.StatusOK || !inQueue() {
		t.Fatalf("release: %d, back in the queue: %v", code, inQueue())
	}
	if code := do(http.MethodDelete, "/api/v1/accounts/"+acc+"/hold?scorecard=pql", "", nil); code != http.StatusNotFound {
		t.Fatalf("releasing twice: %d", code)
	}
	for _, tc := range []struct{ path, body, field string }{
		{"/hold", `{"scorecard":"pql","kind":"snooze","until":"2020-01-01","reason":"x"}`, "until"},
		{"/hold", `{"scorecard":"pql","kind":"nap","reason":"x"}`, "kind"},
		{"/hold", `{"scorecard":"champion","kind":"disqualify","reason":"x"}`, "scorecard"},
		{"/hold", `{"scorecard":"pql","kind":"disqualify","reason":""}`, "reason"},
		{"/hold", `[1]`, "body"},
		{"/notes", `{"body":""}`, "body"},
	} {
		var body struct{ Error api.Problem }
		if code := do(http.MethodPost, "/api/v1/accounts/"+acc+tc.path, tc.body, &body); code != http.StatusBadRequest || body.Error.Field != tc.field {
			t.Errorf("%s %s: %d %+v, want 400 naming %s", tc.path, tc.body, code, body.Error, tc.field)
		}
	}
	if code := do(http.MethodPost, "/api/v1/accounts/nope/notes", `{"body":"x"}`, nil); code != http.StatusNotFound {
		t.Fatalf("a note on no account: %d", code)
	}
}

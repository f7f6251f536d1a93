package cli

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/beaconplg/beacon/internal/api"
	"github.com/beaconplg/beacon/internal/store"
	"github.com/beaconplg/beacon/internal/store/storetest"
)

// A served event the store refuses is quarantined by the projection, which
// goes on: the event after it is projected, the metric
// counts it, the API lists it and shows it on its account, and the server
// stays ready.
func TestServedPoisonIsQuarantined(t *testing.T) {
	for _, eng := range storetest.Engines(t) {
		t.Run(eng.Name, func(t *testing.T) {
			dsn := eng.DSN(t)
			srv := startServer(t, storetest.OpenDSN(t, dsn))
			storetest.Refuse(t, dsn, "users", "id", "poison")
			postBatch(t, srv.url, srv.writeKey, `{"batch":[
				{"type":"group","userId":"poison","groupId":"acme","traits":{"name":"Acme"}},
				{"type":"identify","userId":"canary","traits":{"email":"c@canary.example"}}]}`)
			projected(t, srv.syncIdentity, srv.db, "canary") // the event after the poison
			var list struct{ Quarantine []api.QuarantineView }
			if code := srv.get(t, "/api/v1/quarantine", srv.adminToken, &list); code != 200 || len(list.Quarantine) != 1 ||
				list.Quarantine[0].UserID != "poison" || list.Quarantine[0].AccountID != "acme" {
				t.Fatalf("GET /api/v1/quarantine: %d %+v", code, list)
			}
			if code := srv.get(t, "/api/v1/quarantine?stage=nope", srv.adminToken, nil); code != 400 {
				t.Fatalf("a bad stage: %d", code)
			}
			resp, err := http.Get(srv.url + "/metrics")
			if err != nil {
				t.Fatal(err)
			}
			metrics, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if !strings.Contains(string(metrics), `beacon_quarantined_total{stage="identity"} 1`) {
				t.Fatalf("metrics lack the quarantined event:\n%s", grepLines(string(metrics), "quarantined"))
			}
			if code := srv.get(t, "/readyz", "", nil); code != 200 {
				t.Fatalf("/readyz: %d: a quarantined event is not a failing stage", code)
			}
		})
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// projected runs sync, what the served projection loop runs, until the
// user is stored: PostgreSQL may hold the stream back while other tests
// write, so one pass may not take every event yet.
func projected(t *testing.T, sync func() error, db *store.DB, user string) {
	t.Helper()
	for deadline := time.Now().Add(storetest.HangGuard); ; time.Sleep(10 * time.Millisecond) {
		if err := sync(); err != nil {
			t.Fatal(err)
		}
		if _, err := db.User(context.Background(), user); err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s was never projected", user)
		}
	}
}

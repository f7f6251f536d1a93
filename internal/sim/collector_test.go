package sim_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"testing"

	"github.com/beaconplg/beacon/internal/api"
	"github.com/beaconplg/beacon/internal/collect"
	"github.com/beaconplg/beacon/internal/httpjson"
	"github.com/beaconplg/beacon/internal/identity"
	"github.com/beaconplg/beacon/internal/importer"
	"github.com/beaconplg/beacon/internal/keys"
	"github.com/beaconplg/beacon/internal/metrics"
	"github.com/beaconplg/beacon/internal/sim"
	"github.com/beaconplg/beacon/internal/store"
	"github.com/beaconplg/beacon/internal/store/storetest"
)

// Loading a world through the collector, as SDKs would send it, and through
// beacon import gives the same store.
func TestCollectorAndImportAgree(t *testing.T) {
	p := sim.DefaultParams()
	p.Accounts, p.Days = 80, 40
	dir := t.TempDir()
	if _, err := p.Simulate(dir); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))

	imported := storetest.SQLite(t)
	f, _ := os.Open(filepath.Join(dir, sim.EventsFile))
	defer f.Close()
	r, err := importer.MaybeGunzip(f)
	if err != nil {
		t.Fatal(err)
	}
	if sum, err := importer.JSONLines(ctx, r, imported); err != nil || sum.Rejected != 0 {
		t.Fatalf("import: %+v %v", sum, err)
	}

	collected := storetest.SQLite(t)
	key, err := keys.Create(ctx, collected, store.WriteKey, "sdk")
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	collect.New(collect.Deps{Errors: httpjson.NewErrors(log, api.Statuses()...), Ingester: collected, Keys: keys.NewChecker(collected), Metrics: metrics.New(), Log: log}).Register(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	f2, _ := os.Open(filepath.Join(dir, sim.EventsFile))
	defer f2.Close()
	r2, _ := importer.MaybeGunzip(f2)
	sc := bufio.NewScanner(r2)
	sc.Buffer(nil, 1<<20)
	var batch [][]byte
	send := func() {
		if len(batch) == 0 {
			return
		}
		body := append([]byte(`{"batch":[`), bytes.Join(batch, []byte(","))...)
		body = append(body, "]}"...)
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/batch", bytes.NewReader(body))
		req.SetBasicAuth(key, "")
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("post: %v %v", err, resp)
		}
		resp.Body.Close()
		batch = batch[:0]
	}
	for sc.Scan() {
		batch = append(batch, bytes.Clone(sc.Bytes()))
		if len(batch) == 100 {
			send()
		}
	}
	send()

	crm, _ := os.ReadFile(filepath.Join(dir, sim.CRMFile))
	for _, db := range []*store.DB{imported, collected} {
		rows, _, err := importer.Accounts(bytes.NewReader(crm))
		if err != nil {
			t.Fatal(err)
		}
		ids := identity.New(db, log, nil)
		if err := ids.ImportCRM(ctx, rows); err != nil {
			t.Fatal(err)
		}
		if _, err := ids.Sync(ctx); err != nil {
			t.Fatal(err)
		}
	}
	a, b := snapshot(t, imported), snapshot(t, collected)
	if len(a) < 1000 {
		t.Fatalf("only %d facts", len(a))
	}
	if !reflect.DeepEqual(a, b) {
		for i := range min(len(a), len(b)) {
			if a[i] != b[i] {
				t.Fatalf("stores differ first at:\n import:    %s\n collector: %s", a[i], b[i])
			}
		}
		t.Fatalf("stores differ: %d and %d facts", len(a), len(b))
	}
}

// snapshot lists a store's content as comparable lines: every event (but the
// time Beacon received it), user, membership and account.
func snapshot(t *testing.T, db *store.DB) []string {
	t.Helper()
	ctx := context.Background()
	var out []string
	c := store.Cursor{}
	var users []string
	seenUser := map[string]bool{}
	for {
		evs, next, err := db.EventsAfter(ctx, c, 5000)
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) == 0 {
			break
		}
		for _, e := range evs {
			out = append(out, fmt.Sprintf("event %s %s %s %s %s %s %s %s", e.MessageID, e.Type, e.Name, e.UserID,
				e.AnonymousID, e.GroupID, e.Timestamp, e.Body))
			if e.UserID != "" && !seenUser[e.UserID] {
				seenUser[e.UserID] = true
				users = append(users, e.UserID)
			}
		}
		c = next
	}
	accounts := map[string]bool{}
	for _, id := range users {
		u, err := db.User(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("user %s %s %s %v %v %v", u.ID, u.Email, u.Company, u.Traits, u.FirstSeen, u.LastSeen))
		ms, err := db.UserAccounts(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range ms {
			out = append(out, fmt.Sprintf("member %s %s %s %v", m.UserID, m.AccountID, m.Method, m.Confidence))
			accounts[m.AccountID] = true
		}
	}
	for id := range accounts {
		a, err := db.Account(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("account %s %s %s %v %v %d %s %s %s", a.ID, a.Kind, a.Name, a.Domains, a.Traits,
			a.Employees, a.Industry, a.CRMID, a.CRMMethod))
	}
	sort.Strings(out)
	return out
}

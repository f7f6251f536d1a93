package cli

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/beaconplg/beacon/internal/api"
	"github.com/beaconplg/beacon/internal/keys"
	"github.com/beaconplg/beacon/internal/store"
	"github.com/beaconplg/beacon/internal/store/storetest"
)

// keys list, rotate and revoke: a rotated key works through its grace
// beside the new one; a revoked one stops at once; both show in the list.
func TestKeysLifecycle(t *testing.T) {
	db := filepath.Join(t.TempDir(), "b.db")
	old, err := beacon(t, "keys", "create", "--name", "web", "--db", db)
	if err != nil {
		t.Fatal(err)
	}
	old = strings.TrimSpace(old)
	admin, err := beacon(t, "keys", "create", "--admin", "--name", "ops", "--db", db)
	if err != nil {
		t.Fatal(err)
	}
	fresh, err := beacon(t, "keys", "rotate", old[:9], "--grace", "1h", "--db", db)
	if err != nil {
		t.Fatal(err)
	}
	fresh = strings.TrimSpace(fresh)
	if !strings.HasPrefix(fresh, "bk_w_") || fresh == old {
		t.Fatalf("rotate printed %q", fresh)
	}
	if _, err := beacon(t, "keys", "revoke", strings.TrimSpace(admin)[:9], "--db", db); err != nil {
		t.Fatal(err)
	}
	out, err := beacon(t, "keys", "list", "--db", db)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"ID  KIND", "web", "rotated, works until", "ops", "revoked", "active"} {
		if !strings.Contains(out, want) {
			t.Errorf("list lacks %q:\n%s", want, out)
		}
	}
	st, err := store.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	check := keys.NewChecker(st)
	defer check.Wait()
	for _, tc := range []struct {
		secret, kind string
		ok           bool
	}{
		{old, store.WriteKey, true}, // in its grace
		{fresh, store.WriteKey, true},
		{strings.TrimSpace(admin), store.AdminKey, false},
	} {
		if err := check.Check(context.Background(), tc.secret, tc.kind); (err == nil) != tc.ok {
			t.Errorf("%s…: %v, want ok %v", tc.secret[:9], err, tc.ok)
		}
	}
	check.Wait()
	ks, err := st.Keys(context.Background())
	if err != nil || len(ks) != 3 {
		t.Fatalf("keys after use: %+v (%v)", ks, err)
	}
	if ks[0].LastUsedAt.IsZero() || ks[2].LastUsedAt.IsZero() || !ks[1].LastUsedAt.IsZero() {
		t.Fatalf("last used: the web key %v, the new one %v, the revoked admin token %v", ks[0].LastUsedAt,
			ks[2].LastUsedAt, ks[1].LastUsedAt)
	}
	for _, args := range [][]string{{"keys", "revoke", "bk_w_nope"}, {"keys", "rotate", strings.TrimSpace(admin)[:9]}} {
		if _, err := beacon(t, append(args, "--db", db)...); err == nil {
			t.Errorf("%v: no error", args)
		}
	}
	if _, err := keys.Find(context.Background(), st, "99"); !errors.Is(err, keys.ErrNoKey) {
		t.Fatalf("find an unknown id: %v", err)
	}
	log, err := st.AuditLog(context.Background(), 0, 50)
	if err != nil {
		t.Fatal(err)
	}
	actions := map[string]int{}
	for _, e := range log {
		if strings.HasPrefix(e.Actor, "cli") {
			actions[e.Action]++
		}
	}
	if actions["key created"] != 2 || actions["key rotated"] != 1 || actions["key revoked"] != 1 {
		t.Fatalf("audit log of the commands: %v", actions)
	}
}

// The admin API lists, creates, rotates and revokes keys: a created key's
// secret is answered once; a revoked write key is refused by the collector.
func TestKeysAPI(t *testing.T) {
	base, _, secrets := runDemo(t)
	do := func(method, path, body string, v any) int {
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+secrets.adminToken)
		return call(t, req, v)
	}
	var made api.KeyView
	if code := do(http.MethodPost, "/api/v1/keys", `{"kind":"write","name":"mobile"}`, &made); code != http.StatusOK ||
		!strings.HasPrefix(made.Secret, "bk_w_") || made.Name != "mobile" || !made.Active {
		t.Fatalf("create: %d %+v", code, made)
	}
	track := func(key string) int {
		req, _ := http.NewRequest(http.MethodPost, base+"/v1/track", strings.NewReader(`{"userId":"k","event":"Key Checked"}`))
		req.SetBasicAuth(key, "")
		return call(t, req, nil)
	}
	if code := track(made.Secret); code != http.StatusOK {
		t.Fatalf("the new key: %d", code)
	}
	var rotated api.KeyView
	if code := do(http.MethodPost, fmt.Sprintf("/api/v1/keys/%d/rotate", made.ID), `{"grace":"0s"}`, &rotated); code != http.StatusOK ||
		rotated.Secret == "" || rotated.ID == made.ID {
		t.Fatalf("rotate: %d %+v", code, rotated)
	}
	// Its use is recorded beside the request: wait for it.
	for deadline := time.Now().Add(storetest.HangGuard); ; time.Sleep(10 * time.Millisecond) {
		var list struct{ Keys []api.KeyView }
		if code := do(http.MethodGet, "/api/v1/keys", "", &list); code != http.StatusOK {
			t.Fatalf("list: %d", code)
		}
		var old api.KeyView
		for _, k := range list.Keys {
			if k.Secret != "" {
				t.Fatalf("a listed key shows its secret: %+v", k)
			}
			if k.ID == made.ID {
				old = k
			}
		}
		if old.Active || old.RevokedAt == nil {
			t.Fatalf("the rotated key: %+v", old)
		}
		if old.LastUsed != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the key's use was never recorded")
		}
	}
	// The collector remembers a good key half a minute; a new process,
	// like a new node, asks the store.
	if code := track(rotated.Secret); code != http.StatusOK {
		t.Fatalf("the rotated-in key: %d", code)
	}
	var revoked api.KeyView
	if code := do(http.MethodPost, fmt.Sprintf("/api/v1/keys/%d/revoke", rotated.ID), "", &revoked); code != http.StatusOK || revoked.Active {
		t.Fatalf("revoke: %d %+v", code, revoked)
	}
	if code := track(rotated.Secret); code != http.StatusUnauthorized {
		t.Fatalf("a revoked key, at once: %d", code)
	}
	for _, tc := range []struct{ method, path, body string }{
		{http.MethodPost, "/api/v1/keys", `{"kind":"root"}`},
		{http.MethodPost, "/api/v1/keys/abc/revoke", ""},
		{http.MethodPost, fmt.Sprintf("/api/v1/keys/%d/rotate", made.ID), `{"grace":"forever"}`},
	} {
		if code := do(tc.method, tc.path, tc.body, nil); code != http.StatusBadRequest {
			t.Errorf("%s %s %s: %d, want 400", tc.method, tc.path, tc.body, code)
		}
	}
	if code := do(http.MethodPost, "/api/v1/keys/999999/revoke", "", nil); code != http.StatusNotFound {
		t.Fatalf("revoke no key: %d", code)
	}
	// Each change is in the audit log, by the token that made it, and no
	// secret is.
	var log struct{ Entries []api.AuditView }
	if code := do(http.MethodGet, "/api/v1/audit?limit=50", "", &log); code != http.StatusOK {
		t.Fatalf("GET /api/v1/audit: %d", code)
	}
	actions := map[string]int{}
	for _, e := range log.Entries {
		if e.Actor == "token "+secrets.adminToken[:9] {
			actions[e.Action]++
		}
		if line := fmt.Sprint(e); strings.Contains(line, made.Secret[5:]) || strings.Contains(line, rotated.Secret[5:]) {
			t.Fatalf("a secret in the audit log: %s", line)
		}
	}
	if actions["key created"] != 1 || actions["key rotated"] != 1 || actions["key revoked"] != 1 {
		t.Fatalf("audit log by the admin token: %v in %+v", actions, log.Entries)
	}
	if code := do(http.MethodGet, "/api/v1/audit?before=x", "", nil); code != http.StatusBadRequest {
		t.Fatalf("a bad before: %d", code)
	}
}

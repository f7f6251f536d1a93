package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/beaconplg/beacon/internal/api"
	"github.com/beaconplg/beacon/internal/config"
	"github.com/beaconplg/beacon/internal/score"
	"github.com/beaconplg/beacon/internal/store"
	"github.com/beaconplg/beacon/internal/store/storetest"
)

// runDemo serves a small demo world with the whole pipeline running.
func runDemo(t *testing.T) (base string, db *store.DB, secrets demoSecrets) {
	t.Helper()
	return serveDemo(t, newTestApp(), 300, t.TempDir())
}

func newTestApp() *app {
	a := &app{stdout: io.Discard, stderr: io.Discard, cfg: config.Default()}
	a.log = newLogger(a.cfg.Log, io.Discard)
	return a
}

// serveDemo copies a demo world of n accounts into dir and serves it with a.
func serveDemo(t *testing.T, a *app, n int, dir string) (base string, db *store.DB, secrets demoSecrets) {
	t.Helper()
	return serveWorld(t, a, demoWorlds, n, dir)
}

// serveWorld copies a world of n accounts from worlds into dir and serves
// it with a.
func serveWorld(t *testing.T, a *app, worlds *worldCache, n int, dir string) (base string, db *store.DB, secrets demoSecrets) {
	t.Helper()
	secrets = worlds.copyTo(t, n, dir)
	a.cfg.Addr, a.cfg.DB = "127.0.0.1:0", filepath.Join(dir, "beacon.db")
	db, err := a.openStore(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	addr := make(chan net.Addr, 1)
	done := make(chan error, 1)
	go func() { done <- a.run(ctx, db, func(ad net.Addr) { addr <- ad }) }()
	t.Cleanup(func() { cancel(); <-done; db.Close() })
	return "http://" + (<-addr).String(), db, secrets
}

// A page view sent through the collector moves a demo account to the next
// tier: committed, resolved, rolled up and rescored, with no other call.
// How fast is measured by beacon bench (docs/benchmarks.md), not here: the
// test waits for the move and logs how long it took.
func TestEventMovesTier(t *testing.T) {
	base, db, secrets := runDemo(t)
	acc, user := tierEdge(t, db)
	before := scoreOf(t, base, secrets.adminToken, acc)
	sent := viewPricing(t, base, secrets.writeKey, user)
	for {
		after := scoreOf(t, base, secrets.adminToken, acc)
		if after.Tier != before.Tier {
			if after.Score != before.Score+10 {
				t.Fatalf("score %g → %g, want +10 for the pricing page", before.Score, after.Score)
			}
			t.Logf("%s: %s (%g) → %s (%g) in %s", acc, before.Tier, before.Score, after.Tier, after.Score, time.Since(sent))
			return
		}
		if time.Since(sent) > storetest.HangGuard {
			t.Fatalf("%s still %s (%g) %s after the event", acc, after.Tier, after.Score, storetest.HangGuard)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// call sends req and decodes the answer into v; it returns the status.
func call(t *testing.T, req *http.Request, v any) int {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	_ = json.NewDecoder(resp.Body).Decode(v)
	return resp.StatusCode
}

// viewPricing sends a user's view of the pricing page through the collector
// and returns when it was sent.
func viewPricing(t *testing.T, base, writeKey, user string) time.Time {
	t.Helper()
	body := fmt.Sprintf(`{"userId":%q,"name":"Pricing","properties":{"path":"/pricing"}}`, user)
	req, _ := http.NewRequest(http.MethodPost, base+"/v1/page", bytes.NewBufferString(body))
	req.SetBasicAuth(writeKey, "")
	req.Header.Set("Content-Type", "application/json")
	sent := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("page: %v %v", resp, err)
	}
	resp.Body.Close()
	return sent
}

// tierEdge waits for the first scoring and returns an account ten points
// short of its next tier that has not viewed pricing, and one of its users.
func tierEdge(t *testing.T, db *store.DB) (account, user string) {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(storetest.HangGuard)
	for time.Now().Before(deadline) {
		ss, _, err := db.ListScores(ctx, store.ScoreQuery{Scorecard: "pql", Kind: score.OfAccount, Sort: "-score", Limit: 1 << 20})
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range ss {
			var reasons []score.Reason
			_ = json.Unmarshal(s.Reasons, &reasons)
			viewed := false
			for _, r := range reasons {
				viewed = viewed || r.Rule == "viewed_pricing"
			}
			edge := (s.Score >= 20 && s.Score < 30) || (s.Score >= 40 && s.Score < 50) || (s.Score >= 70 && s.Score < 80)
			_, id := store.SubjectID(s.Subject)
			if !viewed && edge {
				ms, err := db.AccountUsers(ctx, id)
				if err != nil || len(ms) == 0 {
					continue
				}
				return id, ms[0].UserID
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatal("no account at a tier's edge")
	return "", ""
}

func scoreOf(t *testing.T, base, token, account string) api.ScoreView {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, base+"/api/v1/accounts/"+account+"/score", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v api.SubjectScores
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("score of %s: %d %v", account, resp.StatusCode, err)
	}
	for _, s := range v.Scores {
		if s.Scorecard == "pql" {
			return s
		}
	}
	return api.ScoreView{Scorecard: "pql"}
}

// The PQL queue filters, sorts and pages, and names what is wrong in a bad
// request.
func TestQueueAPI(t *testing.T) {
	base, db, secrets := runDemo(t)
	tierEdge(t, db) // scored
	get := func(query string, v any) int {
		req, _ := http.NewRequest(http.MethodGet, base+"/api/v1/accounts"+query, nil)
		req.Header.Set("Authorization", "Bearer "+secrets.adminToken)
		return call(t, req, v)
	}
	var hot api.QueueView
	if code := get("?tier=hot&sort=-score&limit=5", &hot); code != http.StatusOK || hot.Total == 0 || len(hot.Accounts) != min(5, hot.Total) {
		t.Fatalf("%d %+v", code, hot)
	}
	for i, it := range hot.Accounts {
		if it.Tier != "hot" || it.Score < 80 || (i > 0 && it.Score > hot.Accounts[i-1].Score) || it.Name == "" ||
			len(it.Reasons) == 0 || it.Route == "" {
			t.Fatalf("item %d: %+v", i, it)
		}
	}
	var page2 api.QueueView
	get("?tier=hot&sort=-score&limit=5&offset=5", &page2)
	if hot.Total > 5 && (len(page2.Accounts) == 0 || page2.Accounts[0].ID == hot.Accounts[0].ID) {
		t.Fatalf("offset did not page: %+v", page2)
	}
	// Search and owner filter as in the web queue; each row names people.
	first := hot.Accounts[0]
	var found api.QueueView
	if code := get("?q="+url.QueryEscape(first.Name)+"&tier=hot", &found); code != http.StatusOK || found.Total == 0 ||
		found.Total >= hot.Total && hot.Total > 1 || found.Accounts[0].ID != first.ID {
		t.Fatalf("search for %q: %d %+v", first.Name, code, found)
	}
	var owned api.QueueView
	if owner := ownedHot(hot); owner != "" {
		if code := get("?owner="+url.QueryEscape(owner), &owned); code != http.StatusOK || owned.Total == 0 {
			t.Fatalf("owner %s: %d %+v", owner, code, owned)
		}
		for _, it := range owned.Accounts {
			if it.Owner != owner {
				t.Fatalf("owner filter %s gave %+v", owner, it)
			}
		}
	}
	if len(first.Activity) != 14 || first.LastActive == nil || (first.Champion == nil && len(first.ActivePeople) == 0) {
		t.Fatalf("a hot account's row names no one or no activity: %+v", first)
	}
	for _, tc := range []struct{ query, field string }{
		{"?tier=lukewarm", "tier"}, {"?sort=name", "sort"}, {"?limit=0", "limit"}, {"?limit=501", "limit"},
		{"?offset=-1", "offset"}, {"?scorecard=champion", "scorecard"}, {"?scorecard=nope", "scorecard"},
		{"?offset=abc", "offset"}, {"?mine=1", "mine"}, {"?colour=red", "colour"},
	} {
		var body struct{ Error api.Problem }
		if code := get(tc.query, &body); code != http.StatusBadRequest || body.Error.Field != tc.field {
			t.Errorf("%s: %d %+v, want 400 naming %s", tc.query, code, body.Error, tc.field)
		}
	}
	req, _ := http.NewRequest(http.MethodGet, base+"/api/v1/accounts", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("without a token: %v %v", resp, err)
	}
	resp.Body.Close()
}

// SIGHUP loads the edited rules and rescores everyone with them; rules that
// do not compile are refused and the ones in force stay.
func TestHangupReloadsRules(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "beacon.yaml")
	if _, err := beacon(t, "init", "--out", file); err != nil {
		t.Fatal(err)
	}
	a := newTestApp()
	logged := &logLines{}
	a.log = newLogger(a.cfg.Log, logged)
	a.loaded.file, a.loaded.explicit = file, true
	if err := a.cfg.LoadFile(file, true); err != nil {
		t.Fatal(err)
	}
	base, _, secrets := serveDemo(t, a, 150, dir)
	queue := func() api.QueueView {
		req, _ := http.NewRequest(http.MethodGet, base+"/api/v1/accounts?limit=500", nil)
		req.Header.Set("Authorization", "Bearer "+secrets.adminToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var v api.QueueView
		_ = json.NewDecoder(resp.Body).Decode(&v)
		return v
	}
	waitFor := func(what string, ok func(api.QueueView) bool) api.QueueView {
		deadline := time.Now().Add(storetest.HangGuard)
		for time.Now().Before(deadline) {
			if v := queue(); ok(v) {
				return v
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Fatalf("never: %s", what)
		return api.QueueView{}
	}
	before := waitFor("first scores", func(v api.QueueView) bool { return v.Total > 0 })

	src, _ := os.ReadFile(file)
	edited := strings.Replace(string(src), "points: 5\n", "points: 500\n", 1) // business email, now decisive
	_ = os.WriteFile(file, []byte(edited), 0o644)
	_ = syscall.Kill(os.Getpid(), syscall.SIGHUP)
	after := waitFor("rescored with the new rules", func(v api.QueueView) bool {
		return v.RulesVersion != before.RulesVersion && len(v.Accounts) > 0 && v.Accounts[0].Score >= 500
	})

	_ = os.WriteFile(file, []byte(strings.Replace(edited, "min: 80", "min: 10", 1)), 0o644) // tiers out of order
	_ = syscall.Kill(os.Getpid(), syscall.SIGHUP)
	logged.waitFor(t, "rules not reloaded")
	if v := queue(); v.RulesVersion != after.RulesVersion {
		t.Fatalf("broken rules replaced %s with %s", after.RulesVersion, v.RulesVersion)
	}
}

// logLines is a log's output that a test can wait on.
type logLines struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logLines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// waitFor waits until the log holds s.
func (l *logLines) waitFor(t *testing.T, s string) {
	t.Helper()
	for deadline := time.Now().Add(storetest.HangGuard); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		l.mu.Lock()
		found := strings.Contains(l.buf.String(), s)
		l.mu.Unlock()
		if found {
			return
		}
	}
	t.Fatalf("the log never said %q", s)
}

// ownedHot is the owner of one of the hot accounts, if any has one.
func ownedHot(hot api.QueueView) string {
	for _, it := range hot.Accounts {
		if it.Owner != "" {
			return it.Owner
		}
	}
	return ""
}

// On the demo world, the top of the Hot queue is not one tie: rows of equal
// score are ordered by momentum, then users active this week, then the
// newest in the tier, then the latest activity.
func TestHotQueueSeparates(t *testing.T) {
	base, db, secrets := runDemo(t)
	tierEdge(t, db) // scored
	req, _ := http.NewRequest(http.MethodGet, base+"/api/v1/accounts?tier=hot&limit=20", nil)
	req.Header.Set("Authorization", "Bearer "+secrets.adminToken)
	var hot api.QueueView
	if code := call(t, req, &hot); code != http.StatusOK || len(hot.Accounts) < 2 {
		t.Fatalf("hot queue: %d, %d rows", code, len(hot.Accounts))
	}
	key := func(it api.QueueItem) string {
		return fmt.Sprint(it.Score, it.Momentum, it.ActiveUsers, it.TierSince.UnixMilli(), it.LastActive.UnixMilli())
	}
	distinct := map[string]bool{}
	for i, it := range hot.Accounts {
		distinct[key(it)] = true
		if i == 0 {
			continue
		}
		prev := hot.Accounts[i-1]
		ordered := prev.Score > it.Score || prev.Score == it.Score && (prev.Momentum > it.Momentum ||
			prev.Momentum == it.Momentum && (prev.ActiveUsers > it.ActiveUsers || prev.ActiveUsers == it.ActiveUsers &&
				(prev.TierSince.After(it.TierSince) ||
					prev.TierSince.Equal(it.TierSince) && !prev.LastActive.Before(*it.LastActive))))
		if !ordered {
			t.Fatalf("row %d out of order:\n%+v\nafter\n%+v", i, it, prev)
		}
	}
	if len(distinct) < 2 {
		t.Fatalf("the top %d hot rows are all tied on score, momentum, time in tier and activity", len(hot.Accounts))
	}
	t.Logf("top %d hot rows: %d distinct on score, momentum, active users, time in tier and last activity", len(hot.Accounts), len(distinct))
}

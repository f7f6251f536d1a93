package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	analytics "github.com/segmentio/analytics-go/v3"
	"github.com/stripe/stripe-go/v82/webhook"

	"github.com/beaconplg/beacon/internal/billing"
	"github.com/beaconplg/beacon/internal/config"
	"github.com/beaconplg/beacon/internal/store"
	"github.com/beaconplg/beacon/internal/store/storetest"
)

// running is a whole Beacon server, wired as `beacon serve` wires it.
type running struct {
	url          string
	db           *store.DB
	writeKey     string
	adminToken   string
	stop         func()
	syncIdentity func() error
}

func startServer(t *testing.T, db *store.DB) *running {
	t.Helper()
	var out, errw bytes.Buffer
	a := &app{stdout: &out, stderr: &errw}
	a.cfg = config.Default()
	a.cfg.Addr = "127.0.0.1:0"
	a.log = newLogger(a.cfg.Log, io.Discard)
	w, err := a.server(db)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = w.s.Serve(ctx, ln) }()
	stop := func() { cancel(); <-done }
	t.Cleanup(stop)
	r := &running{url: "http://" + ln.Addr().String(), db: db, stop: stop,
		syncIdentity: func() error { _, err := w.identity.Sync(context.Background()); return err }}
	r.writeKey = createKey(t, db, false)
	r.adminToken = createKey(t, db, true)
	return r
}

func createKey(t *testing.T, db *store.DB, admin bool) string {
	t.Helper()
	var out bytes.Buffer
	a := &app{stdout: &out, stderr: io.Discard, cfg: config.Default()}
	a.log = newLogger(a.cfg.Log, io.Discard)
	cmd := a.keysCmd()
	args := []string{"create"}
	if admin {
		args = append(args, "--admin")
	}
	cmd.SetArgs(args)
	// keys create opens the configured store; point it at the test's.
	a.cfg.DB = dsnOf(t, db)
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(out.String())
}

// dsnOf recovers where a test store lives, for commands that open it anew.
func dsnOf(t *testing.T, db *store.DB) string {
	t.Helper()
	dsn := db.DSN()
	if dsn == "" {
		t.Fatal("store has no DSN")
	}
	return dsn
}

func (r *running) get(t *testing.T, path, token string, v any) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, r.url+path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if v != nil {
		_ = json.NewDecoder(resp.Body).Decode(v)
	}
	return resp.StatusCode
}

// waitEvents waits until the store shows n events (PostgreSQL's stream can lag
// behind other tests' transactions).
func waitEvents(t *testing.T, db *store.DB, n int) map[string]int {
	t.Helper()
	deadline := time.Now().Add(storetest.HangGuard)
	for {
		seen := map[string]int{}
		c := store.Cursor{}
		for {
			evs, next, err := db.EventsAfter(context.Background(), c, 5000)
			if err != nil {
				t.Fatal(err)
			}
			if len(evs) == 0 {
				break
			}
			for _, e := range evs {
				seen[e.MessageID]++
			}
			c = next
		}
		if len(seen) >= n || time.Now().After(deadline) {
			return seen
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// The real Segment Go SDK, pointed at Beacon by its Endpoint alone, delivers
// every message exactly once.
func TestAnalyticsGoSDK(t *testing.T) {
	for _, e := range storetest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			srv := startServer(t, e.Open(t))
			client, err := analytics.NewWithConfig(srv.writeKey, analytics.Config{
				Endpoint: srv.url, BatchSize: 40, Interval: 20 * time.Millisecond, Logger: analytics.StdLogger(log.New(io.Discard, "", 0)),
			})
			if err != nil {
				t.Fatal(err)
			}
			const users = 30
			want := map[string]bool{}
			enqueue := func(m analytics.Message, id string) {
				want[id] = true
				if err := client.Enqueue(m); err != nil {
					t.Fatal(err)
				}
			}
			for u := range users {
				uid := fmt.Sprintf("user-%d", u)
				enqueue(analytics.Page{MessageId: uid + "-page", AnonymousId: "anon-" + uid, Name: "Pricing"}, uid+"-page")
				enqueue(analytics.Identify{MessageId: uid + "-id", UserId: uid, AnonymousId: "anon-" + uid,
					Traits: analytics.NewTraits().SetEmail(fmt.Sprintf("%s@acme-%d.example", uid, u%3))}, uid+"-id")
				enqueue(analytics.Group{MessageId: uid + "-grp", UserId: uid, GroupId: fmt.Sprintf("ws-%d", u%5),
					Traits: analytics.NewTraits().SetName(fmt.Sprintf("Workspace %d", u%5))}, uid+"-grp")
				for i := range 10 {
					id := fmt.Sprintf("%s-track-%d", uid, i)
					enqueue(analytics.Track{MessageId: id, UserId: uid, Event: "Report Viewed",
						Properties: analytics.NewProperties().Set("report", i)}, id)
				}
			}
			if err := client.Close(); err != nil {
				t.Fatal(err)
			}
			seen := waitEvents(t, srv.db, len(want))
			for id := range want {
				if seen[id] != 1 {
					t.Errorf("%s arrived %d times", id, seen[id])
				}
			}
			if len(seen) != len(want) {
				t.Fatalf("stored %d distinct events, sent %d", len(seen), len(want))
			}

			if err := srv.syncIdentity(); err != nil {
				t.Fatal(err)
			}
			var stats struct {
				Events, Users int
				Identity      struct {
					ByMethod map[string]int `json:"by_method"`
				}
			}
			if code := srv.get(t, "/api/v1/stats", srv.adminToken, &stats); code != 200 || stats.Events != len(want) ||
				stats.Users != users || stats.Identity.ByMethod["group"] != users {
				t.Fatalf("stats %d: %+v", code, stats)
			}
			var user struct {
				Email    string
				Accounts []struct {
					AccountID string `json:"account_id"`
					Method    string
				}
				Events []struct{ Type string } `json:"recent_events"`
			}
			if code := srv.get(t, "/api/v1/users/user-7", srv.adminToken, &user); code != 200 ||
				user.Email != "user-7@acme-1.example" || len(user.Accounts) != 1 || user.Accounts[0].AccountID != "ws-2" ||
				len(user.Events) != 13 {
				t.Fatalf("user %d: %+v", code, user)
			}
			var acct struct {
				Name  string
				Users []struct {
					UserID string `json:"user_id"`
				}
			}
			if code := srv.get(t, "/api/v1/accounts/ws-2", srv.adminToken, &acct); code != 200 || acct.Name != "Workspace 2" || len(acct.Users) != 6 {
				t.Fatalf("account %d: %+v", code, acct)
			}
		})
	}
}

func TestAPIAuthAndErrors(t *testing.T) {
	srv := startServer(t, storetest.SQLite(t))
	var body struct {
		Error struct{ Code, Message string }
	}
	tests := []struct {
		path, token string
		status      int
		code        string
	}{
		{"/api/v1/stats", "", 401, "unauthorized"},
		{"/api/v1/stats", srv.writeKey, 401, "unauthorized"},
		{"/api/v1/stats", srv.adminToken + "x", 401, "unauthorized"},
		{"/api/v1/accounts/nope", srv.adminToken, 404, "not_found"},
		{"/api/v1/users/nope", srv.adminToken, 404, "not_found"},
		{"/api/v1/stats", srv.adminToken, 200, ""},
		{"/healthz", "", 200, ""},
		{"/readyz", "", 200, ""},
	}
	for _, tc := range tests {
		body.Error.Code = ""
		if got := srv.get(t, tc.path, tc.token, &body); got != tc.status || body.Error.Code != tc.code {
			t.Errorf("GET %s: %d %q, want %d %q", tc.path, got, body.Error.Code, tc.status, tc.code)
		}
	}
	var metrics bytes.Buffer
	resp, err := http.Get(srv.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(&metrics, resp.Body)
	resp.Body.Close()
	if !strings.Contains(metrics.String(), `beacon_http_request_duration_seconds_count{code="401",route="GET /api/v1/stats"} 3`) {
		t.Fatalf("metrics lack request latency by route:\n%.2000s", metrics.String())
	}
}

// `serve --collect-only` stores what it is sent and does nothing more: no
// user is resolved, no API or page is served; a full serve on the same
// store takes the events in later.
func TestCollectOnly(t *testing.T) {
	db := storetest.SQLite(t)
	a := newTestApp()
	key := createKey(t, db, false)
	ctx, cancel := context.WithCancel(context.Background())
	addr := make(chan net.Addr, 1)
	done := make(chan error, 1)
	go func() { done <- a.collectOnly(ctx, db, func(ad net.Addr) { addr <- ad }) }()
	t.Cleanup(func() { cancel(); <-done })
	base := "http://" + (<-addr).String()
	body := `{"batch":[{"type":"identify","userId":"u1","traits":{"email":"a@acme.io"}},{"type":"track","userId":"u1","event":"Project Created"}]}`
	postBatch(t, base, key, body)
	st, err := db.Stats(context.Background())
	if err != nil || st.Events != 2 || st.Users != 0 {
		t.Fatalf("stored %+v (%v): want 2 events and no user resolved", st, err)
	}
	for path, want := range map[string]int{"/readyz": 200, "/api/v1/accounts": 404, "/": 404} {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("GET %s: %d, want %d", path, resp.StatusCode, want)
		}
	}
}

// postBatch sends a /v1/batch body with a write key; it must be taken.
func postBatch(t *testing.T, base, key, body string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, base+"/v1/batch", strings.NewReader(body))
	req.SetBasicAuth(key, "")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("batch: %d", resp.StatusCode)
	}
}

// `beacon serve` receives Stripe's webhooks at /v1/billing/stripe once
// beacon.yaml names the signing secret, and not before.
func TestServeReceivesStripe(t *testing.T) {
	body := `{"id":"evt_9","object":"event","type":"invoice.paid","created":1767225600,"data":{"object":{"object":"invoice","customer":"cus_9"}}}`
	for _, configured := range []bool{false, true} {
		db := storetest.SQLite(t)
		a := newTestApp()
		if configured {
			a.cfg.Billing = &billing.Config{Stripe: &billing.StripeConfig{WebhookSecret: "whsec_serve"}}
		}
		w, err := a.server(db)
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(w.s.Handler())
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/billing/stripe", strings.NewReader(body))
		req.Header.Set("Stripe-Signature", webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: []byte(body), Secret: "whsec_serve"}).Header)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		srv.Close()
		got, _ := db.BillingEvents(context.Background(), 10)
		if want := map[bool]int{false: 404, true: 200}[configured]; resp.StatusCode != want || len(got) != map[bool]int{false: 0, true: 1}[configured] {
			t.Fatalf("configured %v: %d, %d stored; want %d", configured, resp.StatusCode, len(got), want)
		}
	}
}

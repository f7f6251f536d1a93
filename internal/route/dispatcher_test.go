package route_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/beaconplg/beacon/internal/alert"
	"github.com/beaconplg/beacon/internal/route"
	"github.com/beaconplg/beacon/internal/store"
	"github.com/beaconplg/beacon/internal/store/storetest"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

var secret = "whsec_" + base64.StdEncoding.EncodeToString([]byte("a secret of thirty-two bytes!!!!"))

var t0 = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

// receiver is a webhook endpoint on loopback that answers from a script and
// keeps what it got.
type receiver struct {
	mu      sync.Mutex
	answers []func(w http.ResponseWriter) // one per request; then 204
	got     []*http.Request
	bodies  [][]byte
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	n := len(rc.got)
	rc.got, rc.bodies = append(rc.got, r), append(rc.bodies, body)
	var answer func(http.ResponseWriter)
	if n < len(rc.answers) {
		answer = rc.answers[n]
	}
	rc.mu.Unlock()
	if answer == nil {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	answer(w)
}

func status(code int, body string, h ...string) func(http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		for i := 0; i+1 < len(h); i += 2 {
			w.Header().Set(h[i], h[i+1])
		}
		w.WriteHeader(code)
		io.WriteString(w, body)
	}
}

// fixture is a store holding one alert to each destination, and a
// dispatcher on a clock the test moves.
type fixture struct {
	db    *store.DB
	disp  *route.Dispatcher
	clock time.Time
}

func newFixture(t *testing.T, db *store.DB, specs []route.Spec) *fixture {
	t.Helper()
	if err := route.Validate(specs); err != nil {
		t.Fatal(err)
	}
	f := &fixture{db: db, clock: t0}
	disp, err := route.New(specs, route.Deps{Store: db, Log: quiet, Clock: func() time.Time { return f.clock },
		PublicURL: "https://beacon.example.com", UserAgent: "Beacon/test"})
	if err != nil {
		t.Fatal(err)
	}
	disp.RetryBase = 10 * time.Second
	f.disp = disp
	p := alert.Payload{Account: alert.AccountRef{ID: "acme", Name: "Acme <Labs>", Domains: []string{"acme.example"}, Owner: "ana@seller.example", Users: 4,
		People: []alert.Person{{ID: "u1", Email: "ana@acme.example"}, {ID: "u2", Email: "bo@acme.example"}}},
		Scorecard: "pql", Score: 95, Tier: "hot", TierLabel: "Hot PQL", PreviousTier: "warm", Segment: "mid_market",
		Zone: "sales_available", Actions: []alert.ActionRef{{Name: "ae_now", Label: "Route immediately to an AE"}},
		Reasons: []alert.Reason{{Rule: "a", Label: "Viewed the pricing page", Points: 10},
			{Rule: "b", Label: "Invited 2+ teammates", Points: 25}, {Rule: "c", Label: "Created a project", Points: 30},
			{Rule: "d", Label: "Business email", Points: 5}},
		Signals: map[string]any{"teammates_invited": 4.0}, RulesVersion: "v1", At: t0}
	payload, _ := json.Marshal(p)
	var dests []string
	for _, s := range specs {
		dests = append(dests, s.Name)
	}
	err = db.SaveScores(context.Background(), store.ScoreBatch{Alerts: []store.Alert{{Scorecard: "pql", Subject: "account:acme",
		Tier: "hot", Score: 95, Segment: "mid_market", Zone: "sales_available", Actions: []string{"ae_now"},
		Payload: payload, CreatedAt: t0, Destinations: dests}}})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) drain(t *testing.T) int {
	t.Helper()
	n, err := f.disp.Drain(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func (f *fixture) delivery(t *testing.T, dest string) store.Delivery {
	t.Helper()
	ds, err := f.db.ListDeliveries(context.Background(), store.DeliveryQuery{Destination: dest, Limit: 1})
	if err != nil || len(ds) != 1 {
		t.Fatalf("deliveries to %s: %+v, %v", dest, ds, err)
	}
	return ds[0]
}

func TestDispatcher(t *testing.T) {
	for _, eng := range storetest.Engines(t) {
		t.Run(eng.Name, func(t *testing.T) {
			t.Run("signed, retried, then delivered", func(t *testing.T) { testRetries(t, eng.Open(t)) })
			t.Run("Retry-After", func(t *testing.T) { testRetryAfter(t, eng.Open(t)) })
			t.Run("dead letters and replay", func(t *testing.T) { testDeadLetters(t, eng.Open(t)) })
			t.Run("slack", func(t *testing.T) { testSlack(t, eng.Open(t)) })
			t.Run("a redirect is not followed", func(t *testing.T) { testRedirect(t, eng.Open(t)) })
		})
	}
}

// A receiver failing twice gets the same message three times, each signed
// so that the Standard Webhooks library verifies it, with one id to drop
// duplicates by; waits double with jitter.
func testRetries(t *testing.T, db *store.DB) {
	rc := &receiver{answers: []func(http.ResponseWriter){status(503, "busy"), status(500, "oops")}}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	f := newFixture(t, db, []route.Spec{{Name: "hook", Type: route.Webhook, URL: srv.URL, Secret: secret}})
	f.drain(t)
	d := f.delivery(t, "hook")
	if d.State != store.Failed || d.Attempts != 1 || !strings.Contains(d.LastError, "HTTP 503: busy") {
		t.Fatalf("after a 503: %+v", d)
	}
	if wait := d.NextAt.Sub(t0); wait < 5*time.Second || wait > 10*time.Second {
		t.Fatalf("first retry in %v, want 5-10s", wait)
	}
	if f.drain(t) != 0 {
		t.Fatal("retried before its time")
	}
	f.clock = d.NextAt
	f.drain(t)
	d = f.delivery(t, "hook")
	if wait := d.NextAt.Sub(f.clock); d.Attempts != 2 || wait < 10*time.Second || wait > 20*time.Second {
		t.Fatalf("second retry in %v (attempt %d), want 10-20s", wait, d.Attempts)
	}
	f.clock = d.NextAt
	f.drain(t)
	if d = f.delivery(t, "hook"); d.State != store.Delivered || d.Attempts != 3 {
		t.Fatalf("after a 204: %+v", d)
	}
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for i, r := range rc.got {
		// The library checks the timestamp against the wall clock.
		if err := wh.VerifyIgnoringTimestamp(rc.bodies[i], r.Header); err != nil {
			t.Fatalf("attempt %d: %v", i+1, err)
		}
		ids[r.Header.Get("webhook-id")] = true
		if r.Header.Get("Idempotency-Key") != r.Header.Get("webhook-id") {
			t.Fatalf("Idempotency-Key %q, webhook-id %q", r.Header.Get("Idempotency-Key"), r.Header.Get("webhook-id"))
		}
	}
	if len(rc.got) != 3 || len(ids) != 1 {
		t.Fatalf("%d requests with ids %v", len(rc.got), ids)
	}
	var m route.Message
	if err := json.Unmarshal(rc.bodies[2], &m); err != nil {
		t.Fatal(err)
	}
	if m.Type != route.EventType || m.Data.Account.ID != "acme" || m.Data.Tier != "hot" || len(m.Data.Reasons) != 4 || m.Data.ID == 0 {
		t.Fatalf("message %+v", m)
	}
	// A tampered body fails verification: the signature covers it.
	if err := wh.VerifyIgnoringTimestamp(append(rc.bodies[2], ' '), rc.got[2].Header); err == nil {
		t.Fatal("a changed body verified")
	}
}

// A 301 from the receiver is a failed attempt that names where it points:
// followed, Go's client would send a GET without the body, and its 200
// would pass for the alert delivered. The body's timestamp is the alert's.
func testRedirect(t *testing.T, db *store.DB) {
	moved := &receiver{}
	newHome := httptest.NewServer(moved)
	defer newHome.Close()
	rc := &receiver{answers: []func(http.ResponseWriter){status(301, "", "Location", newHome.URL+"/hooks")}}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	f := newFixture(t, db, []route.Spec{{Name: "hook", Type: route.Webhook, URL: srv.URL, Secret: secret}})
	f.clock = t0.Add(3 * time.Minute) // the attempt is later than the alert
	f.drain(t)
	d := f.delivery(t, "hook")
	if d.State != store.Failed || !strings.Contains(d.LastError, "HTTP 301") || !strings.Contains(d.LastError, newHome.URL+"/hooks") {
		t.Fatalf("after a 301: %+v", d)
	}
	if len(moved.got) != 0 {
		t.Fatalf("the redirect was followed: %d requests where it points", len(moved.got))
	}
	var m route.Message
	if err := json.Unmarshal(rc.bodies[0], &m); err != nil {
		t.Fatal(err)
	}
	if !m.Timestamp.Equal(t0) || rc.got[0].Header.Get("webhook-timestamp") != strconv.FormatInt(f.clock.Unix(), 10) {
		t.Fatalf("body timestamp %v (want the alert's, %v); header %s", m.Timestamp, t0, rc.got[0].Header.Get("webhook-timestamp"))
	}
}

// 429 with Retry-After waits as long as the receiver asked.
func testRetryAfter(t *testing.T, db *store.DB) {
	rc := &receiver{answers: []func(http.ResponseWriter){status(429, "slow down", "Retry-After", "120")}}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	f := newFixture(t, db, []route.Spec{{Name: "hook", Type: route.Webhook, URL: srv.URL, Secret: secret}})
	f.drain(t)
	if d := f.delivery(t, "hook"); d.State != store.Failed || d.NextAt.Sub(t0) != 120*time.Second {
		t.Fatalf("after a 429 asking for 120s: next at +%v (%+v)", d.NextAt.Sub(t0), d)
	}
}

// A request the receiver refuses as wrong is dead at once; one that keeps
// failing is dead after max_attempts; `retry` sends both again.
func testDeadLetters(t *testing.T, db *store.DB) {
	refuse := &receiver{answers: []func(http.ResponseWriter){status(400, `{"error":"unknown field"}`)}}
	down := &receiver{answers: []func(http.ResponseWriter){status(502, "a"), status(502, "b"), status(502, "c")}}
	s1, s2 := httptest.NewServer(refuse), httptest.NewServer(down)
	defer s1.Close()
	defer s2.Close()
	f := newFixture(t, db, []route.Spec{
		{Name: "strict", Type: route.Webhook, URL: s1.URL, Secret: secret},
		{Name: "flaky", Type: route.Webhook, URL: s2.URL, Secret: secret, MaxAttempts: 3},
	})
	for range 3 {
		f.drain(t)
		f.clock = f.clock.Add(time.Hour)
	}
	if d := f.delivery(t, "strict"); d.State != store.Dead || d.Attempts != 1 || !strings.Contains(d.LastError, "HTTP 400") {
		t.Fatalf("refused: %+v", d)
	}
	if d := f.delivery(t, "flaky"); d.State != store.Dead || d.Attempts != 3 || !strings.Contains(d.LastError, "HTTP 502: c") {
		t.Fatalf("down three times: %+v", d)
	}
	if n, err := db.Retry(context.Background(), f.clock, nil, ""); err != nil || n != 2 {
		t.Fatalf("retry: %d, %v", n, err)
	}
	f.drain(t)
	for _, name := range []string{"strict", "flaky"} {
		if d := f.delivery(t, name); d.State != store.Delivered {
			t.Fatalf("%s after retry: %+v", name, d)
		}
	}
}

// Slack gets the account, tier, score, top reasons, owner, next step and a
// link to the account, as an incoming webhook takes them; its 400 answers
// are dead letters.
func testSlack(t *testing.T, db *store.DB) {
	var got map[string]any
	rc := &receiver{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc.ServeHTTP(httptest.NewRecorder(), r)
		rc.mu.Lock()
		body := rc.bodies[len(rc.bodies)-1]
		rc.mu.Unlock()
		if err := json.Unmarshal(body, &got); err != nil || r.Header.Get("Content-Type") != "application/json" {
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, "invalid_payload")
			return
		}
		io.WriteString(w, "ok")
	}))
	defer srv.Close()
	f := newFixture(t, db, []route.Spec{{Name: "sales-slack", Type: route.Slack, URL: srv.URL}})
	f.drain(t)
	if d := f.delivery(t, "sales-slack"); d.State != store.Delivered {
		t.Fatalf("slack: %+v", d)
	}
	text := fmt.Sprint(got["blocks"])
	for _, want := range []string{"<https://beacon.example.com/accounts/acme|Acme &lt;Labs&gt;>", "*Hot PQL* with 95 points",
		"(was warm)", "owner ana@seller.example", "4 users", "Created a project (+30); Invited 2+ teammates (+25); Viewed the pricing page (+10)",
		"*Next:* Route immediately to an AE"} {
		if !strings.Contains(text, want) {
			t.Errorf("message lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "Business email") {
		t.Errorf("more than the top three reasons:\n%s", text)
	}
	if got["text"] != "Hot PQL: Acme <Labs> (95 points)" {
		t.Errorf("fallback text %q", got["text"])
	}
}

// A secret Beacon makes is one the Standard Webhooks library takes, and a
// webhook destination accepts.
func TestNewSecret(t *testing.T) {
	a, err := route.NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := route.NewSecret()
	if a == b || !strings.HasPrefix(a, "whsec_") {
		t.Fatalf("secrets %q, %q", a, b)
	}
	if _, err := standardwebhooks.NewWebhook(a); err != nil {
		t.Fatal(err)
	}
	if err := route.Validate([]route.Spec{{Name: "h", Type: route.Webhook, URL: "https://h.example.com", Secret: a}}); err != nil {
		t.Fatal(err)
	}
	if err := route.Validate([]route.Spec{{Name: "h", Type: route.Webhook, URL: "https://h.example.com", Secret: "whsec_c2hvcnQ="}}); err == nil ||
		!strings.Contains(err.Error(), "want at least 24") {
		t.Fatalf("a short secret: %v", err)
	}
}

package cli

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/beaconplg/beacon/internal/route"
	"github.com/beaconplg/beacon/internal/store/storetest"
)

// hookReceiver keeps the verified alerts a webhook endpoint gets, by account.
type hookReceiver struct {
	t    *testing.T
	wh   *standardwebhooks.Webhook
	mu   sync.Mutex
	got  map[string][]route.Message
	when map[string]time.Time
	// arrived hears of each message kept, for a test to wait on.
	arrived chan struct{}
}

func newHookReceiver(t *testing.T, secret string) (*hookReceiver, *httptest.Server) {
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatal(err)
	}
	h := &hookReceiver{t: t, wh: wh, got: map[string][]route.Message{}, when: map[string]time.Time{}, arrived: make(chan struct{}, 1)}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return h, srv
}

func (h *hookReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if err := h.wh.Verify(body, r.Header); err != nil {
		h.t.Errorf("a webhook failed verification: %v", err)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	var m route.Message
	if err := json.Unmarshal(body, &m); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	h.mu.Lock()
	id := m.Data.Account.ID
	h.got[id] = append(h.got[id], m)
	h.when[id] = time.Now()
	h.mu.Unlock()
	select {
	case h.arrived <- struct{}{}:
	default: // one wake-up is pending already
	}
	w.WriteHeader(http.StatusNoContent)
}

func (h *hookReceiver) of(account string) ([]route.Message, time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.got[account], h.when[account]
}

// An event sent through the collector that moves an account up a tier
// reaches a webhook receiver, signed, carrying the new tier and its reasons.
func TestEventReachesWebhook(t *testing.T) {
	secret, err := route.NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	rc, srv := newHookReceiver(t, secret)
	a := newTestApp()
	a.cfg.Destinations = []route.Spec{{Name: "hook", Type: route.Webhook, URL: srv.URL, Secret: secret}}
	for i := range a.cfg.Scoring.Routing.Actions {
		a.cfg.Scoring.Routing.Actions[i].To = []string{"hook"}
	}
	if err := a.cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	base, db, secrets := serveDemo(t, a, 300, t.TempDir())
	acc, user := tierEdge(t, db)
	before := scoreOf(t, base, secrets.adminToken, acc)
	sent := viewPricing(t, base, secrets.writeKey, user)
	// The account's first alert (its first scoring) may come in too; the
	// one wanted is the move this event caused.
	for {
		got, at := rc.of(acc)
		for _, m := range got {
			if m.Data.PreviousTier == before.Tier && m.Data.Tier != before.Tier {
				if m.Data.Score != before.Score+10 || len(m.Data.Actions) == 0 || len(m.Data.Reasons) == 0 {
					t.Fatalf("alert %+v after %s (%g)", m.Data, before.Tier, before.Score)
				}
				t.Logf("%s: %s → %s, webhook received %s after the event", acc, before.Tier, m.Data.Tier, at.Sub(sent))
				return
			}
		}
		if time.Since(sent) > storetest.HangGuard {
			t.Fatalf("no webhook for %s's move from %s %s after the event: %+v", acc, before.Tier, storetest.HangGuard, got)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Once `beacon serve` has replayed the demo world, the band check at the
// last day's close raises the metrics that stand in warning or red, and a
// webhook destination named by metrics.alert_to receives them, signed,
// each with its metric and band and no account.
func TestBandAlertsReachWebhook(t *testing.T) {
	secret, err := route.NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	rc, srv := newHookReceiver(t, secret)
	a := newTestApp()
	a.demoMetrics()
	a.cfg.Destinations = []route.Spec{{Name: "hook", Type: route.Webhook, URL: srv.URL, Secret: secret}}
	a.cfg.Metrics.AlertTo = []string{"hook"}
	if err := a.cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	serveDemo(t, a, 300, t.TempDir())
	for {
		got, _ := rc.of("") // band alerts name no account
		for _, m := range got {
			mt := m.Data.Metric
			if mt == nil || (mt.Level != "warning" && mt.Level != "red") || mt.Band == "" || (mt.Window != "30d" && mt.Window != "7d") {
				t.Fatalf("a band alert %+v", m.Data)
			}
		}
		if len(got) > 0 {
			t.Logf("%d band alerts, the first %s %s: %s", len(got), got[0].Data.Metric.Label, got[0].Data.Metric.Level, got[0].Data.Metric.Band)
			return
		}
		select {
		case <-rc.arrived:
		case <-time.After(storetest.HangGuard):
			t.Fatalf("no band alert %s after start", storetest.HangGuard)
		}
	}
}

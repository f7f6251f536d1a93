package bench

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/beaconplg/beacon/internal/api"
	"github.com/beaconplg/beacon/internal/collect"
	"github.com/beaconplg/beacon/internal/httpjson"
	"github.com/beaconplg/beacon/internal/keys"
	"github.com/beaconplg/beacon/internal/metrics"
	"github.com/beaconplg/beacon/internal/store"
	"github.com/beaconplg/beacon/internal/store/storetest"
)

// The load for a Beacon in another process posts every event to it, each
// acknowledged once it is stored; options it cannot use are refused.
func TestLoad(t *testing.T) {
	db := storetest.SQLite(t)
	key, err := keys.Create(context.Background(), db, store.WriteKey, "load")
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	mux := http.NewServeMux()
	collect.New(collect.Deps{Errors: httpjson.NewErrors(log, api.Statuses()...), Ingester: db, Keys: keys.NewChecker(db),
		Metrics: metrics.New(), Log: log}).Register(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	o := LoadOptions{URL: srv.URL, Key: key, Events: 1050, Batch: 100, Clients: 3, Timeout: time.Minute}
	res, err := Load(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	st, err := db.Stats(context.Background())
	if err != nil || st.Events != 1050 || res.Batches != 11 || res.P99 < res.P50 {
		t.Fatalf("%+v; stored %d (%v)", res, st.Events, err)
	}
	for _, bad := range []LoadOptions{{URL: "localhost:8080", Key: key, Events: 1, Batch: 1, Clients: 1},
		{URL: srv.URL, Events: 1, Batch: 1, Clients: 1}, {URL: srv.URL, Key: key}} {
		if _, err := Load(context.Background(), bad); err == nil {
			t.Errorf("%+v: no error", bad)
		}
	}
	o.Key = "bk_w_wrong"
	if _, err := Load(context.Background(), o); err == nil {
		t.Error("a wrong key: no error")
	}
}

// A probe counts from its event's acknowledgement until the account's
// score is served: not before identity made the account (404), nor while
// it has no score yet; a refused read is an error, not a latency.
func TestScoredProbe(t *testing.T) {
	var polls atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/batch", func(w http.ResponseWriter, r *http.Request) {
		if user, _, _ := r.BasicAuth(); user != "key" {
			http.Error(w, "key", http.StatusUnauthorized)
		}
	})
	mux.HandleFunc("GET /api/v1/accounts/{id}/score", func(w http.ResponseWriter, r *http.Request) {
		switch n := polls.Add(1); {
		case r.Header.Get("Authorization") != "Bearer admin":
			http.Error(w, `{"error":"unauthorized"}`, http.StatusUnauthorized)
		case n < 3:
			http.NotFound(w, r)
		case n < 5:
			io.WriteString(w, `{"subject":"account:`+r.PathValue("id")+`","scores":[]}`)
		default:
			io.WriteString(w, `{"subject":"account:`+r.PathValue("id")+`","scores":[{"scorecard":"pql","score":5}]}`)
		}
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	p := scoredProbe{client: srv.Client(), base: srv.URL, key: "key", token: "admin", run: "t", poll: time.Millisecond}
	if _, err := p.one(context.Background(), 0); err != nil || polls.Load() != 5 {
		t.Fatalf("probe: %v after %d polls, want a score at the 5th", err, polls.Load())
	}
	p.token = "wrong"
	if _, err := p.one(context.Background(), 1); err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("a refused read: %v", err)
	}
}

// A webhook probe waits for its own workspace's webhook at the receiver,
// not for any webhook; probes time either scores or webhooks.
func TestHookedProbe(t *testing.T) {
	got := make(chan string, 1)
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/batch", func(w http.ResponseWriter, r *http.Request) {
		var b struct {
			Batch []struct {
				GroupID string `json:"groupId"`
			} `json:"batch"`
		}
		if err := json.NewDecoder(r.Body).Decode(&b); err != nil || len(b.Batch) == 0 {
			http.Error(w, "bad batch", http.StatusBadRequest)
			return
		}
		got <- b.Batch[0].GroupID
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	rc := &receiver{probe: map[string]time.Time{}}
	_, stop, err := listen(rc)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	p := hookedProbe{client: srv.Client(), base: srv.URL, key: "key", run: "t", rc: rc}
	type result struct {
		d   time.Duration
		err error
	}
	done := make(chan result, 1)
	go func() { d, err := p.one(context.Background(), 3); done <- result{d, err} }()
	acct := <-got
	if acct != "probe-acct-t-3" {
		t.Fatalf("probe's workspace %q", acct)
	}
	hook := func(account string) {
		rc.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, "/",
			strings.NewReader(`{"type":"alert.created","data":{"account":{"id":"`+account+`"}}}`)))
	}
	hook("someone-else")
	select {
	case r := <-done:
		t.Fatalf("returned on another workspace's webhook: %+v", r)
	default:
	}
	hook(acct)
	if r := <-done; r.err != nil || r.d <= 0 {
		t.Fatalf("probe: %+v", r)
	}
	_, err = Load(context.Background(), LoadOptions{URL: srv.URL, Key: "key", Events: 1, Batch: 1, Clients: 1,
		AdminToken: "admin", Receive: "127.0.0.1:0", Timeout: time.Minute})
	if err == nil || !strings.Contains(err.Error(), "not both") {
		t.Fatalf("both probes asked for: %v", err)
	}
}

package bench

import (
	"context"
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

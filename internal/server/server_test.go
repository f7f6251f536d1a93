package server

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/beaconplg/beacon/internal/config"
	"github.com/beaconplg/beacon/internal/metrics"
)

// slowRoute answers /slow once the test releases it: the request is in
// flight for as long as the test needs, whatever the machine's speed.
type slowRoute struct{ started, release chan struct{} }

func newSlowRoute() slowRoute {
	return slowRoute{started: make(chan struct{}), release: make(chan struct{})}
}

func (s slowRoute) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /slow", func(w http.ResponseWriter, _ *http.Request) {
		close(s.started)
		<-s.release
		_, _ = io.WriteString(w, "done")
	})
	mux.HandleFunc("GET /panic", func(http.ResponseWriter, *http.Request) { panic("boom") })
}

type okPinger struct{}

func (okPinger) Ping(context.Context) error { return nil }

func start(t *testing.T, route slowRoute) (string, context.CancelFunc, chan error) {
	cfg := config.Default()
	cfg.ShutdownTimeout = 2 * time.Minute // a guard against a hang only
	s := New(cfg, Deps{Routes: []Route{route}, Store: okPinger{}, Metrics: metrics.New(),
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	return "http://" + ln.Addr().String(), cancel, done
}

// Stopping the server lets a request already in flight finish.
func TestShutdownFinishesInFlight(t *testing.T) {
	route := newSlowRoute()
	url, stop, done := start(t, route)
	got := make(chan string, 1)
	go func() {
		resp, err := http.Get(url + "/slow")
		if err != nil {
			got <- "error: " + err.Error()
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		got <- string(b)
	}()
	<-route.started
	stop()
	// Shutting down: new connections are refused while the request runs.
	for {
		resp, err := http.Get(url + "/panic")
		if err != nil {
			break
		}
		resp.Body.Close()
	}
	close(route.release)
	if body := <-got; body != "done" {
		t.Fatalf("in-flight request got %q", body)
	}
	if err := <-done; err != nil {
		t.Fatalf("Serve returned %v", err)
	}
	if _, err := http.Get(url + "/slow"); err == nil {
		t.Fatal("server still accepts requests after shutdown")
	}
}

// A handler that panics gets a 500 in the one error shape; the server lives on.
func TestPanicIsA500(t *testing.T) {
	url, stop, _ := start(t, newSlowRoute())
	defer stop()
	for range 2 {
		resp, err := http.Get(url + "/panic")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 500 || string(b) != "{\"error\":{\"code\":\"internal\",\"message\":\"internal error\"}}\n" {
			t.Fatalf("%d %s", resp.StatusCode, b)
		}
	}
}

// /readyz answers 503 naming the parts that fail (the store, or a check),
// never why; the metrics report each check.
func TestReadiness(t *testing.T) {
	var failing atomic.Bool
	cfg := config.Default()
	m := metrics.New()
	s := New(cfg, Deps{Store: okPinger{}, Metrics: m, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Checks: []Check{{Name: "identity", Health: func() error {
			if failing.Load() {
				return errors.New("secret DSN postgres://u:pw@host")
			}
			return nil
		}}}})
	ask := func(path string) (int, string) {
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		return rec.Code, rec.Body.String()
	}
	if code, body := ask("/readyz"); code != http.StatusOK || !strings.Contains(body, `"ready"`) {
		t.Fatalf("healthy: %d %s", code, body)
	}
	failing.Store(true)
	code, body := ask("/readyz")
	if code != http.StatusServiceUnavailable || !strings.Contains(body, `"failing":["identity"]`) || strings.Contains(body, "postgres") {
		t.Fatalf("identity failing: %d %s", code, body)
	}
	if _, metrics := ask("/metrics"); !strings.Contains(metrics, `beacon_stage_healthy{stage="identity"} 0`) {
		t.Fatalf("metrics lack the failing stage:\n%s", metrics)
	}
}

// A stage further behind than stage_max_lag makes /readyz 503, naming it
// as behind; the lag is a metric. 0 turns the check off.
func TestReadinessLag(t *testing.T) {
	lag := 10 * time.Minute
	for _, tc := range []struct {
		max    time.Duration
		status int
	}{{5 * time.Minute, http.StatusServiceUnavailable}, {20 * time.Minute, http.StatusOK}, {0, http.StatusOK}} {
		cfg := config.Default()
		cfg.StageMaxLag = tc.max
		s := New(cfg, Deps{Store: okPinger{}, Metrics: metrics.New(), Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
			Checks: []Check{{Name: "scoring", Health: func() error { return nil }, Lag: func() time.Duration { return lag }}}})
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
		if rec.Code != tc.status || (tc.status != http.StatusOK) != strings.Contains(rec.Body.String(), `"behind":["scoring"]`) {
			t.Errorf("max lag %v: %d %s", tc.max, rec.Code, rec.Body)
		}
		rec = httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
		if !strings.Contains(rec.Body.String(), `beacon_stage_lag_seconds{stage="scoring"} 600`) {
			t.Errorf("metrics lack the lag")
		}
	}
}

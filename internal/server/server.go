// Package server owns Beacon's HTTP server: it mounts the collector, the read
// API, health, readiness and metrics on one mux, wraps them in panic recovery
// and latency measurement, and shuts down gracefully, letting in-flight
// requests finish.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/beaconplg/beacon/internal/config"
	"github.com/beaconplg/beacon/internal/httpjson"
	"github.com/beaconplg/beacon/internal/metrics"
)

// Route is something that adds its handlers to the mux.
type Route interface {
	Register(mux *http.ServeMux)
}

// Pinger reports whether the store answers.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Check is a part of Beacon whose health readiness reports: the collector
// (can it store events?), identity and scoring (are their passes failing?).
type Check struct {
	Name   string
	Health func() error
	// Quarantined, if set, counts what the part set aside.
	Quarantined func() uint64
	// Lag, if set, is how far the part is behind what was committed.
	Lag func() time.Duration
}

// Deps are the server's collaborators.
type Deps struct {
	Routes  []Route
	Store   Pinger
	Checks  []Check
	Metrics *metrics.Metrics
	Log     *slog.Logger
}

// Server is Beacon's HTTP server.
type Server struct {
	cfg  config.Config
	deps Deps
	mux  *http.ServeMux
}

// New builds the server and its routes.
func New(cfg config.Config, d Deps) *Server {
	s := &Server{cfg: cfg, deps: d, mux: http.NewServeMux()}
	for _, r := range d.Routes {
		r.Register(s.mux)
	}
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		httpjson.WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	s.mux.HandleFunc("GET /readyz", s.ready)
	s.mux.Handle("GET /metrics", d.Metrics.Handler())
	for _, c := range d.Checks {
		d.Metrics.Stage(c.Name, func() bool { return c.Health() == nil })
		if c.Quarantined != nil {
			d.Metrics.Quarantined(c.Name, c.Quarantined)
		}
		if c.Lag != nil {
			d.Metrics.Lag(c.Name, c.Lag)
		}
	}
	return s
}

// Readiness is the body of /readyz: ready, or what is not. It names the
// failing parts only; why is in the logs, which the public does not read.
type Readiness struct {
	Status  string   `json:"status"`
	Failing []string `json:"failing,omitempty"`
	// Behind are the parts further behind what was committed than
	// stage_max_lag.
	Behind []string `json:"behind,omitempty"`
}

func (s *Server) ready(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	var failing []string
	if err := s.deps.Store.Ping(ctx); err != nil {
		failing = append(failing, "store")
	}
	var behind []string
	for _, c := range s.deps.Checks {
		if c.Health() != nil {
			failing = append(failing, c.Name)
		}
		if c.Lag != nil && s.cfg.StageMaxLag > 0 && c.Lag() > s.cfg.StageMaxLag {
			behind = append(behind, c.Name)
		}
	}
	if len(failing) > 0 || len(behind) > 0 {
		httpjson.WriteJSON(w, http.StatusServiceUnavailable, Readiness{Status: "not ready", Failing: failing, Behind: behind})
		return
	}
	httpjson.WriteJSON(w, http.StatusOK, Readiness{Status: "ready"})
}

// Handler is the whole server as an http.Handler, middleware included.
func (s *Server) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		defer func() {
			if p := recover(); p != nil {
				s.deps.Log.Error("panic serving request", "path", r.URL.Path, "panic", fmt.Sprint(p))
				if !rec.wrote {
					httpjson.WriteJSON(rec, http.StatusInternalServerError,
						map[string]*httpjson.Problem{"error": {Code: "internal", Message: "internal error"}})
				}
			}
			_, pattern := s.mux.Handler(r)
			if pattern == "" {
				pattern = "unmatched"
			}
			s.deps.Metrics.RequestDuration.WithLabelValues(pattern, strconv.Itoa(rec.status)).Observe(time.Since(start).Seconds())
		}()
		s.mux.ServeHTTP(rec, r)
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (r *statusRecorder) WriteHeader(code int) {
	if !r.wrote {
		r.status, r.wrote = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	r.wrote = true
	return r.ResponseWriter.Write(b)
}

// Listen opens the configured address.
func (s *Server) Listen() (net.Listener, error) {
	return net.Listen("tcp", s.cfg.Addr)
}

// Serve answers on ln until ctx ends, then stops taking connections and lets
// in-flight requests finish, for at most the configured shutdown timeout.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.deps.Log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	s.deps.Log.Info("shutting down; finishing in-flight requests", "timeout", s.cfg.ShutdownTimeout)
	sctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	err := srv.Shutdown(sctx)
	if e := <-errc; !errors.Is(e, http.ErrServerClosed) {
		err = errors.Join(err, e)
	}
	return err
}

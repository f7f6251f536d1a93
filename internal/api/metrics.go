package api

import (
	"cmp"
	"context"
	"net/http"
	"time"

	"github.com/beaconplg/beacon/internal/growth"
)

// Metrics answers the PLG metrics queries.
type Metrics interface {
	Report(ctx context.Context, q growth.Query) (*growth.Report, error)
	Funnel(ctx context.Context, from, to time.Time) (*growth.Funnel, error)
	Cohorts(ctx context.Context, from, to time.Time, unit, of string) (*growth.Cohorts, error)
	Retention(ctx context.Context, from, to time.Time) ([]growth.SegmentNRR, error)
	Movements(ctx context.Context, from, to time.Time) ([]growth.MonthMoves, error)
}

// MetricsAPI serves /api/v1/metrics: the metrics of a period, as JSON or
// CSV, the funnel, the cohort grid and NRR by segment.
type MetricsAPI struct {
	*API
	m     Metrics
	clock func() time.Time
}

// WithMetrics returns the metrics endpoints, behind the same admin token.
func (a *API) WithMetrics(m Metrics, clock func() time.Time) *MetricsAPI {
	return &MetricsAPI{API: a, m: m, clock: clock}
}

// Register adds the metrics routes to mux.
func (a *MetricsAPI) Register(mux *http.ServeMux) {
	mux.Handle("GET /api/v1/metrics", a.adminRaw(a.report))
	mux.Handle("GET /api/v1/metrics/funnel", a.admin(a.funnel))
	mux.Handle("GET /api/v1/metrics/cohorts", a.admin(a.cohorts))
	mux.Handle("GET /api/v1/metrics/retention", a.admin(a.retention))
	mux.Handle("GET /api/v1/metrics/movements", a.admin(a.movements))
}

func (a *MetricsAPI) report(w http.ResponseWriter, r *http.Request) {
	rep, err := a.reportOf(r)
	if err != nil {
		a.errs.Write(w, err)
		return
	}
	if r.URL.Query().Get("format") != "csv" {
		WriteJSON(w, http.StatusOK, rep)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="beacon-metrics.csv"`)
	if err := growth.WriteCSV(w, rep, r.URL.Query().Get("table")); err != nil {
		a.log.Warn("writing the metrics as CSV", "err", err)
	}
}

func (a *MetricsAPI) reportOf(r *http.Request) (*growth.Report, error) {
	q, err := growth.ParseQuery(r.URL.Query(), a.clock())
	if err != nil {
		return nil, err
	}
	return a.m.Report(r.Context(), q)
}

func (a *MetricsAPI) funnel(r *http.Request) (any, error) {
	q, err := growth.ParseQuery(r.URL.Query(), a.clock())
	if err != nil {
		return nil, err
	}
	return a.m.Funnel(r.Context(), q.From, q.To)
}

func (a *MetricsAPI) cohorts(r *http.Request) (any, error) {
	q, err := growth.ParseQuery(r.URL.Query(), a.clock())
	if err != nil {
		return nil, err
	}
	v := r.URL.Query()
	return a.m.Cohorts(r.Context(), q.From, q.To, cmp.Or(v.Get("unit"), "month"), cmp.Or(v.Get("of"), "accounts"))
}

func (a *MetricsAPI) retention(r *http.Request) (any, error) {
	q, err := growth.ParseQuery(r.URL.Query(), a.clock())
	if err != nil {
		return nil, err
	}
	return a.m.Retention(r.Context(), q.From, q.To)
}

func (a *MetricsAPI) movements(r *http.Request) (any, error) {
	q, err := growth.ParseQuery(r.URL.Query(), a.clock())
	if err != nil {
		return nil, err
	}
	return a.m.Movements(r.Context(), q.From, q.To)
}

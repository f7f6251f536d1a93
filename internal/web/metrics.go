package web

import (
	"context"
	"net/http"
	"time"

	"github.com/beaconplg/beacon/internal/growth"
)

// Metrics answers the PLG metrics the dashboard, the funnel and the
// cohort grid show.
type Metrics interface {
	Report(ctx context.Context, q growth.Query) (*growth.Report, error)
	Overview(ctx context.Context, q growth.Query) (*growth.Overview, error)
	Funnel(ctx context.Context, from, to time.Time) (*growth.Funnel, error)
	Cohorts(ctx context.Context, from, to time.Time, unit, of string) (*growth.Cohorts, error)
	AccountRevenue(ctx context.Context, id string) (growth.AccountRevenue, error)
}

// period is the page's period and breakdown, as its form sends them.
type period struct {
	From, To string // dates; To is the last day shown (the query's to minus a day)
	By       string
	Names    string
}

func periodOf(q growth.Query, names string) period {
	return period{From: q.From.Format(time.DateOnly), To: q.To.AddDate(0, 0, -1).Format(time.DateOnly), By: q.By, Names: names}
}

// query reads the page's period: to is the last day shown, included.
func (w *Web) query(r *http.Request, days int) (growth.Query, error) {
	return growth.ParsePeriod(r.URL.Query(), w.clock(), days)
}

type tableView struct {
	Name, Label string
	Rows        []growth.Value
}

type dashboardData struct {
	chrome
	Period    period
	Tables    []tableView
	Groups    []growth.Group
	Breakdown *growth.Value // the metric broken down, if one is
	Segments  []growth.SegmentNRR
	Chart     any
	Query     string
}

// dashboard shows seed 002's four tables and the revenue, virality and
// infrastructure tables for a period, each metric against its target,
// trend and band; with names and by, one metric broken down.
func (w *Web) dashboard(rw http.ResponseWriter, r *http.Request, v viewer) {
	q, err := w.query(r, growth.DefaultDays)
	if err != nil {
		w.message(rw, http.StatusBadRequest, v, "Metrics", err.Error())
		return
	}
	o, err := w.metrics.Overview(r.Context(), q)
	if err != nil {
		w.fail(rw, err)
		return
	}
	rep := o.Report
	d := dashboardData{chrome: chromeOf(v), Period: periodOf(q, r.URL.Query().Get("names")), Groups: rep.Groups,
		Query: "from=" + q.From.Format(time.DateOnly) + "&to=" + q.To.Format(time.DateOnly)}
	if q.By != "" && len(q.Names) == 1 && len(rep.Values) == 1 {
		d.Breakdown = &rep.Values[0]
	}
	for _, t := range growth.Tables {
		tv := tableView{Name: t.Name, Label: t.Label}
		for _, val := range rep.Values {
			if val.Table == t.Name {
				tv.Rows = append(tv.Rows, val)
			}
		}
		if len(tv.Rows) > 0 {
			d.Tables = append(d.Tables, tv)
		}
	}
	if d.Breakdown == nil {
		d.Segments, d.Chart = o.Segments, movementsChart(o.Movements)
	}
	w.render(rw, http.StatusOK, "metrics", d)
}

type funnelData struct {
	chrome
	Period period
	Funnel *growth.Funnel
	Chart  any
}

// funnelPage shows the funnel of a period's sign-ups and where it leaks
// first, broken down by segment and channel.
func (w *Web) funnelPage(rw http.ResponseWriter, r *http.Request, v viewer) {
	q, err := w.query(r, 90)
	if err != nil {
		w.message(rw, http.StatusBadRequest, v, "Funnel", err.Error())
		return
	}
	f, err := w.metrics.Funnel(r.Context(), q.From, q.To)
	if err != nil {
		w.fail(rw, err)
		return
	}
	w.render(rw, http.StatusOK, "funnel", funnelData{chrome: chromeOf(v), Period: periodOf(q, ""), Funnel: f, Chart: funnelChart(f)})
}

type cohortData struct {
	chrome
	Period   period
	Unit, Of string
	Cohorts  *growth.Cohorts
	Columns  []int
}

// cohortsPage shows the retention grid of the sign-ups of a period.
func (w *Web) cohortsPage(rw http.ResponseWriter, r *http.Request, v viewer) {
	q, err := w.query(r, 180)
	if err != nil {
		w.message(rw, http.StatusBadRequest, v, "Cohorts", err.Error())
		return
	}
	unit, of := r.URL.Query().Get("unit"), r.URL.Query().Get("of")
	if unit == "" {
		unit = "month"
	}
	if of == "" {
		of = "accounts"
	}
	c, err := w.metrics.Cohorts(r.Context(), q.From, q.To, unit, of)
	if err != nil {
		w.message(rw, http.StatusBadRequest, v, "Cohorts", err.Error())
		return
	}
	d := cohortData{chrome: chromeOf(v), Period: periodOf(q, ""), Unit: unit, Of: of, Cohorts: c}
	for _, row := range c.Rows {
		for len(d.Columns) < len(row.Active) {
			d.Columns = append(d.Columns, len(d.Columns))
		}
	}
	w.render(rw, http.StatusOK, "cohorts", d)
}

// metricsCSV exports a table of the dashboard (or all) as CSV.
func (w *Web) metricsCSV(rw http.ResponseWriter, r *http.Request, v viewer) {
	q, err := w.query(r, growth.DefaultDays)
	if err != nil {
		w.message(rw, http.StatusBadRequest, v, "Metrics", err.Error())
		return
	}
	rep, err := w.metrics.Report(r.Context(), q)
	if err != nil {
		w.fail(rw, err)
		return
	}
	rw.Header().Set("Content-Type", "text/csv; charset=utf-8")
	rw.Header().Set("Content-Disposition", `attachment; filename="beacon-metrics.csv"`)
	if err := growth.WriteCSV(rw, rep, r.URL.Query().Get("table")); err != nil {
		w.log.Warn("writing the metrics as CSV", "err", err)
	}
}

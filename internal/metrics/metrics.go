// Package metrics owns what Beacon reports to Prometheus: events accepted,
// deduplicated and rejected (by reason), and request latency by route. It
// keeps its own registry, passed to whoever records, instead of the global one.
package metrics

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics holds Beacon's collectors.
type Metrics struct {
	reg             *prometheus.Registry
	EventsAccepted  prometheus.Counter
	EventsDuplicate prometheus.Counter
	EventsRejected  *prometheus.CounterVec
	RequestDuration *prometheus.HistogramVec
}

// New registers Beacon's collectors, plus the Go runtime's, on a new registry.
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		EventsAccepted: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "beacon_events_accepted_total", Help: "Events committed to the store (new messageIds)."}),
		EventsDuplicate: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "beacon_events_duplicate_total", Help: "Events whose messageId was already stored (retries)."}),
		EventsRejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "beacon_events_rejected_total", Help: "Messages refused, by reason."}, []string{"reason"}),
		RequestDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "beacon_http_request_duration_seconds", Help: "HTTP request latency by route and status.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5}}, []string{"route", "code"}),
	}
	m.reg.MustRegister(m.EventsAccepted, m.EventsDuplicate, m.EventsRejected, m.RequestDuration,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Stage reports a part of Beacon as beacon_stage_healthy{stage=name}: 1
// while healthy says so, 0 when not, read at each scrape.
func (m *Metrics) Stage(name string, healthy func() bool) {
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "beacon_stage_healthy",
		Help:        "Whether a part of Beacon is healthy: the collector storing events, identity's and scoring's passes succeeding.",
		ConstLabels: prometheus.Labels{"stage": name}}, func() float64 {
		if healthy() {
			return 1
		}
		return 0
	}))
}

// Quarantined reports beacon_quarantined_total{stage=name}: what the stage
// has set aside (docs/operations.md, "Quarantine") since the process
// started, read at each scrape.
func (m *Metrics) Quarantined(name string, count func() uint64) {
	m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "beacon_quarantined_total",
		Help:        "Messages a stage could not apply and set aside: identity's events, scoring's subjects.",
		ConstLabels: prometheus.Labels{"stage": name}}, func() float64 { return float64(count()) }))
}

// Lag reports beacon_stage_lag_seconds{stage=name}: how long the oldest
// commit the stage has not yet taken has waited, read at each scrape.
func (m *Metrics) Lag(name string, lag func() time.Duration) {
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "beacon_stage_lag_seconds",
		Help:        "How long the oldest commit a stage has not yet taken has waited: 0 when it is caught up.",
		ConstLabels: prometheus.Labels{"stage": name}}, func() float64 { return lag().Seconds() }))
}

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

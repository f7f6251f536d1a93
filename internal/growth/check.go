package growth

import (
	"context"
	"encoding/json"
	"log/slog"
	"math"
	"time"

	"github.com/beaconplg/beacon/internal/alert"
	"github.com/beaconplg/beacon/internal/store"
)

// Levels is what the band check keeps between checks: where each metric
// stood, and the alerts raised with the levels that raised them.
type Levels interface {
	MetricLevels(ctx context.Context) (map[string]store.MetricLevel, error)
	SaveMetricLevels(ctx context.Context, levels []store.MetricLevel, alerts []store.Alert) error
}

// AlertScorecard and the subject prefix name band alerts among alerts.
const (
	AlertScorecard = "metrics"
	alertSubject   = "metric:"
)

// windows are the checks: every banded metric over the 30 days to each
// day's close, and over the 7 days to each week's (Monday, 00:00 UTC).
var windows = []struct {
	name   string
	days   int
	weekly bool
}{{"30d", 30, false}, {"7d", 7, true}}

// Checker raises an alert when a metric crosses into warning or red, once
// per crossing, through the destinations configured for it.
type Checker struct {
	m       *Service
	checked func()
	db      Levels
	to      []string
	notify  func()
	log     *slog.Logger
}

// NewChecker returns the band check over m, storing levels and alerts in
// db, delivering to the destinations named to; notify is told when it
// raised alerts (the dispatcher's wake-up).
func NewChecker(m *Service, db Levels, to []string, notify func(), log *slog.Logger) *Checker {
	return &Checker{m: m, db: db, to: to, notify: notify, log: log}
}

// OnChecked sets what Run calls after each check: a check's garbage is
// many times what it keeps, and a server may want it given back.
func (c *Checker) OnChecked(fn func()) { c.checked = fn }

// Run checks at the last day's close, if that was not checked yet, and
// then at every close after, until ctx ends. It starts once ready is
// closed: the book holds the stored events (the first replay is over).
func (c *Checker) Run(ctx context.Context, ready <-chan struct{}, clock func() time.Time) {
	select {
	case <-ctx.Done():
		return
	case <-ready:
	}
	for {
		at := clock().UTC().Truncate(24 * time.Hour)
		if n, err := c.Check(ctx, at); err != nil {
			c.log.Error("metrics: band check failed; trying again at the next close", "close", at, "err", err)
		} else if n > 0 {
			c.log.Info("metrics: band alerts raised", "alerts", n, "close", at)
		}
		if c.checked != nil {
			c.checked()
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Until(at.Add(24*time.Hour + time.Minute))):
		}
	}
}

// Check computes the banded metrics of the windows that close at the day
// boundary at, and raises an alert for each that crossed into a worse
// band, warning or red, since its last check. A window already checked at
// that close is not checked again. It returns the alerts raised.
func (c *Checker) Check(ctx context.Context, at time.Time) (int, error) {
	levels, err := c.db.MetricLevels(ctx)
	if err != nil {
		return 0, err
	}
	src, err := c.m.Sources(ctx)
	if err != nil {
		return 0, err
	}
	var saved []store.MetricLevel
	var alerts []store.Alert
	for _, win := range windows {
		if win.weekly && at.Weekday() != time.Monday {
			continue
		}
		q := Query{From: at.AddDate(0, 0, -win.days), To: at, Names: banded()}
		l, a, err := c.window(src, q, win.name, levels)
		if err != nil {
			return 0, err
		}
		saved, alerts = append(saved, l...), append(alerts, a...)
	}
	if len(saved) == 0 {
		return 0, nil
	}
	if err := c.db.SaveMetricLevels(ctx, saved, alerts); err != nil {
		return 0, err
	}
	if len(alerts) > 0 && c.notify != nil {
		c.notify()
	}
	return len(alerts), nil
}

// window checks one window: the levels to store, and the alerts.
func (c *Checker) window(src Sources, q Query, name string, levels map[string]store.MetricLevel) ([]store.MetricLevel, []store.Alert, error) {
	var saved []store.MetricLevel
	var alerts []store.Alert
	var parts []*Report
	for _, by := range []string{"segment", "channel"} {
		q := q
		q.By = by
		r, _, err := c.m.book.report(src, q, false)
		if err != nil {
			return nil, nil, err
		}
		parts = append(parts, r)
	}
	for i, v := range parts[0].Values {
		key := v.Name + "/" + name
		prev, seen := levels[key]
		if !v.OK || (seen && !prev.CheckedAt.Before(q.To)) {
			continue
		}
		saved = append(saved, store.MetricLevel{Name: key, Level: string(v.Level), Value: v.Value, CheckedAt: q.To})
		if !worse(v.Level, Level(prev.Level)) || v.Level == Good {
			continue
		}
		m := &alert.Metric{Name: v.Name, Label: v.Label, Window: name, From: q.From, To: q.To, Value: v.Value, Text: v.Text(),
			Level: string(v.Level), PreviousLevel: prev.Level, Band: v.Band, MovedMost: movedMost(parts, i)}
		payload, err := json.Marshal(alert.Payload{Metric: m, At: q.To})
		if err != nil {
			return nil, nil, err
		}
		alerts = append(alerts, store.Alert{Scorecard: AlertScorecard, Subject: alertSubject + key, Tier: string(v.Level),
			PreviousTier: prev.Level, Score: v.Value, Actions: []string{"band_alert"}, Payload: payload, CreatedAt: q.To,
			Destinations: c.to})
	}
	return saved, alerts, nil
}

// worse reports whether level a is worse than b ("" is none).
func worse(a, b Level) bool {
	rank := map[Level]int{"": 0, Good: 1, Warning: 2, Red: 3}
	return rank[a] > rank[b]
}

// movedMost is, of the parts of each breakdown, the one whose value of
// metric i moved most from the window before.
func movedMost(parts []*Report, i int) *alert.Moved {
	var best *alert.Moved
	most := 0.0
	for _, r := range parts {
		for _, g := range r.Groups {
			v := g.Values[i]
			if !v.TrendOK || math.Abs(v.Trend) <= most {
				continue
			}
			most = math.Abs(v.Trend)
			before := v
			before.Value -= v.Trend
			best = &alert.Moved{By: r.By, Group: g.Name, Before: before.Text(), After: v.Text()}
		}
	}
	return best
}

// banded are the metrics seed 004 gives bands for.
func banded() []string {
	var out []string
	for _, d := range Defs {
		if len(d.Bands) > 0 {
			out = append(out, d.Name)
		}
	}
	return out
}

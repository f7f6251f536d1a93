package growth

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Query asks for a report: the period [From, To), the metrics (Names;
// empty for all) and a breakdown (By: "", segment, cohort or channel).
type Query struct {
	From, To time.Time
	Names    []string
	By       string
}

// ErrQuery is a query that cannot be answered; the error names the field.
var ErrQuery = errors.New("invalid metrics query")

// Check reports what is wrong with q.
func (q Query) Check() error {
	switch {
	case !q.To.After(q.From):
		return fmt.Errorf("%w: to %s must be after from %s", ErrQuery, q.To.Format(time.DateOnly), q.From.Format(time.DateOnly))
	case q.To.Sub(q.From) > 800*24*time.Hour:
		return fmt.Errorf("%w: from–to spans %d days, at most 800", ErrQuery, int(q.To.Sub(q.From).Hours()/24))
	}
	switch q.By {
	case "", "segment", "cohort", "channel":
	default:
		return fmt.Errorf("%w: by %q: want segment, cohort or channel", ErrQuery, q.By)
	}
	for _, n := range q.Names {
		if defs[n] == nil {
			return fmt.Errorf("%w: names: no metric %q (see docs/metrics.md)", ErrQuery, n)
		}
	}
	return nil
}

// Value is one metric over the period.
type Value struct {
	Name      string  `json:"name"`
	Label     string  `json:"label"`
	Table     string  `json:"table"`
	Unit      string  `json:"unit"`
	Value     float64 `json:"value"`
	OK        bool    `json:"ok"` // defined: false when nothing to measure (no sign-ups, no starting MRR)
	Target    float64 `json:"target"`
	HasTarget bool    `json:"has_target"`
	// Trend is the change from the period of the same length before.
	Trend   float64 `json:"trend"`
	TrendOK bool    `json:"trend_ok"`
	// Level and Band judge it against seed 004's bands, where it has one.
	Level Level  `json:"level"`
	Band  string `json:"band"`
	// OutOf is what a breadth is out of: the core features configured.
	OutOf int `json:"out_of,omitempty"`
}

// Group is one part of a breakdown.
type Group struct {
	Name   string  `json:"name"`
	Values []Value `json:"values"`
}

// Report is the metrics of a period.
type Report struct {
	From   time.Time `json:"from"`
	To     time.Time `json:"to"`
	By     string    `json:"by"`
	Values []Value   `json:"values"`
	Groups []Group   `json:"groups"`
}

// Report computes q's metrics from the book and src.
func (b *Book) Report(src Sources, q Query) (*Report, error) {
	r, _, err := b.report(src, q, false)
	return r, err
}

// report computes q's metrics and, if asked, each segment's retention,
// from one join of the book and src.
func (b *Book) report(src Sources, q Query, retention bool) (*Report, []SegmentNRR, error) {
	if err := q.Check(); err != nil {
		return nil, nil, err
	}
	b.mu.RLock()
	defer b.mu.RUnlock()
	w := b.join(src)
	var segs []SegmentNRR
	if retention {
		segs = w.retention(q.From, q.To)
	}
	return w.report(q), segs, nil
}

// report computes q's metrics.
func (w *world) report(q Query) *Report {
	r := &Report{From: q.From, To: q.To, By: q.By}
	names := q.Names
	if len(names) == 0 {
		for _, d := range Defs {
			names = append(names, d.Name)
		}
	}
	r.Values = w.values(q.From, q.To, nil, names)
	for _, g := range w.groups(q.By) {
		r.Groups = append(r.Groups, Group{Name: g.name, Values: w.values(q.From, q.To, g.keep, names)})
	}
	return r
}

// values computes the named metrics over the accounts keep says, with
// their trend, target and band.
func (w *world) values(from, to time.Time, keep func(*acct) bool, names []string) []Value {
	now, before := w.scope(from, to, keep), w.scope(from.Add(-to.Sub(from)), from, keep)
	out := make([]Value, 0, len(names))
	for _, n := range names {
		d := defs[n]
		v := Value{Name: d.Name, Label: d.Label, Table: d.Table, Unit: d.Unit}
		v.Value, v.OK = d.fn(now)
		if prev, ok := d.fn(before); ok && v.OK {
			v.Trend, v.TrendOK = v.Value-prev, true
		}
		v.Target, v.HasTarget = w.cfg.Targets[n]
		if d.Unit == Breadth {
			v.OutOf = len(w.cfg.CoreFeatures)
		}
		if v.OK {
			v.Level, v.Band = w.judge(d, v.Value)
		}
		out = append(out, v)
	}
	return out
}

// judge places a value in its bands: the worst level, with every band's
// text.
func (w *world) judge(d *Def, v float64) (Level, string) {
	if d.Unit == Seconds {
		v /= 3600 // bands of times are in hours
	}
	var level Level
	var texts []string
	add := func(l Level, t string) {
		if worse(l, level) {
			level = l
		}
		texts = append(texts, t)
	}
	for _, key := range d.Bands {
		if key == "free_to_paid" {
			key += "_" + w.cfg.model()
		}
		if f, ok := funnelBands[key]; ok {
			add(f.Judge(v))
		}
		if q, ok := quickBands[key]; ok {
			l, t := q.Judge(v)
			add(l, fmt.Sprintf("%s, %q: %s", q.Table, q.Question, t))
		}
	}
	return level, strings.Join(texts, " · ")
}

// group is one part of a breakdown and the accounts in it.
type group struct {
	name string
	keep func(*acct) bool
}

// groups are the parts of a breakdown by segment, sign-up month or
// channel, in order.
func (w *world) groups(by string) []group {
	var names []string
	var key func(*acct) string
	switch by {
	case "segment":
		names, key = Segments, func(a *acct) string { return a.segment }
	case "cohort":
		key = func(a *acct) string { return a.cohort }
	case "channel":
		key = func(a *acct) string { return a.channel }
	default:
		return nil
	}
	if names == nil {
		seen := map[string]bool{}
		for _, a := range w.accounts {
			if k := key(a); k != "" && !seen[k] {
				seen[k] = true
				names = append(names, k)
			}
		}
		slices.Sort(names)
	}
	out := make([]group, len(names))
	for i, n := range names {
		out[i] = group{name: n, keep: func(a *acct) bool { return key(a) == n }}
	}
	return out
}

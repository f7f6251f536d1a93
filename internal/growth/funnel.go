package growth

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/beaconplg/beacon/internal/revenue"
)

// Step is one stage of the funnel: the period's sign-ups that reached it
// by the period's end, whatever they skipped (a self-serve buyer may pay
// without ever being a PQL), the rate from the stage before (its count
// over the stage before's), and the median time from the stage before, of
// those that reached both in order.
type Step struct {
	Name   string        `json:"name"`
	Label  string        `json:"label"`
	Count  int           `json:"count"`
	Rate   float64       `json:"rate"` // percent of the stage before; 100 for the first
	RateOK bool          `json:"rate_ok"`
	Median time.Duration `json:"-"`
	// MedianSeconds is Median, for JSON.
	MedianSeconds float64 `json:"median_seconds"`
	MedianOK      bool    `json:"median_ok"`
	Level         Level   `json:"level"`
	Band          string  `json:"band"`
}

// Funnel is the period's funnel, where it leaks first, and the leaking
// stage's rate by segment and by channel.
type Funnel struct {
	From  time.Time `json:"from"`
	To    time.Time `json:"to"`
	Steps []Step    `json:"steps"`
	// Leak is the index of the first stage below its band's low, -1 if
	// none is.
	Leak      int     `json:"leak"`
	BySegment []Group `json:"by_segment"`
	ByChannel []Group `json:"by_channel"`
}

// stages: visitor → sign-up counts people; from sign-up on, accounts.
var stages = []struct{ name, label, band string }{
	{"visitor", "Visitors", ""},
	{"signup", "Signed up", "visitor_to_signup"},
	{"activated", "Activated", "signup_to_activation"},
	{"pql", "PQL", ""},
	{"paid", "Paid", "pql_to_paid"},
	{"expanded", "Expanded", ""},
}

// Funnel computes the funnel of the sign-ups of [from, to).
func (b *Book) Funnel(src Sources, from, to time.Time) (*Funnel, error) {
	if err := (Query{From: from, To: to}).Check(); err != nil {
		return nil, err
	}
	b.mu.RLock()
	defer b.mu.RUnlock()
	w := b.join(src)
	f := &Funnel{From: from, To: to, Steps: w.scope(from, to, nil).funnel(), Leak: -1}
	for i, st := range f.Steps {
		if st.Level == Red {
			f.Leak = i
			break
		}
	}
	if f.Leak < 1 {
		return f, nil
	}
	for _, by := range []string{"segment", "channel"} {
		var gs []Group
		for _, g := range w.groups(by) {
			st := w.scope(from, to, g.keep).funnel()[f.Leak]
			gs = append(gs, Group{Name: g.name, Values: []Value{{Name: st.Name, Label: st.Label, Unit: Percent, Value: st.Rate, OK: st.RateOK, Level: st.Level, Band: st.Band}}})
		}
		if by == "segment" {
			f.BySegment = gs
		} else {
			f.ByChannel = gs
		}
	}
	return f, nil
}

// funnel walks the scope's sign-ups through the stages.
func (s *scope) funnel() []Step {
	visitors, signed := s.visits()
	steps := make([]Step, len(stages))
	for i, st := range stages {
		steps[i].Name, steps[i].Label = st.name, st.label
	}
	steps[0].Count = visitors
	times := make([][]float64, len(stages))
	for _, a := range s.signups() {
		at := []int64{a.signup, a.activated, a.pql, a.paid, a.expanded}
		for k, t := range at {
			if k > 0 && !s.by(t) {
				continue
			}
			steps[k+1].Count++
			if k > 0 && s.by(at[k-1]) && t >= at[k-1] {
				times[k+1] = append(times[k+1], float64(t-at[k-1]))
			}
		}
	}
	for i := 1; i < len(steps); i++ {
		st := &steps[i]
		prev := steps[i-1].Count
		if i == 1 {
			st.Rate, st.RateOK = pct(signed, visitors)
		} else {
			st.Rate, st.RateOK = pct(st.Count, prev)
		}
		if m, ok := median(times[i]); ok {
			st.Median, st.MedianOK, st.MedianSeconds = time.Duration(m)*time.Millisecond, true, m/1000
		}
		if band, ok := funnelBands[stages[i].band]; ok && st.RateOK {
			st.Level, st.Band = band.Judge(st.Rate)
		}
	}
	return steps
}

// Cohorts is a retention grid: for each sign-up month (or week), the
// share of its accounts (or users) active in each month (or week) after
// sign-up, counted from each one's own sign-up day.
type Cohorts struct {
	Unit string      `json:"unit"` // month or week; accounts or users
	Of   string      `json:"of"`   // month or week; accounts or users
	Rows []CohortRow `json:"rows"`
}

// CohortRow is one cohort: its size, and the percentage active in each
// period after sign-up that has ended.
type CohortRow struct {
	Cohort string    `json:"cohort"`
	Size   int       `json:"size"`
	Active []float64 `json:"active"`
}

// Cohorts computes the retention grid of the sign-ups of [from, to), as of
// to: unit is "month" (30 days) or "week", of is "accounts" or "users".
func (b *Book) Cohorts(src Sources, from, to time.Time, unit, of string) (*Cohorts, error) {
	if err := (Query{From: from, To: to}).Check(); err != nil {
		return nil, err
	}
	span, ok := map[string]int32{"month": 30, "week": 7}[unit]
	if !ok || (of != "accounts" && of != "users") {
		return nil, fmt.Errorf("%w: unit %q, of %q: want month or week, accounts or users", ErrQuery, unit, of)
	}
	b.mu.RLock()
	defer b.mu.RUnlock()
	s := b.join(src).scope(from, to, nil)
	type who struct {
		start int32
		act   []*days
	}
	rows := map[string][]who{}
	label := func(ms int64) string {
		t := time.UnixMilli(ms).UTC()
		if unit == "week" {
			y, wk := t.ISOWeek()
			return fmt.Sprintf("%d-W%02d", y, wk)
		}
		return t.Format("2006-01")
	}
	if of == "accounts" {
		for _, a := range s.signups() {
			w := who{start: day(a.signup)}
			for _, p := range a.users {
				w.act = append(w.act, &p.active)
			}
			rows[label(a.signup)] = append(rows[label(a.signup)], w)
		}
	} else {
		for _, p := range s.people {
			if s.in(p.signup) {
				rows[label(p.signup)] = append(rows[label(p.signup)], who{start: day(p.signup), act: []*days{&p.active}})
			}
		}
	}
	c := &Cohorts{Unit: unit, Of: of}
	for name, ws := range rows {
		row := CohortRow{Cohort: name, Size: len(ws)}
		for n := int32(0); ; n++ {
			seen, ended := 0, 0
			for _, w := range ws {
				lo, hi := w.start+n*span, w.start+(n+1)*span
				if hi > s.td {
					continue
				}
				ended++
				for _, a := range w.act {
					if a.any(lo, hi) {
						seen++
						break
					}
				}
			}
			if ended == 0 {
				break
			}
			v, _ := pct(seen, ended)
			row.Active = append(row.Active, v)
		}
		c.Rows = append(c.Rows, row)
	}
	slices.SortFunc(c.Rows, func(x, y CohortRow) int { return strings.Compare(x.Cohort, y.Cohort) })
	return c, nil
}

// SegmentNRR is a segment's retention over a period against seed 004's
// band for it.
type SegmentNRR struct {
	Segment string         `json:"segment"`
	Period  revenue.Period `json:"period"`
	NRR     float64        `json:"nrr"`
	GRR     float64        `json:"grr"`
	OK      bool           `json:"ok"`
	Level   Level          `json:"level"`
	Judged  string         `json:"judged"`
}

// Retention is each segment's NRR and GRR over [from, to).
func (b *Book) Retention(src Sources, from, to time.Time) ([]SegmentNRR, error) {
	if err := (Query{From: from, To: to}).Check(); err != nil {
		return nil, err
	}
	b.mu.RLock()
	defer b.mu.RUnlock()
	return b.join(src).retention(from, to), nil
}

// retention is each segment's NRR and GRR over [from, to).
func (w *world) retention(from, to time.Time) []SegmentNRR {
	var out []SegmentNRR
	for i, g := range w.groups("segment") {
		p := w.scope(from, to, g.keep).retention()
		r := SegmentNRR{Segment: g.name, Period: p}
		r.NRR, r.OK = p.NRR()
		r.GRR, _ = p.GRR()
		if r.OK {
			band := revenue.NRRBands[i]
			r.Judged = band.Judge(r.NRR)
			switch {
			case r.NRR < band.Low:
				r.Level = Red
			case r.NRR < band.Median:
				r.Level = Warning
			default:
				r.Level = Good
			}
		}
		out = append(out, r)
	}
	return out
}

package web

import (
	"cmp"
	"fmt"
	"html/template"
	"slices"
	"strings"
	"time"

	"github.com/beaconplg/beacon/internal/score"
	"github.com/beaconplg/beacon/internal/store"
)

// Charts are SVG drawn on the server from numbers only: nothing a user sent
// goes into their markup but through %g, %d and the labels escaped below.

const chartW, chartH, chartPad = 480.0, 120.0, 6.0

// scoreChart draws a score's history as a step line from its first change to
// now over the card's tier bands; hist is newest first, as the store gives
// it. A single change draws as a point and a level line to now, marked.
func scoreChart(hist []store.ScoreEvent, tiers []score.TierSpec, now time.Time) template.HTML {
	if len(hist) == 0 {
		return ""
	}
	pts := slices.Clone(hist)
	slices.Reverse(pts)
	start := pts[0].At
	span := now.Sub(start)
	if span <= 0 {
		span = time.Hour
	}
	top := 0.0
	for _, p := range pts {
		top = max(top, p.Score)
	}
	for _, t := range tiers {
		top = max(top, t.Min*1.15)
	}
	if top == 0 {
		top = 1
	}
	x := func(t time.Time) float64 { return chartPad + (chartW-2*chartPad)*float64(t.Sub(start))/float64(span) }
	y := func(v float64) float64 { return chartH - chartPad - (chartH-2*chartPad)*max(0, v)/top }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %.0f %.0f" width="%.0f" height="%.0f" role="img" aria-label="%s">`,
		chartW, chartH, chartW, chartH, template.HTMLEscapeString(scoreSummary(pts, now)))
	for i, t := range tiers {
		upper := top
		if i+1 < len(tiers) {
			upper = tiers[i+1].Min
		}
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" class="band band-%d"/>`,
			chartPad, y(upper), chartW-2*chartPad, y(t.Min)-y(upper), i%4)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" class="label">%s %g+</text>`, chartW-chartPad-2, y(t.Min)-3,
			template.HTMLEscapeString(cmp.Or(t.Label, t.Name)), t.Min)
	}
	var path strings.Builder
	for i, p := range pts {
		if i == 0 {
			fmt.Fprintf(&path, "M%.1f %.1f", x(p.At), y(p.Score))
			continue
		}
		fmt.Fprintf(&path, " H%.1f V%.1f", x(p.At), y(p.Score))
	}
	fmt.Fprintf(&path, " H%.1f", x(now))
	fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" class="axis"/><path d="%s" class="line"/>`,
		chartPad, chartH-chartPad, chartW-chartPad, chartH-chartPad, path.String())
	for _, p := range pts {
		fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="3" class="point"/>`, x(p.At), y(p.Score))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) // numbers, and labels escaped above
}

func scoreSummary(pts []store.ScoreEvent, now time.Time) string {
	last := pts[len(pts)-1]
	if len(pts) == 1 {
		return fmt.Sprintf("Score %g since %s, its only change", last.Score, last.At.Format("2006-01-02"))
	}
	return fmt.Sprintf("Score over time: from %g to %g over %d changes since %s", pts[0].Score, last.Score, len(pts),
		pts[0].At.Format("2006-01-02"))
}

// sparkline draws users active a day as small bars, oldest first.
func sparkline(days []int) template.HTML {
	const w, h, gap = 84.0, 20.0, 1.0
	if len(days) == 0 {
		return ""
	}
	top := 1
	for _, n := range days {
		top = max(top, n)
	}
	bw := (w - gap*float64(len(days)-1)) / float64(len(days))
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="spark" viewBox="0 0 %g %g" width="%g" height="%g" role="img" aria-label="Active users a day, last %d days: %s">`,
		w, h, w, h, len(days), joinInts(days))
	for i, n := range days {
		bh := max(1, h*float64(n)/float64(top))
		if n == 0 {
			bh = 1
		}
		class := "on"
		if n == 0 {
			class = "off"
		}
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" class="%s"/>`, float64(i)*(bw+gap), h-bh, bw, bh, class)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) // numbers only
}

// ActivityDays is how far back the 360 view's activity chart goes.
const activityDays = 90

// activityChart draws an account's events a day as bars and its active
// users a day as a line, for the days ending with today.
func activityChart(days []store.DayCount, today time.Time) template.HTML {
	from := today.AddDate(0, 0, -(activityDays - 1))
	events, users := make([]int, activityDays), make([]int, activityDays)
	for _, d := range days {
		if i := int(d.Day.Sub(from).Hours() / 24); i >= 0 && i < activityDays {
			events[i], users[i] = d.Events, d.Users
		}
	}
	maxE, maxU, total := 0, 0, 0
	for i := range events {
		maxE, maxU, total = max(maxE, events[i]), max(maxU, users[i]), total+events[i]
	}
	topE, topU := max(1, maxE), max(1, maxU) // the scale of an empty chart
	const w, h, pad = 900.0, 140.0, 18.0
	bw := (w - 2*pad) / activityDays
	y := func(v, top int) float64 { return h - pad - (h-2*pad)*float64(v)/float64(top) }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="activity" viewBox="0 0 %g %g" width="100%%" height="%g" preserveAspectRatio="none" role="img" `+
		`aria-label="Events a day (bars, up to %d) and active users a day (line, up to %d) over the last %d days: %d events in all">`,
		w, h, h, maxE, maxU, activityDays, total)
	for i, n := range events {
		if n > 0 {
			fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" class="bar"/>`,
				pad+float64(i)*bw, y(n, topE), max(1, bw-1), h-pad-y(n, topE))
		}
	}
	var line strings.Builder
	for i, n := range users {
		cmd := "L"
		if i == 0 {
			cmd = "M"
		}
		fmt.Fprintf(&line, "%s%.1f %.1f ", cmd, pad+(float64(i)+0.5)*bw, y(n, topU))
	}
	fmt.Fprintf(&b, `<path d="%s" class="users"/>`, strings.TrimSpace(line.String()))
	fmt.Fprintf(&b, `<line x1="%g" y1="%g" x2="%g" y2="%g" class="axis"/>`, pad, h-pad, w-pad, h-pad)
	fmt.Fprintf(&b, `<text x="%g" y="%g" class="label">%s</text>`, pad, h-4, from.Format("Jan 2"))
	fmt.Fprintf(&b, `<text x="%g" y="%g" class="label end">%s</text>`, w-pad, h-4, today.Format("Jan 2"))
	fmt.Fprintf(&b, `<text x="%g" y="12" class="label">most in a day: %d events, %d users</text>`, pad, maxE, maxU)
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) // numbers and dates only
}

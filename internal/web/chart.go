package web

import (
	"fmt"
	"html/template"
	"slices"
	"strings"
	"time"

	"github.com/beaconplg/beacon/internal/store"
)

const chartW, chartH, chartPad = 480.0, 120.0, 6.0

// chart draws a score's history as an SVG step line from its first change
// to now; hist is newest first, as the store gives it. Only numbers go into
// the markup.
func chart(hist []store.ScoreEvent, now time.Time) template.HTML {
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
	if top == 0 {
		top = 1
	}
	x := func(t time.Time) float64 { return chartPad + (chartW-2*chartPad)*float64(t.Sub(start))/float64(span) }
	y := func(v float64) float64 { return chartH - chartPad - (chartH-2*chartPad)*v/top }
	var path strings.Builder
	for i, p := range pts {
		if i == 0 {
			fmt.Fprintf(&path, "M%.1f %.1f", x(p.At), y(p.Score))
			continue
		}
		fmt.Fprintf(&path, " H%.1f V%.1f", x(p.At), y(p.Score))
	}
	fmt.Fprintf(&path, " H%.1f", x(now))
	last := pts[len(pts)-1]
	svg := fmt.Sprintf(`<svg class="chart" viewBox="0 0 %.0f %.0f" width="%.0f" height="%.0f" role="img" aria-label="Score over time: from %g to %g over %d changes">`+
		`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" class="axis"/><path d="%s" class="line"/>`+
		`<text x="%.1f" y="12" class="label">%g</text></svg>`,
		chartW, chartH, chartW, chartH, pts[0].Score, last.Score, len(pts),
		chartPad, chartH-chartPad, chartW-chartPad, chartH-chartPad, path.String(), chartPad, top)
	return template.HTML(svg) // built from numbers only
}

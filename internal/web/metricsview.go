package web

import (
	"fmt"
	"html/template"
	"strings"

	"github.com/beaconplg/beacon/internal/growth"
	"github.com/beaconplg/beacon/internal/revenue"
)

// cents writes an amount of cents as dollars.
func cents(c int64) string { return growth.FormatIn(growth.Cents, float64(c), 0) }

// heat is a cohort cell's shade class, by tenths.
func heat(pct float64) string { return fmt.Sprintf("heat-%d", min(9, int(pct/10))) }

// movementsChart draws each month's movements as bars, gains above the
// axis and losses below, with the MRR at each month's end as a line.
func movementsChart(months []growth.MonthMoves) template.HTML {
	if len(months) == 0 {
		return ""
	}
	const w, h, pad, axis = 640.0, 220.0, 8.0, 130.0
	up, down, top := 1.0, 1.0, 1.0
	for _, m := range months {
		up = max(up, float64(m.Kinds[revenue.New]+m.Kinds[revenue.Expansion]+m.Kinds[revenue.Reactivation]))
		down = max(down, float64(m.Kinds[revenue.Contraction]+m.Kinds[revenue.Churn]))
		top = max(top, float64(m.MRR))
	}
	scale := min((axis-2*pad)/up, (h-axis-20)/down)
	slot := (w - 2*pad) / float64(len(months))
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart moves" viewBox="0 0 %.0f %.0f" width="%.0f" height="%.0f" role="img" aria-label="MRR movements by month">`, w, h, w, h)
	fmt.Fprintf(&b, `<line class="axis" x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f"/>`, pad, w-pad, axis, axis)
	var line strings.Builder
	for i, m := range months {
		x := pad + slot*float64(i) + slot*0.2
		bw := slot * 0.6
		y := axis
		for _, k := range []revenue.Kind{revenue.New, revenue.Expansion, revenue.Reactivation} {
			hgt := float64(m.Kinds[k]) * scale
			y -= hgt
			fmt.Fprintf(&b, `<rect class="mv-%s" x="%.1f" y="%.1f" width="%.1f" height="%.1f"><title>%s %s: %s</title></rect>`, k, x, y, bw, hgt, m.Month, k, cents(m.Kinds[k]))
		}
		y = axis
		for _, k := range []revenue.Kind{revenue.Contraction, revenue.Churn} {
			hgt := float64(m.Kinds[k]) * scale
			fmt.Fprintf(&b, `<rect class="mv-%s" x="%.1f" y="%.1f" width="%.1f" height="%.1f"><title>%s %s: %s</title></rect>`, k, x, y, bw, hgt, m.Month, k, cents(m.Kinds[k]))
			y += hgt
		}
		ly := pad + (axis-2*pad)*(1-float64(m.MRR)/top)
		if i > 0 {
			line.WriteString(" L")
		} else {
			line.WriteString("M")
		}
		fmt.Fprintf(&line, "%.1f %.1f", x+bw/2, ly)
		fmt.Fprintf(&b, `<text class="label" x="%.1f" y="%.1f">%s</text>`, x+bw, h-4, m.Month)
	}
	fmt.Fprintf(&b, `<path class="line" d="%s"/>`, line.String())
	last := months[len(months)-1]
	fmt.Fprintf(&b, `<text class="label" x="%.1f" y="%.1f">MRR %s</text></svg>`, w-pad, pad+10, cents(last.MRR))
	return template.HTML(b.String())
}

// funnelChart draws the funnel's stages as bars, each as wide as its
// share of the first stage from sign-up on; the leak is marked.
func funnelChart(f *growth.Funnel) template.HTML {
	if len(f.Steps) < 2 || f.Steps[1].Count == 0 {
		return ""
	}
	const w, row, pad, labelW = 640.0, 34.0, 6.0, 110.0
	h := row*float64(len(f.Steps)-1) + 2*pad
	base := float64(f.Steps[1].Count)
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart funnel" viewBox="0 0 %.0f %.0f" width="%.0f" height="%.0f" role="img" aria-label="Funnel from sign-up to expansion">`, w, h, w, h)
	for i, st := range f.Steps[1:] {
		y := pad + row*float64(i)
		bw := (w - labelW - 2*pad) * float64(st.Count) / base
		class := "stage"
		if i+1 == f.Leak {
			class += " leak"
		}
		fmt.Fprintf(&b, `<text class="label start" x="%.1f" y="%.1f">%s</text>`, pad, y+row/2+4, template.HTMLEscapeString(st.Label))
		fmt.Fprintf(&b, `<rect class="%s" x="%.1f" y="%.1f" width="%.1f" height="%.1f"/>`, class, labelW, y+4, max(bw, 1), row-8)
		fmt.Fprintf(&b, `<text class="label start" x="%.1f" y="%.1f">%s</text>`, labelW+max(bw, 1)+4, y+row/2+4, growth.FormatIn(growth.Count, float64(st.Count), 0))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

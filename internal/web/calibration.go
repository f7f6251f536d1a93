package web

import (
	"context"
	"fmt"
	"html/template"
	"net/http"
	"strings"

	"github.com/beaconplg/beacon/internal/calibration"
)

// Calibration gives the calibration page's report: whether the rules in
// force fit this product, and what the conversions propose instead.
type Calibration interface {
	Report(ctx context.Context) (*calibration.Report, error)
}

type calibrationData struct {
	chrome
	R          *calibration.Report
	Chart      template.HTML
	ModelChart template.HTML
	Strongest  []calibration.Feature
}

// calibrationPage shows the rules in force backtested week by week
// against seed 004's bands, the discovery table, the proposed rubric to
// download, and both judged out of sample.
func (w *Web) calibrationPage(rw http.ResponseWriter, r *http.Request, v viewer) {
	rep, err := w.calib.Report(r.Context())
	if err != nil {
		w.fail(rw, err)
		return
	}
	d := calibrationData{chrome: chromeOf(v), R: rep}
	if rep.Over != nil {
		d.Chart = precisionChart(rep.Over.CutOffs)
	}
	if m := rep.Model; m != nil {
		d.ModelChart = decileChart(m.Deciles)
		d.Strongest = m.Strongest(8)
	}
	w.render(rw, http.StatusOK, "calibration", d)
}

// proposalFile sends the proposed rubric as beacon.yaml.
func (w *Web) proposalFile(rw http.ResponseWriter, r *http.Request, v viewer) {
	rep, err := w.calib.Report(r.Context())
	if err != nil {
		w.fail(rw, err)
		return
	}
	if len(rep.Proposal) == 0 {
		w.message(rw, http.StatusNotFound, v, "No proposal", strings.Join(rep.Why, "; "))
		return
	}
	rw.Header().Set("Content-Type", "application/yaml; charset=utf-8")
	rw.Header().Set("Content-Disposition", `attachment; filename="beacon.yaml"`)
	_, _ = rw.Write(rep.Proposal)
}

// precisionChart draws each tier's conversion within the horizon, cut-off
// by cut-off, over seed 004's bands: 25-30 % the target, 15 % too loose,
// 40 % too tight; the base rate dotted.
func precisionChart(snaps []calibration.Snapshot) template.HTML {
	if len(snaps) == 0 {
		return ""
	}
	top := calibration.SeedTight * 1.25
	for _, s := range snaps {
		for _, t := range s.Tiers {
			top = max(top, t.Precision*1.1)
		}
	}
	n := max(len(snaps)-1, 1)
	x := func(i int) float64 { return chartPad + (chartW-2*chartPad)*float64(i)/float64(n) }
	y := func(v float64) float64 { return chartH - chartPad - (chartH-2*chartPad)*v/top }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart calibration" viewBox="0 0 %.0f %.0f" width="%.0f" height="%.0f" role="img" aria-label="Conversion within the horizon by tier, cut-off by cut-off, against seed 004's 25-30 %% target">`,
		chartW, chartH, chartW, chartH)
	fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" class="band band-2"/>`, chartPad, y(calibration.SeedTargetHigh),
		chartW-2*chartPad, y(calibration.SeedTargetLow)-y(calibration.SeedTargetHigh))
	for _, l := range []struct {
		v    float64
		text string
	}{{calibration.SeedLoose, "15 % too loose"}, {calibration.SeedTargetHigh, "25-30 % target"}, {calibration.SeedTight, "40 % too tight"}} {
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" class="rule"/><text x="%.1f" y="%.1f" class="label">%s</text>`,
			chartPad, y(l.v), chartW-chartPad, y(l.v), chartW-chartPad-2, y(l.v)-3, l.text)
	}
	base := make([]float64, len(snaps))
	for i, s := range snaps {
		base[i] = s.Rate()
	}
	fmt.Fprintf(&b, `<path d="%s" class="line base"/>`, polyline(x, y, base, nil))
	// Every snapshot lists the card's tiers in one order: a tier's place
	// is its colour, as in the legend.
	for j, t := range snaps[0].Tiers {
		if t.Tier == "" {
			continue
		}
		vs, held := make([]float64, len(snaps)), make([]bool, len(snaps))
		for i, s := range snaps {
			vs[i], held[i] = s.Tiers[j].Precision, s.Tiers[j].Held > 0
		}
		fmt.Fprintf(&b, `<path d="%s" class="line cl-%d"><title>%s</title></path>`, polyline(x, y, vs, held), j%4, template.HTMLEscapeString(t.Tier))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) // numbers, fixed words, and tier names escaped above
}

// polyline draws vs as a path, broken where shown is false (a tier that
// held nobody at a cut-off has no precision).
func polyline(x func(int) float64, y func(float64) float64, vs []float64, shown []bool) string {
	var p strings.Builder
	pen := false
	for i, v := range vs {
		if shown != nil && !shown[i] {
			pen = false
			continue
		}
		move := " L"
		if !pen {
			move = " M"
		}
		fmt.Fprintf(&p, "%s%.1f %.1f", move, x(i), y(v))
		pen = true
	}
	return strings.TrimSpace(p.String())
}

// decileChart draws a model's calibration: each tenth of its predictions,
// what it predicted against what happened, over the diagonal a perfect
// model would sit on.
func decileChart(ds []calibration.Decile) template.HTML {
	if len(ds) == 0 {
		return ""
	}
	top := 0.05
	for _, d := range ds {
		top = max(top, d.Predicted*1.1, d.Observed*1.1)
	}
	const side = chartH * 1.5
	at := func(v float64) float64 { return chartPad + (side-2*chartPad)*v/top }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart model" viewBox="0 0 %.0f %.0f" width="%.0f" height="%.0f" role="img" aria-label="Predicted against observed, by tenth of prediction">`,
		side, side, side, side)
	fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" class="rule"/>`, at(0), side-at(0), at(top), side-at(top))
	for _, d := range ds {
		fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="4" class="point"><title>predicted %.1f %%, observed %.1f %% of %d</title></circle>`,
			at(d.Predicted), side-at(d.Observed), 100*d.Predicted, 100*d.Observed, d.N)
	}
	fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" class="label">predicted →</text></svg>`, side-chartPad, side-chartPad-2)
	return template.HTML(b.String()) // numbers and fixed words only
}

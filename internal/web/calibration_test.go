package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/beaconplg/beacon/internal/calibration"
	"github.com/beaconplg/beacon/internal/web"
)

type report struct{ r *calibration.Report }

func (f report) Report(context.Context) (*calibration.Report, error) { return f.r, nil }

// The calibration page with a model (a product past 1,000 conversions):
// its AUC, its calibration by tenths as a chart and a table, its strongest
// features and the accounts most likely to pay, each with its reasons;
// and without a proposal, no download but the reason why.
func TestCalibrationPageModel(t *testing.T) {
	m := &calibration.Model{Conversions: 1400, TrainSamples: 9000, TrainPaid: 700, TrainUntil: "2026-10-01",
		ValidSamples: 4000, ValidPaid: 320, AUC: 0.781,
		Features: []calibration.Feature{{Signal: "Invite Sent", Weight: 0.9}, {Signal: "Theme Changed", Weight: -0.05}, {Signal: "(active days)", Weight: -0.4}},
		Top:      []calibration.Propensity{{Account: "ws-7", Probability: 0.64, Reasons: []calibration.Contribution{{Signal: "Invite Sent", Value: 4, LogOdd: 1.3}}}}}
	for i := range 10 {
		m.Deciles = append(m.Deciles, calibration.Decile{N: 400, Predicted: 0.02 * float64(i+1), Observed: 0.021 * float64(i+1)})
	}
	rep := &calibration.Report{At: time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC), LastDay: "2026-12-06", Conversions: 1400,
		Advice: "1400 conversions in all: past seed 004's 1000, a model may be trained beside the rules", Model: m,
		Why: []string{"discover: no behaviour sets the 50 conversions apart from the 500 accounts compared: nothing to propose"}}
	srv, _ := site(t, func(d *web.Deps) { d.Calibration = report{rep} })
	c := signedIn(t, srv)
	resp, _ := c.Get(srv.URL + "/calibration")
	page := body(t, resp)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%d:\n%s", resp.StatusCode, page)
	}
	for _, want := range []string{"A model beside the rules", "<strong>0.781</strong>", `class="chart model"`, "trained on 9000 account-days (700 paid) up to 2026-10-01",
		"Invite Sent", "&#43;0.90", "-0.40", `<a href="/accounts/ws-7">ws-7</a> 64 %: Invite Sent 4 (&#43;1.30)`, "nothing to propose"} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if strings.Index(page, "-0.40") > strings.Index(page, "-0.05") {
		t.Error("the strongest features are not strongest first, either way")
	}
	if strings.Count(page, `class="point"`) != 10 || strings.Contains(page, "Download beacon.yaml") {
		t.Errorf("%d points in the calibration chart; a download without a proposal: %v", strings.Count(page, `class="point"`), strings.Contains(page, "Download"))
	}
	resp, _ = c.Get(srv.URL + "/calibration/beacon.yaml")
	if got := body(t, resp); resp.StatusCode != http.StatusNotFound || !strings.Contains(got, "nothing to propose") {
		t.Errorf("the proposal without one: %d", resp.StatusCode)
	}
}

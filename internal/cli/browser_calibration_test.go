package cli

import (
	"strings"
	"testing"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/beaconplg/beacon/internal/score"
)

// In Chromium, on a demo world with drivers, the calibration page: the rules in force
// backtested week by week against seed 004's bands, in a chart and a
// table with the diagnosis in words, and the other cards' tiers against
// payment, expansion and churn; seed 004's word on a model; what
// comes before a conversion and the proposed rubric, which downloads as a
// beacon.yaml that compiles. The page is saved as a screenshot, and so is
// the queue of grade A accounts (fit × engagement).
func TestBrowserCalibration(t *testing.T) {
	exec := chromium(t)
	a := newTestApp()
	a.demoMetrics()
	base, db, secrets := serveWorld(t, a, driverWorlds, 300, t.TempDir())
	waitOpenAlerts(t, db) // replayed: the evidence book holds the stored events
	br := newBrowser(t, exec)
	page := br.signIn(base, secrets.email, secrets.password,
		chromedp.Navigate(base+"/calibration"),
		chromedp.WaitVisible(`#advice`, chromedp.ByQuery),
		br.fullShot("calibration.png"))
	for _, want := range []string{"The rules in force, week by week", `class="chart calibration"`, "25-30 % target",
		"PQLs convert at", "fewer than the 1000 seed 004 asks before a model", "What comes before a conversion",
		"activation milestone \"Project Created\"", "Out of sample: the rules in force against a proposal",
		"The activation milestone", "by weekly cohort of new users", "Download beacon.yaml",
		"The other scorecards", "<caption>fit: ", "<caption>grade: "} {
		if !strings.Contains(page, want) {
			t.Fatalf("the calibration page has no %q:\n%s", want, page)
		}
	}
	var yaml string
	br.run("the proposal",
		chromedp.Evaluate(`fetch('/calibration/beacon.yaml').then(r => r.text())`, &yaml,
			func(p *runtime.EvaluateParams) *runtime.EvaluateParams { return p.WithAwaitPromise(true) }))
	sp, err := score.ParseFile([]byte(yaml), "beacon.yaml")
	if err != nil {
		t.Fatalf("the proposal does not parse: %v\n%s", err, yaml)
	}
	if _, err := score.Compile(*sp); err != nil || !strings.Contains(yaml, "Proposed by beacon discover") {
		t.Fatalf("the proposal: %v\n%s", err, yaml)
	}
	// The grade's queue, filtered to grade A: fit × engagement, reasons of
	// both sides.
	page = br.run("the grade A queue",
		chromedp.Navigate(base+"/?scorecard=grade&tier=a"),
		chromedp.WaitVisible(`table.queue`, chromedp.ByQuery),
		br.shot("grade-queue.png"))
	for _, want := range []string{"Fit × engagement queue", "Grade A", "Fit: ", "Engagement: "} {
		if !strings.Contains(page, want) {
			t.Fatalf("the grade A queue has no %q:\n%s", want, page)
		}
	}
	if a, rows := strings.Count(page, `class="tier tier-a"`), strings.Count(page, `class="tier tier-`); a == 0 || a != rows {
		t.Fatalf("the grade A queue holds %d of grade A in %d rows:\n%s", a, rows, page)
	}
	br.save()
}

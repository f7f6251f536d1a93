package cli

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/beaconplg/beacon/internal/store"
)

// In Chromium, on the demo world, the metrics: the dashboard with seed
// 002's tables and the revenue table, a metric broken down by segment, the
// funnel, the cohort grid, and a paying account's revenue. Each page is
// saved as a screenshot.
func TestBrowserMetrics(t *testing.T) {
	exec := chromium(t)
	a := newTestApp()
	a.demoMetrics()
	base, db, secrets := serveDemo(t, a, 300, t.TempDir())
	waitOpenAlerts(t, db) // scored: PQLs are in the funnel
	br := newBrowser(t, exec)
	// The whole demo world: its 90 days and a margin.
	from := "from=" + time.Now().AddDate(0, 0, -120).Format(time.DateOnly)

	page := br.signIn(base, secrets.email, secrets.password,
		chromedp.Navigate(base+"/dashboard?"+from),
		chromedp.WaitVisible(`#t-monetization`, chromedp.ByQuery),
		br.fullShot("dashboard.png"))
	for _, want := range []string{"Acquisition metrics", "Monthly Signups", "Day 1 Activation Rate", "DAU/MAU Ratio (Stickiness)",
		"PQL to Customer Rate", "Net revenue retention by segment", `class="chart moves"`, "Visitor-to-Signup typical band (3-5%)"} {
		if !strings.Contains(page, want) {
			t.Fatalf("the dashboard has no %q:\n%s", want, page)
		}
	}
	page = br.run("a breakdown",
		chromedp.Click(`#t-monetization ~ table a[href*="names=free_to_paid"][href*="by=segment"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`h2`, chromedp.ByQuery))
	if !strings.Contains(page, "Free-to-Paid Conversion by segment") || !strings.Contains(page, ">mid-market</th>") {
		t.Fatalf("the breakdown by segment:\n%s", page)
	}
	page = br.run("funnel",
		chromedp.Navigate(base+"/dashboard/funnel?"+from),
		chromedp.WaitVisible(`svg.funnel`, chromedp.ByQuery),
		br.fullShot("funnel.png"))
	for _, want := range []string{"Signed up", "Activated", ">PQL<", "Paid", "Signup-to-Activation"} {
		if !strings.Contains(page, want) {
			t.Fatalf("the funnel has no %q:\n%s", want, page)
		}
	}
	page = br.run("cohorts",
		chromedp.Navigate(base+"/dashboard/cohorts?"+from),
		chromedp.WaitVisible(`table.cohorts`, chromedp.ByQuery),
		br.fullShot("cohorts.png"))
	if !strings.Contains(page, "heat-9") || !strings.Contains(page, "month 0") {
		t.Fatalf("the cohort grid:\n%s", page)
	}

	paying := payingAccount(t, db)
	page = br.run("an account's revenue",
		chromedp.Navigate(base+"/accounts/"+paying+"#revenue"),
		chromedp.WaitVisible(`#revenue`, chromedp.ByQuery),
		chromedp.ScrollIntoView(`#revenue`, chromedp.ByQuery),
		br.shot("account-revenue.png"))
	if !strings.Contains(page, "Linked by") || !strings.Contains(page, ">new<") || !strings.Contains(page, "price_") {
		t.Fatalf("the revenue of %s:\n%s", paying, page)
	}
	br.save()
}

// payingAccount is the workspace of the first subscription the demo's
// billing made (the demo names its customers cus_ and the workspace).
func payingAccount(t *testing.T, db *store.DB) string {
	t.Helper()
	evs, err := db.BillingEvents(context.Background(), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range evs {
		if e.Type == "customer.subscription.created" {
			return strings.TrimPrefix(e.Customer, "cus_")
		}
	}
	t.Fatal("the demo world has no subscription")
	return ""
}

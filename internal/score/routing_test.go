package score_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/beaconplg/beacon/internal/score"
	"github.com/beaconplg/beacon/internal/signal"
	"github.com/beaconplg/beacon/internal/store"
)

type routeRow struct {
	row     string // the seed's words
	account store.Account
	zone    string
	// tier → the labels of the actions taken, in order
	actions map[string][]string
}

const (
	nurtureOnly = "Product-led nurture only (in-app prompts, email sequences); sales does not engage"
	upgradeApp  = "In-app upgrade prompt at the limit; credit card, no sales involvement"
	toSDR       = "Route to SDR for qualification outreach; automated nurture continues"
	toAE        = "Route immediately to an AE; respond in under 1 hour"
	toProposal  = "Send the usage data to the account's AE to inform the proposal"
	ownerAlert  = "Alert the account owner with the usage data; do not route to self-serve"
)

func checkRoutes(t *testing.T, r *score.Rules, rows []routeRow) {
	t.Helper()
	for _, tc := range rows {
		t.Run(tc.row, func(t *testing.T) {
			for tier, want := range tc.actions {
				rt, err := r.RouteFor(tier, nil, signal.Day(now), score.Facts{Account: tc.account})
				if err != nil {
					t.Fatal(err)
				}
				var got []string
				for _, name := range rt.Actions {
					a, ok := r.Routing.Action(name)
					if !ok {
						t.Fatalf("unknown action %q", name)
					}
					got = append(got, a.Label)
				}
				if rt.Zone != tc.zone || fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("%s: zone %s, actions %q; want zone %s, actions %q", tier, rt.Zone, got, tc.zone, want)
				}
			}
		})
	}
}

// Seed 004, "Segment-by-Segment Motion Design" and "Tier Thresholds", row by
// row, with edge case 1 ("co-existence").
func TestRouting150(t *testing.T) {
	r := rules(t, "pql-150")
	checkRoutes(t, r, []routeRow{
		{"SMB (1-50 employees): Self-serve; in-app upgrade, credit card; sales role: none",
			store.Account{Employees: 50}, score.ZoneSelfServe, map[string][]string{
				"watching": {nurtureOnly}, "warm": {nurtureOnly, upgradeApp}, "hot": {upgradeApp}, "": nil}},
		{"An account of unknown size is treated as SMB",
			store.Account{}, score.ZoneSelfServe, map[string][]string{"hot": {upgradeApp}}},
		{"Mid-market (51-500 employees): Self-serve + sales-assist; PQL triggers SDR outreach",
			store.Account{Employees: 51}, score.ZoneSalesAvailable, map[string][]string{
				"watching": {nurtureOnly}, "warm": {toSDR}, "hot": {toAE}}},
		{"Mid-market, upper bound",
			store.Account{Employees: 500}, score.ZoneSalesAvailable, map[string][]string{"warm": {toSDR}}},
		{"Enterprise (500+ employees): Sales-led with PLG evaluation; usage data informs proposal",
			store.Account{Employees: 501}, score.ZoneSalesRequired, map[string][]string{
				"watching": {toProposal}, "warm": {toProposal}, "hot": {toAE}}},
		{"Edge case 1: a sign-up matching a CRM account with an open opportunity is not routed to self-serve; its AE is alerted with usage data",
			store.Account{Employees: 20, OpenOpportunity: true}, score.ZoneSalesRequired, map[string][]string{
				"watching": {toProposal, ownerAlert}, "hot": {toAE, ownerAlert}}},
		{"Edge case 1: accounts in named enterprise lists are excluded from PLG-first treatment",
			store.Account{Employees: 20, Named: true}, score.ZoneSalesRequired, map[string][]string{"warm": {toProposal, ownerAlert}}},
		{"Edge case 1: a mid-market account with an open opportunity goes to its owner too",
			store.Account{Employees: 200, OpenOpportunity: true}, score.ZoneSalesAvailable, map[string][]string{
				"hot": {toAE, ownerAlert}}},
	})
	// Self-serve accounts never reach sales, whatever their tier.
	for _, tier := range []string{"watching", "warm", "hot"} {
		for _, name := range r.Spec.Routing.Zones[score.ZoneSelfServe].Tiers[tier] {
			a, _ := r.Routing.Action(name)
			if strings.Contains(a.Label, "SDR") || strings.Contains(a.Label, "AE") {
				t.Errorf("self-serve %s: %q involves sales", tier, a.Label)
			}
		}
	}
}

// Seed 002, "PQL Routing Logic", band by band.
func TestRouting100(t *testing.T) {
	checkRoutes(t, rules(t, "pql-100"), []routeRow{
		{"0-40 points: Nurture with automated email campaigns and in-product tips",
			store.Account{Employees: 10}, score.ZoneSalesAvailable, map[string][]string{
				"nurture": {"Nurture with automated email campaigns and in-product tips"}}},
		{"41-64 points: Enroll in targeted upgrade campaigns, unlock premium trial",
			store.Account{Employees: 10}, score.ZoneSalesAvailable, map[string][]string{
				"upgrade_campaign": {"Enroll in targeted upgrade campaigns, unlock premium trial"}}},
		{"65-99 points: Assign to inside sales for assisted conversion",
			store.Account{Employees: 300}, score.ZoneSalesAvailable, map[string][]string{
				"inside_sales": {"Assign to inside sales for assisted conversion"}}},
		{"100+ points: Priority routing to account executives, white-glove onboarding",
			store.Account{Employees: 3000}, score.ZoneSalesAvailable, map[string][]string{
				"account_executive": {"Priority routing to account executives, white-glove onboarding"}}},
		{"Co-existence: a named account's owner hears of it",
			store.Account{Named: true}, score.ZoneSalesAvailable, map[string][]string{
				"nurture": {"Nurture with automated email campaigns and in-product tips", ownerAlert}}},
	})
}

// An account scored on the routing card carries its route; other cards and
// cards that do not apply carry none.
func TestEvaluateRoutes(t *testing.T) {
	r := rules(t, "pql-150")
	res := evaluate(t, r, "pql", []act{track(40, "Project Created", "project_count", 1)}, score.Facts{Account: store.Account{Employees: 300}})
	if res.Tier != "watching" || res.Route == nil || res.Route.Segment != "mid_market" || !slices.Equal(res.Route.Actions, []string{"product_nurture"}) {
		t.Fatalf("tier %q, route %+v", res.Tier, res.Route)
	}
	if other := evaluate(t, r, "health", nil, score.Facts{}); other.Route != nil {
		t.Errorf("health carries a route: %+v", other.Route)
	}
}

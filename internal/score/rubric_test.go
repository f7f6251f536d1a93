package score_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/beaconplg/beacon/internal/event"
	"github.com/beaconplg/beacon/internal/score"
	"github.com/beaconplg/beacon/internal/signal"
	"github.com/beaconplg/beacon/internal/store"
)

// now is the day scores are evaluated on in these tests.
var now = time.Date(2026, 3, 31, 12, 0, 0, 0, time.UTC)

// act is one event some days before now; user picks the actor (0 or 1).
type act struct {
	user  int
	days  int
	typ   string
	name  string
	props map[string]any
}

func track(days int, name string, props ...any) act {
	return act{days: days, typ: event.Track, name: name, props: kv(props)}
}

func page(days int, name string) act { return act{days: days, typ: event.Page, name: name} }

func kv(p []any) map[string]any {
	m := map[string]any{}
	for i := 0; i+1 < len(p); i += 2 {
		m[p[i].(string)] = p[i+1]
	}
	return m
}

// on repeats an act on each of days.
func on(a act, days ...int) []act {
	out := make([]act, len(days))
	for i, d := range days {
		out[i] = a
		out[i].days = d
	}
	return out
}

func times(n int, a act) []act {
	out := make([]act, n)
	for i := range out {
		out[i] = a
	}
	return out
}

func rules(t testing.TB, preset string) *score.Rules {
	t.Helper()
	sp, err := score.Preset(preset)
	if err != nil {
		t.Fatal(err)
	}
	r, err := score.Compile(*sp)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// evaluate feeds acts to fresh rollups and scores the one account they make.
func evaluate(t *testing.T, r *score.Rules, card string, acts []act, f score.Facts) score.Result {
	t.Helper()
	roll := signal.NewRollups(r.Signals)
	for i, a := range acts {
		props, _ := json.Marshal(a.props)
		e := event.Event{Type: a.typ, Name: a.name, Timestamp: now.AddDate(0, 0, -a.days).Add(time.Duration(i) * time.Second),
			Properties: props}
		roll.Add(fmt.Sprint(a.user), &e)
	}
	if f.Members == 0 {
		f.Members = 1
	}
	res, err := r.Evaluate(score.OfAccount, []*signal.Actor{roll.Actor("0"), roll.Actor("1")}, signal.Day(now), f)
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range res {
		if x.Card == card {
			return x
		}
	}
	t.Fatalf("no %s result", card)
	return score.Result{}
}

type row struct {
	criterion string
	acts      []act
	facts     score.Facts
	want      map[string]float64 // rule → points the seed gives it
}

func check(t *testing.T, r *score.Rules, card string, rows []row) {
	for _, tc := range rows {
		t.Run(tc.criterion, func(t *testing.T) {
			res := evaluate(t, r, card, tc.acts, tc.facts)
			got := map[string]float64{}
			total := 0.0
			for _, reason := range res.Reasons {
				got[reason.Rule] = reason.Points
				total += reason.Points
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) || res.Score != total {
				t.Fatalf("reasons %v (score %g), want %v", res.Reasons, res.Score, tc.want)
			}
		})
	}
}

var icp = store.Account{Employees: 200, Industry: "Software"}

// Seed 004, "Example PQL Scoring Rubric", row by row.
func TestRubric150(t *testing.T) {
	r := rules(t, "pql-150")
	var all []act
	all = append(all, track(40, "Project Created", "project_count", 1))
	all = append(all, on(track(0, "Signed In"), 40, 39, 38, 37, 36)...)
	all = append(all, track(1, "API Calls Metered", "calls", 800))
	all = append(all, times(2, track(5, "Invite Sent"))...)
	all = append(all, track(2, "Signed In"), act{user: 1, days: 3, typ: event.Track, name: "Signed In"})
	all = append(all, page(6, "Pricing"), track(7, "Support Ticket Created"))
	check(t, r, "pql", []row{
		{"Completed core workflow (e.g., created project, sent campaign): 30 pts",
			[]act{track(40, "Project Created", "project_count", 1)}, score.Facts{}, map[string]float64{"core_workflow": 30}},
		{"Used product on 5+ distinct days in trial: 20 pts",
			on(track(0, "Signed In"), 40, 39, 35, 30, 28), score.Facts{}, map[string]float64{"active_days_in_trial": 20}},
		{"Used product on 4 distinct days in trial: no points",
			on(track(0, "Signed In"), 40, 39, 35, 30), score.Facts{}, map[string]float64{}},
		{"Hit > 50% of free tier usage quota (API calls): 15 pts",
			[]act{track(1, "API Calls Metered", "calls", 501)}, score.Facts{}, map[string]float64{"free_quota": 15}},
		{"Hit exactly 50% of free tier usage quota: no points",
			[]act{track(1, "API Calls Metered", "calls", 500)}, score.Facts{}, map[string]float64{}},
		{"Hit > 50% of free tier usage quota (seats: 2 of 3): 15 pts",
			nil, score.Facts{Members: 2}, map[string]float64{"free_quota": 15}},
		{"Invited 2+ teammates: 25 pts",
			times(2, track(5, "Invite Sent")), score.Facts{}, map[string]float64{"invited_teammates": 25}},
		{"Invited 1 teammate: no points",
			times(1, track(5, "Invite Sent")), score.Facts{}, map[string]float64{}},
		{"Multiple users from same account active: 20 pts",
			[]act{track(2, "Signed In"), {user: 1, days: 3, typ: event.Track, name: "Signed In"}}, score.Facts{},
			map[string]float64{"multiple_users_active": 20}},
		{"Company matches ICP (size, industry, tech stack): 15 pts",
			nil, score.Facts{Account: icp}, map[string]float64{"icp_fit": 15}},
		{"Company matches ICP size only: no points",
			nil, score.Facts{Account: store.Account{Employees: 200, Industry: "Retail"}}, map[string]float64{}},
		{"Business email domain (not gmail/outlook): 5 pts",
			nil, score.Facts{BusinessEmail: true}, map[string]float64{"business_email": 5}},
		{"Viewed pricing page: 10 pts",
			[]act{page(6, "Pricing")}, score.Facts{}, map[string]float64{"viewed_pricing": 10}},
		{"Contacted support or used live chat: 10 pts",
			[]act{track(7, "Support Ticket Created")}, score.Facts{}, map[string]float64{"contacted_support": 10}},
		{"Total: 150 pts max",
			all, score.Facts{Account: icp, BusinessEmail: true}, map[string]float64{"core_workflow": 30,
				"active_days_in_trial": 20, "free_quota": 15, "invited_teammates": 25, "multiple_users_active": 20,
				"icp_fit": 15, "business_email": 5, "viewed_pricing": 10, "contacted_support": 10}},
		{"A paying account leaves the PQL queue",
			[]act{track(1, "Plan Upgraded", "seats", 3), page(2, "Pricing")}, score.Facts{}, map[string]float64{}},
	})
}

// Seed 002, "Product Qualification Scoring Model", row by row.
func TestRubric100(t *testing.T) {
	r := rules(t, "pql-100")
	check(t, r, "pql", []row{
		{"Completed onboarding flow: 10", []act{track(3, "Onboarding Completed")}, score.Facts{},
			map[string]float64{"onboarding": 10}},
		{"Invited team members (1-3): 15 (one)", times(1, track(3, "Invite Sent")), score.Facts{},
			map[string]float64{"invited_1_3": 15}},
		{"Invited team members (1-3): 15 (three)", times(3, track(3, "Invite Sent")), score.Facts{},
			map[string]float64{"invited_1_3": 15}},
		{"Invited team members (4+): 25", times(4, track(3, "Invite Sent")), score.Facts{},
			map[string]float64{"invited_4_plus": 25}},
		{"Connected integration: 20", []act{track(3, "Integration Connected")}, score.Facts{},
			map[string]float64{"integration": 20}},
		{"5+ days active (first 14 days): 15", on(track(0, "Signed In"), 50, 48, 46, 44, 37), score.Facts{},
			map[string]float64{"active_5_of_14": 15}},
		{"5 days active, the fifth on day 15: no points", on(track(0, "Signed In"), 50, 48, 46, 44, 36), score.Facts{},
			map[string]float64{}},
		{"Used 3+ core features: 20",
			[]act{track(3, "Report Viewed"), track(3, "Comment Added"), track(3, "Dashboard Shared")}, score.Facts{},
			map[string]float64{"core_features": 20}},
		{"Used 2 core features, one twice: no points",
			[]act{track(3, "Report Viewed"), track(3, "Comment Added"), track(2, "Comment Added")}, score.Facts{},
			map[string]float64{}},
		{"Created 10+ items/projects: 15 (the first completes onboarding)", times(10, track(3, "Project Created")),
			score.Facts{}, map[string]float64{"onboarding": 10, "items": 15}},
		{"Daily active for 7 consecutive days: 25",
			append([]act{track(60, "Signed In")}, on(track(0, "Signed In"), 20, 19, 18, 17, 16, 15, 14)...), score.Facts{},
			map[string]float64{"daily_7": 25}},
		{"6 consecutive days: no points",
			append([]act{track(60, "Signed In")}, on(track(0, "Signed In"), 20, 19, 18, 17, 16, 15, 13)...), score.Facts{},
			map[string]float64{}},
		{"Hit free plan limit: 30", []act{track(3, "Limit Reached", "limit", "seats")}, score.Facts{},
			map[string]float64{"free_limit": 30}},
		{"Viewed pricing page 2+ times: 15", []act{page(3, "Pricing"), page(2, "Pricing")}, score.Facts{},
			map[string]float64{"pricing_2": 15}},
		{"Viewed pricing page once: no points", []act{page(3, "Pricing")}, score.Facts{}, map[string]float64{}},
		{"Attempted premium feature: 20", []act{track(3, "Premium Feature Attempted")}, score.Facts{},
			map[string]float64{"premium": 20}},
		{"Entered payment information: 40", []act{track(3, "Payment Info Entered")}, score.Facts{},
			map[string]float64{"payment_info": 40}},
		{"Company size matches ICP: 10", nil, score.Facts{Account: store.Account{Employees: 200, Industry: "Retail"}},
			map[string]float64{"icp_size": 10}},
		{"Industry matches target vertical: 10", nil, score.Facts{Account: store.Account{Employees: 8, Industry: "Software"}},
			map[string]float64{"icp_industry": 10}},
	})
}

// Both routing tables, band by band, at their edges.
func TestBands(t *testing.T) {
	for _, tc := range []struct {
		preset string
		scores map[float64]string
		routes map[string]string
	}{
		{"pql-150", map[float64]string{0: "", 29: "", 30: "watching", 49: "watching", 50: "warm", 79: "warm", 80: "hot", 150: "hot"},
			map[string]string{
				"hot":      "Route immediately to an AE; respond in under 1 hour",
				"warm":     "Route to SDR for qualification outreach; automated nurture continues",
				"watching": "Product-led nurture only (in-app prompts, email sequences); sales does not engage",
			}},
		{"pql-100", map[float64]string{0: "nurture", 40: "nurture", 41: "upgrade_campaign", 64: "upgrade_campaign",
			65: "inside_sales", 99: "inside_sales", 100: "account_executive", 255: "account_executive"},
			map[string]string{
				"nurture":           "Nurture with automated email campaigns and in-product tips",
				"upgrade_campaign":  "Enroll in targeted upgrade campaigns, unlock premium trial",
				"inside_sales":      "Assign to inside sales for assisted conversion",
				"account_executive": "Priority routing to account executives, white-glove onboarding",
			}},
	} {
		card, ok := rules(t, tc.preset).Card("pql")
		if !ok {
			t.Fatalf("%s: no pql card", tc.preset)
		}
		for s, want := range tc.scores {
			if got := card.TierFor(s); got != want {
				t.Errorf("%s: %g points → %q, want %q", tc.preset, s, got, want)
			}
		}
		for tier, route := range tc.routes {
			if got, _ := card.Tier(tier); got.Route != route {
				t.Errorf("%s: %s routes to %q, want %q", tc.preset, tier, got.Route, route)
			}
		}
		// The most a subject can score: invitation bands exclude each other.
		var max float64
		for _, rule := range card.Rules {
			if !slices.Contains([]string{"invited_1_3"}, rule.Name) {
				max += rule.Points
			}
		}
		if want := map[string]float64{"pql-150": 150, "pql-100": 255}[tc.preset]; max != want {
			t.Errorf("%s: rules add up to %g, want %g", tc.preset, max, want)
		}
	}
}

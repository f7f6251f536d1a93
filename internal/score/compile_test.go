package score_test

import (
	"strings"
	"testing"

	"github.com/beaconplg/beacon/internal/score"
)

// base is a small valid rules file; each case breaks one line of it.
const base = `scoring:
  plans:
    free: {seats: 3}
  default_plan: free
  signals:
    - name: invites
      measure: count
      events: [Invite Sent]
    - name: recent_days
      measure: active_days
      window: 14d
    - name: seat_use
      measure: quota
      used: invites
      limit: seats
  scorecards:
    - name: pql
      of: account
      rules:
        - name: invited
          label: Invited 2+ teammates
          when: invites >= 2
          points: 25
      tiers:
        - name: warm
          min: 50
        - name: hot
          min: 80
  routing:
    scorecard: pql
    segments:
      - name: small
        when: employees <= 50
        zone: self_serve
      - name: rest
        zone: sales_available
    coexistence:
      when: open_opportunity
      actions: [tell_owner]
    zones:
      sales_available:
        tiers:
          hot: [call]
    actions:
      - name: call
        label: Call them
      - name: tell_owner
        label: Tell the owner
`

func load(t *testing.T, src string) (*score.Rules, error) {
	t.Helper()
	sp, err := score.ParseFile([]byte(src), "beacon.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return score.Compile(*sp)
}

// Bad rules fail when they load, each with the line that is wrong.
func TestCompileErrors(t *testing.T) {
	if _, err := load(t, base); err != nil {
		t.Fatalf("base: %v", err)
	}
	for _, tc := range []struct {
		name, old, new string
		want           []string // fragments of the one message
	}{
		{"unknown signal", "when: invites >= 2", "when: invitez >= 2",
			[]string{"beacon.yaml:22:", "scoring.scorecards[0].rules[0].when", "unknown name invitez"}},
		{"type error", "when: invites >= 2", `when: invites >= "two"`,
			[]string{"beacon.yaml:22:", "invalid operation: >= (mismatched types float64 and string)"}},
		{"not a condition", "when: invites >= 2", "when: invites + 2",
			[]string{"beacon.yaml:22:", "expected bool"}},
		{"bad window", "window: 14d", "window: 14x",
			[]string{"beacon.yaml:11:", "scoring.signals[1].window", `"14x"`}},
		{"window too long", "window: 14d", "window: 9999d",
			[]string{"beacon.yaml:11:", "between 1 and 730"}},
		{"window the measure cannot honour", "window: 14d", "window: 14d after Trial Started\n      events: [Signed In]",
			[]string{"beacon.yaml:11:", "active_days takes Nd, first Nd or month"}},
		{"thresholds out of order", "min: 80", "min: 40",
			[]string{"beacon.yaml:28:", "scoring.scorecards[0].tiers[1].min", `"hot" (min 40) must come before "warm" (min 50)`}},
		{"duplicate signal", "name: recent_days", "name: invites",
			[]string{"beacon.yaml:9:", "scoring.signals[1].name", `"invites" is defined twice`}},
		{"duplicate rule", "        - name: invited\n", "        - name: invited\n          label: x\n          when: true\n          points: 1\n        - name: invited\n",
			[]string{"scoring.scorecards[0].rules[1].name", `rule "invited" is defined twice`}},
		{"unknown measure", "measure: count", "measure: tally",
			[]string{"beacon.yaml:7:", "scoring.signals[0].measure", `"tally": want one of count`}},
		{"reserved name", "name: recent_days", "name: icp",
			[]string{"beacon.yaml:9:", "built-in variable"}},
		{"quota of an unknown signal", "used: invites", "used: seats_taken",
			[]string{"beacon.yaml:14:", `unknown signal "seats_taken"`}},
		{"quota of an unknown limit", "limit: seats", "limit: chairs",
			[]string{"beacon.yaml:15:", `no plan has a limit named "chairs"`}},
		{"field the measure does not read", "events: [Invite Sent]", "events: [Invite Sent]\n      property: seats",
			[]string{"beacon.yaml:9:", "measure count does not read property"}},
		{"scorecard of nothing", "of: account", "of: team",
			[]string{"beacon.yaml:18:", `"team": want account or user`}},
		{"queue order of nothing", "of: account", "of: account\n      rank: upside_down",
			[]string{"beacon.yaml:19:", "scoring.scorecards[0].rank", `"upside_down": want highest_first or lowest_first`}},
		{"routing by an unknown scorecard", "scorecard: pql", "scorecard: pq",
			[]string{"beacon.yaml:30:", "scoring.routing.scorecard", `unknown scorecard "pq"`}},
		{"segment condition that is not one", "when: employees <= 50", "when: employees + 50",
			[]string{"beacon.yaml:33:", "scoring.routing.segments[0].when", "expected bool"}},
		{"unknown zone", "zone: self_serve", "zone: self-service",
			[]string{"beacon.yaml:34:", `"self-service": want one of self_serve, sales_available, sales_required`}},
		{"tier the scorecard does not have", "hot: [call]", "hott: [call]",
			[]string{"beacon.yaml:43:", "scoring.routing.zones.sales_available.tiers.hott", `"hott" is not a tier of scorecard "pql"`}},
		{"unknown action", "hot: [call]", "hot: [call, email]",
			[]string{"beacon.yaml:43:", "scoring.routing.zones.sales_available.tiers.hot[1]", `unknown action "email"`}},
		{"coexistence in self-serve", "actions: [tell_owner]", "actions: [tell_owner]\n      zone: self_serve",
			[]string{"scoring.routing.coexistence.zone", "never self-serve"}},
		{"action without a label", "label: Call them", "label: ' '",
			[]string{"beacon.yaml:46:", "scoring.routing.actions[0].label", "needs the label"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := strings.Replace(base, tc.old, tc.new, 1)
			if src == base {
				t.Fatalf("%q is not in the base file", tc.old)
			}
			_, err := load(t, src)
			if err == nil {
				t.Fatal("compiled")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Fatalf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

// Every problem is reported at once, one per line.
func TestCompileReportsEveryError(t *testing.T) {
	src := strings.Replace(strings.Replace(base, "window: 14d", "window: soon", 1), "min: 80", "min: 10", 1)
	_, err := load(t, src)
	if err == nil || strings.Count(err.Error(), "\n") != 1 {
		t.Fatalf("want two errors, got %v", err)
	}
}

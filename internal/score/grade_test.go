package score

import (
	"strings"
	"testing"

	"github.com/beaconplg/beacon/internal/store"
)

// The grade, fit × engagement: A only for the top tier of both; a third
// down on one side is B; and so on to E. Its reasons are both sides',
// negative ones included, each naming its side.
func TestGrade(t *testing.T) {
	r := rulesOf(t, "pql-150")
	card, ok := r.Card(GradeCard)
	if !ok || card.grade == nil || card.grade.fit.Name != "fit" || card.grade.engagement.Name != "pql" {
		t.Fatalf("pql-150 has no grade of fit × pql: %+v", card)
	}
	result := func(c, tier string, reasons ...Reason) Result {
		return Result{Card: c, Applies: tier != "-", Tier: strings.TrimPrefix(tier, "-"), Reasons: reasons}
	}
	for _, c := range []struct {
		fit, pql, want string
	}{
		{"strong", "hot", "a"},
		{"strong", "warm", "b"}, {"fair", "hot", "b"},
		{"strong", "watching", "c"}, {"fair", "warm", "c"}, {"weak", "hot", "c"},
		{"strong", "", "d"}, {"fair", "watching", "d"}, {"weak", "warm", "d"},
		{"weak", "watching", "e"}, {"fair", "", "e"}, {"", "hot", "d"}, {"", "", "e"},
	} {
		got, err := card.grade.evaluate([]Result{result("pql", c.pql), result("fit", c.fit)})
		if err != nil || !got.Applies || got.Tier != c.want || got.Score != card.Tiers[strings.Index("edcba", c.want)].Min {
			t.Errorf("fit %q, pql %q: grade %q (%v, applies %v, score %v); want %q", c.fit, c.pql, got.Tier, err, got.Applies, got.Score, c.want)
		}
	}
	got, _ := card.grade.evaluate([]Result{
		result("fit", "weak", Reason{Rule: "personal_email_only", Label: "Personal email addresses only", Points: -20}),
		result("pql", "hot", Reason{Rule: "invited_teammates", Label: "Invited 2+ teammates", Points: 25})})
	if len(got.Reasons) != 2 || got.Reasons[0].Label != "Fit: Personal email addresses only" || got.Reasons[0].Points != -20 ||
		got.Reasons[1].Label != "Engagement: Invited 2+ teammates" || got.Reasons[1].Rule != "pql.invited_teammates" {
		t.Errorf("reasons %+v", got.Reasons)
	}
	if paying, _ := card.grade.evaluate([]Result{result("fit", "strong"), result("pql", "-")}); paying.Applies {
		t.Error("graded where the pql card does not apply (a paying account)")
	}
}

// The fit card of the preset says what counts for an account and against
// it: a company in the ICP with a business address fits strongly; a
// personal address of unknown size, weakly, with the negative reasons.
func TestFitReasons(t *testing.T) {
	r := rulesOf(t, "pql-150")
	for _, c := range []struct {
		name     string
		f        Facts
		tier     string
		negative int
	}{
		{"in the ICP", Facts{Account: store.Account{Employees: 200, Industry: "Software"}, BusinessEmail: true}, "strong", 0},
		{"personal, size unknown", Facts{Account: store.Account{}}, "weak", 2},
		{"too small", Facts{Account: store.Account{Employees: 8, Industry: "Retail"}, BusinessEmail: true}, "weak", 1},
	} {
		res, err := r.Evaluate(OfAccount, nil, 0, c.f)
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range res {
			if x.Card != "fit" {
				continue
			}
			neg := 0
			for _, reason := range x.Reasons {
				if reason.Points < 0 {
					neg++
				}
			}
			if x.Tier != c.tier || neg != c.negative {
				t.Errorf("%s: %s fit (%v) with %d reasons against; want %s and %d", c.name, x.Tier, x.Score, neg, c.tier, c.negative)
			}
		}
	}
}

// A grade names two account scorecards that exist and differ, and takes
// a name no scorecard has.
func TestGradeErrors(t *testing.T) {
	base := func() Spec {
		sp, err := Preset("pql-150")
		if err != nil {
			t.Fatal(err)
		}
		return *sp
	}
	for _, c := range []struct {
		grade GradeSpec
		want  string
	}{
		{GradeSpec{Fit: "nope", Engagement: "pql"}, `grade.fit: no scorecard "nope"`},
		{GradeSpec{Fit: "fit", Engagement: "champion"}, `scorecard "champion" scores users`},
		{GradeSpec{Fit: "pql", Engagement: "pql"}, "the same scorecard as fit"},
	} {
		sp := base()
		sp.Grade = &c.grade
		if _, err := Compile(sp); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v; want %q", c.grade, err, c.want)
		}
	}
	sp := base()
	sp.Scorecards = append(sp.Scorecards, ScorecardSpec{Name: GradeCard, Of: OfAccount,
		Rules: []RuleSpec{{Name: "x", Label: "x", When: "true", Points: 1}}, Tiers: []TierSpec{{Name: "t", Min: 1}}})
	if _, err := Compile(sp); err == nil || !strings.Contains(err.Error(), `a scorecard is already named "grade"`) {
		t.Errorf("a card named grade beside the grade: %v", err)
	}
}

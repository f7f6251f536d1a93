// The grade: customer fit × engagement in one letter, A to E, as a card of
// its own that reads two others (MadKudu's "customer fit × likelihood to
// buy"), so that the queue can sort and filter by it like any score.

package score

import "fmt"

// GradeSpec names the two account scorecards a grade combines.
type GradeSpec struct {
	// Fit scores who the account is: firmographics, ICP, email, CRM.
	Fit string `yaml:"fit" json:"fit"`
	// Engagement scores what it does: usage (the PQL card, usually).
	Engagement string `yaml:"engagement" json:"engagement"`
}

// GradeCard is the name of the grade's card.
const GradeCard = "grade"

// gradeOf is a grade card's two sides.
type gradeOf struct{ fit, engagement *Card }

// gradeTiers are the grades, lowest first; a grade's score is its place.
var gradeTiers = []TierSpec{
	{Name: "e", Label: "Grade E", Min: 1},
	{Name: "d", Label: "Grade D", Min: 2},
	{Name: "c", Label: "Grade C", Min: 3},
	{Name: "b", Label: "Grade B", Min: 4},
	{Name: "a", Label: "Grade A", Min: 5, Route: "Best fit and most engaged: first in line"},
}

// compileGrade makes the grade card of sp.Grade from the cards compiled.
func compileGrade(g *GradeSpec, cards []*Card, fail func(path, format string, args ...any)) *Card {
	side := func(field, name string) *Card {
		for _, c := range cards {
			if c.Name == name {
				if c.Of != OfAccount {
					fail("grade."+field, "scorecard %q scores users: a grade combines account scorecards", name)
				}
				return c
			}
		}
		fail("grade."+field, "no scorecard %q", name)
		return nil
	}
	fit, eng := side("fit", g.Fit), side("engagement", g.Engagement)
	if g.Fit == g.Engagement {
		fail("grade.engagement", "the same scorecard as fit: a grade combines two")
	}
	for _, c := range cards {
		if c.Name == GradeCard {
			fail("grade", "a scorecard is already named %q", GradeCard)
		}
	}
	return &Card{ScorecardSpec: ScorecardSpec{Name: GradeCard, Label: "Fit × engagement", Of: OfAccount},
		Tiers: gradeTiers, grade: &gradeOf{fit: fit, engagement: eng}}
}

// level places a result on its card in thirds: 3 in its top tier, down to
// 1, and 0 in none (or where the card does not apply).
func level(c *Card, res Result) int {
	if !res.Applies {
		return 0
	}
	for i, t := range c.Tiers {
		if t.Name == res.Tier {
			return (3*(i+1) + len(c.Tiers) - 1) / len(c.Tiers) // ceil(3p/n)
		}
	}
	return 0
}

// gradeBySum grades by the sum of the two levels, 0 to 6: A only for both
// at the top; B for one at the top and the other a third below; C for
// both in the middle, or one at the top and the other at the bottom; D a
// step lower (a top engagement with no fit at all among them); E the rest.
var gradeBySum = [...]string{"e", "e", "e", "d", "c", "b", "a"}

// evaluate grades a subject from its results on the two sides (found among
// earlier: the grade comes after every card it reads). Its reasons are
// both sides', each saying which side it is.
func (g *gradeOf) evaluate(earlier []Result) (Result, error) {
	res := Result{Card: GradeCard, Signals: map[string]any{}} // it reads no signal of its own
	var fit, eng *Result
	for i := range earlier {
		switch earlier[i].Card {
		case g.fit.Name:
			fit = &earlier[i]
		case g.engagement.Name:
			eng = &earlier[i]
		}
	}
	if fit == nil || eng == nil {
		return res, fmt.Errorf("grade: the results of %s and %s come first", g.fit.Name, g.engagement.Name)
	}
	if !fit.Applies || !eng.Applies {
		return res, nil
	}
	f, e := level(g.fit, *fit), level(g.engagement, *eng)
	res.Applies, res.Tier = true, gradeBySum[f+e]
	for _, t := range gradeTiers {
		if t.Name == res.Tier {
			res.Score = t.Min
		}
	}
	for _, side := range []struct {
		prefix string
		r      *Result
	}{{"Fit", fit}, {"Engagement", eng}} {
		for _, r := range side.r.Reasons {
			r.Rule, r.Label, r.Signals = side.r.Card+"."+r.Rule, side.prefix+": "+r.Label, nil
			res.Reasons = append(res.Reasons, r)
		}
	}
	return res, nil
}

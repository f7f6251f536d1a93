package sim

import (
	"math/rand/v2"
	"slices"
	"strconv"
	"time"
)

// Start is the first simulated day.
var Start = time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)

// line is one event, already encoded as a Segment message.
type line struct {
	at   time.Time
	json []byte
}

// dayGen writes one day's events for one account.
type dayGen struct {
	p     Params
	a     Account
	l     Lifecycle
	users []User
	d     int
	r     *rand.Rand
	n     int
	out   []line
}

// Day returns every event of day d, sorted by time: the accounts' and the
// anonymous visitors'. Only one day is held in memory at a time.
func (p Params) Day(d int, accounts []Account, lives []Lifecycle, users [][]User) [][]byte {
	var out []line
	signups := 0
	for i, a := range accounts {
		if a.SignupDay > d {
			continue
		}
		if a.SignupDay == d {
			signups++
		}
		g := &dayGen{p: p, a: a, l: lives[i], users: users[i], d: d,
			r: p.rng(streamDay, uint64(a.Index)<<16|uint64(d))}
		g.account()
		out = append(out, g.out...)
	}
	out = append(out, p.visitors(d, signups)...)
	slices.SortStableFunc(out, func(x, y line) int { return x.at.Compare(y.at) })
	lines := make([][]byte, len(out))
	for i, l := range out {
		lines[i] = l.json
	}
	return lines
}

func (g *dayGen) at() time.Time {
	return Start.AddDate(0, 0, g.d).Add(time.Duration(8*3600+g.r.IntN(10*3600)) * time.Second)
}

func (g *dayGen) account() {
	admin := g.users[0]
	if g.d == g.a.SignupDay {
		g.signup(admin, true)
	}
	for _, u := range g.users[1:] {
		if u.JoinDay == g.d {
			g.track(admin, "Invite Sent", g.at(), props{"invitee_email", u.Email})
			g.signup(u, false)
		}
	}
	g.milestones(admin)
	for _, u := range g.users {
		if u.JoinDay <= g.d {
			g.usage(u)
		}
	}
}

// signup: pre-sign-up page views under the anonymous id, then identify,
// Signed Up, and for the first user the workspace.
func (g *dayGen) signup(u User, first bool) {
	t := g.at()
	if first {
		for k, page := range []string{"Home", "Pricing", "Sign Up"}[:1+g.r.IntN(3)] {
			g.page(User{AnonymousID: u.AnonymousID}, page, t.Add(time.Duration(k-5)*time.Minute))
		}
	}
	traits := props{"email", u.Email}
	if !u.Personal || g.r.Float64() < 0.5 {
		traits = append(traits, "company", g.a.Name)
	}
	g.identify(u, t, traits)
	g.track(u, "Signed Up", t.Add(time.Second), props{"channel", g.a.Channel, "invited", !first})
	if first {
		gt := props{"name", g.a.Name, "website", "https://" + g.a.Domains[0], "industry", g.a.Industry, "plan", "free"}
		if g.r.Float64() < 0.6 {
			gt = append(gt, "employees", g.a.Employees)
		}
		g.group(u, t.Add(2*time.Second), gt)
		g.track(u, "Account Created", t.Add(3*time.Second), props{"plan", "free"})
	} else {
		g.group(u, t.Add(2*time.Second), nil)
	}
}

// milestones are the account's lifecycle moments, done by its admin.
func (g *dayGen) milestones(admin User) {
	l, d := g.l, g.d
	if d == l.ActivatedDay {
		g.track(admin, "Project Created", g.at(), props{"template", "kanban"})
	}
	if d == l.TrialStartDay {
		g.track(admin, "Trial Started", g.at(), props{"plan", "business", "trial_days", TrialDays})
	}
	if l.Trial && d == l.TrialStartDay+TrialDays {
		g.track(admin, "Trial Ended", g.at(), props{"plan", "business", "converted", l.Converted && l.ConvertedDay <= d})
	}
	if d == l.ConvertedDay {
		t := g.at()
		g.page(admin, "Pricing", t.Add(-10*time.Minute))
		g.track(admin, "Payment Info Entered", t.Add(-2*time.Minute), props{"plan", l.Plan})
		g.track(admin, "Plan Upgraded", t, props{"plan", l.Plan, "seats", l.Seats, "motion", l.Motion})
	}
	if d == l.ChurnDay {
		g.track(admin, "Subscription Cancelled", g.at(), props{"plan", l.Plan})
	}
	// Buying intent shows before a conversion: pricing views and premium attempts.
	if l.Converted && g.d < l.ConvertedDay && g.d >= l.ConvertedDay-10 && g.r.Float64() < 0.3 {
		g.page(admin, "Pricing", g.at())
		g.track(admin, "Premium Feature Attempted", g.at(), props{"feature", "sso"})
	}
}

var coreEvents = []string{"Report Viewed", "Report Viewed", "Report Viewed", "Project Updated", "Comment Added", "Dashboard Shared", "Integration Connected"}

// usage is a user's ordinary day: whether they come, and what they do.
func (g *dayGen) usage(u User) {
	p := 0.08 + 0.5*g.a.Intent
	if g.l.Activated && g.d >= g.l.ActivatedDay {
		p *= 2
	}
	if g.l.Churned && g.d >= g.l.ChurnDay {
		p *= 0.1
	}
	if g.r.Float64() >= min(p, 0.9) {
		return
	}
	t := g.at()
	g.track(u, "Signed In", t, nil)
	for k := range 1 + g.r.IntN(6) {
		name := coreEvents[g.r.IntN(len(coreEvents))]
		g.track(u, name, t.Add(time.Duration(k+1)*time.Minute), props{"feature", features[g.r.IntN(len(features))]})
	}
	free := !g.l.Converted || g.d < g.l.ConvertedDay || (g.l.Churned && g.d >= g.l.ChurnDay)
	if free && len(g.users) > FreeSeats && u.Admin && g.r.Float64() < 0.2 {
		g.track(u, "Limit Reached", t.Add(10*time.Minute), props{"limit", "seats", "used", len(g.users), "quota", FreeSeats})
	}
	if g.r.Float64() < 0.01 {
		g.track(u, "Support Ticket Created", t.Add(20*time.Minute), props{"topic", "billing"})
	}
}

var features = []string{"reports", "dashboards", "alerts", "exports", "api", "comments"}

// visitors are the anonymous traffic around the day's sign-ups: at the
// visitor-to-sign-up rate, each sign-up comes with 1/rate − 1 visitors who
// leave without signing up.
func (p Params) visitors(d, signups int) []line {
	r := p.rng(streamVisitors, uint64(d))
	n := int(float64(signups)*(1/p.VisitorToSignup-1) + r.Float64())
	g := &dayGen{p: p, d: d, r: r}
	for v := range n {
		u := User{AnonymousID: "visitor-" + strconv.Itoa(d) + "-" + strconv.Itoa(v)}
		t := g.at()
		for k, page := range []string{"Home", "Pricing", "Features"}[:1+r.IntN(3)] {
			g.page(u, page, t.Add(time.Duration(k)*time.Minute))
		}
	}
	return g.out
}

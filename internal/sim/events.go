package sim

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"
)

// line is one encoded event: buf[from:to] of its day's arena.
type line struct {
	at       int64 // Unix seconds, to sort the day by
	from, to int
}

// dayGen writes one day's events into one arena, account after account; its
// generator is reseeded for each account, so no draw depends on another's.
type dayGen struct {
	p     Params
	a     Account
	l     Lifecycle
	plan  *Plan
	time  timeline
	users []User
	used  *usage
	d     int
	day   time.Time
	pcg   *rand.PCG
	r     *rand.Rand
	n     int
	buf   []byte
	lines []line
	start int
	at0   int64
}

func (g *dayGen) seed(stream, entity uint64) {
	g.pcg.Seed(g.p.Seed^0x9e3779b97f4a7c15*(stream+1), entity)
	g.n = 0
}

// Generator makes a world's events a day at a time, reusing one arena, so
// that memory does not grow with days and the garbage collector stays idle.
type Generator struct {
	p        Params
	accounts []Account
	lives    []Lifecycle
	users    [][]User
	usage    []usage    // per account, carried from day to day
	plan     *Plan      // a world with drivers; nil for the classic world
	times    []timeline // per account, in a world with drivers
	next     int        // the day Day must be asked for next
	g        *dayGen
	out      [][]byte
}

// usage is what an account has used of the free tier's quotas so far.
type usage struct {
	projects int
	apiCalls int // this month (30 days from sign-up)
}

// NewGenerator draws the world of p: accounts, their lifecycles and users.
func (p Params) NewGenerator() *Generator {
	gen := &Generator{p: p, accounts: make([]Account, p.Accounts), lives: make([]Lifecycle, p.Accounts),
		users: make([][]User, p.Accounts), usage: make([]usage, p.Accounts), plan: p.DriverPlan()}
	if gen.plan != nil {
		gen.times = make([]timeline, p.Accounts)
	}
	for i := range gen.accounts {
		a := p.NewAccount(i)
		gen.accounts[i] = a
		gen.users[i] = make([]User, a.Users)
		for j := range gen.users[i] {
			gen.users[i][j] = p.NewUser(a, j)
		}
		if gen.plan != nil {
			gen.times[i] = p.drawTimeline(gen.plan, a, gen.users[i])
			gen.lives[i] = p.driverLifecycle(gen.plan, a, gen.times[i])
			continue
		}
		gen.lives[i] = p.Lifecycle(a)
		p.joinTeams(a, gen.lives[i], gen.users[i])
	}
	pcg := rand.NewPCG(0, 0)
	gen.g = &dayGen{p: p, pcg: pcg, r: rand.New(pcg), plan: gen.plan}
	return gen
}

// Day returns every event of day d, sorted by time: the accounts' and the
// anonymous visitors'. Days must be asked for in order, from 0: quota use
// carries over. The lines are valid until the next call.
func (gen *Generator) Day(d int) [][]byte {
	if d != gen.next {
		panic(fmt.Sprintf("sim: day %d asked for before day %d", d, gen.next))
	}
	gen.next++
	g := gen.g
	g.d, g.day, g.buf, g.lines = d, gen.p.Start.AddDate(0, 0, d), g.buf[:0], g.lines[:0]
	signups := 0
	for i, a := range gen.accounts {
		if a.SignupDay > d {
			continue
		}
		if a.SignupDay == d {
			signups++
		}
		g.a, g.l, g.users, g.used = a, gen.lives[i], gen.users[i], &gen.usage[i]
		if gen.plan != nil {
			g.time = gen.times[i]
		}
		g.seed(streamDay, uint64(a.Index)<<16|uint64(d))
		g.account()
	}
	g.a, g.l, g.users, g.used = Account{}, Lifecycle{}, nil, nil
	g.visitors(signups)
	// Lines were written in a fixed order, so breaking ties by position
	// keeps the sort deterministic.
	slices.SortFunc(g.lines, func(x, y line) int { return cmp.Or(cmp.Compare(x.at, y.at), cmp.Compare(x.from, y.from)) })
	gen.out = gen.out[:0]
	for _, l := range g.lines {
		gen.out = append(gen.out, g.buf[l.from:l.to:l.to])
	}
	return gen.out
}

func (g *dayGen) at() time.Time {
	return g.day.Add(time.Duration(8*3600+g.r.IntN(10*3600)) * time.Second)
}

func (g *dayGen) account() {
	admin := g.users[0]
	if g.d == g.a.SignupDay {
		g.signup(admin, true)
	}
	for _, u := range g.users[1:] {
		if u.JoinDay == g.d {
			g.track(admin, "Invite Sent", g.at(), str("invitee_email", u.Email))
			g.signup(u, false)
		}
	}
	g.milestones(admin)
	g.apiUsage(admin)
	for j, u := range g.users {
		switch {
		case g.plan != nil:
			g.behave(u, g.time.at(g.d-g.a.SignupDay, j))
		case u.joined(g.d):
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
	traits := []kv{str("email", u.Email), str("name", u.Name)}
	if u.Title != "" {
		traits = append(traits, str("title", u.Title))
	}
	if !u.Personal || g.r.Float64() < 0.5 {
		traits = append(traits, str("company", g.a.Name))
	}
	g.identify(u, t, traits...)
	g.track(u, "Signed Up", t.Add(time.Second), str("channel", g.a.Channel), flag("invited", !first))
	if !first {
		g.group(u, t.Add(2*time.Second))
		return
	}
	gt := []kv{str("name", g.a.Name), str("website", "https://"+g.a.Domains[0]), str("industry", g.a.Industry), str("plan", "free")}
	if g.r.Float64() < 0.6 {
		gt = append(gt, num("employees", g.a.Employees))
	}
	g.group(u, t.Add(2*time.Second), gt...)
	g.track(u, "Account Created", t.Add(3*time.Second), str("plan", "free"))
}

// milestones are the account's lifecycle moments, done by its admin.
func (g *dayGen) milestones(admin User) {
	l, d := g.l, g.d
	if g.plan == nil && d == l.ActivatedDay {
		g.createProject(admin, g.at())
	}
	if d == l.TrialStartDay {
		g.track(admin, "Trial Started", g.at(), str("plan", "business"), num("trial_days", TrialDays))
	}
	if l.Trial && d == l.TrialStartDay+TrialDays {
		g.track(admin, "Trial Ended", g.at(), str("plan", "business"), flag("converted", l.Converted && l.ConvertedDay <= d))
	}
	if d == l.ConvertedDay {
		t := g.at()
		g.page(admin, "Pricing", t.Add(-10*time.Minute))
		g.track(admin, "Payment Info Entered", t.Add(-2*time.Minute), str("plan", l.Plan))
		g.track(admin, "Plan Upgraded", t, str("plan", l.Plan), num("seats", l.Seats), str("motion", l.Motion))
	}
	if d == l.ChurnDay {
		g.track(admin, "Subscription Cancelled", g.at(), str("plan", l.Plan))
	}
	for _, c := range l.Changes {
		if c.Day == d {
			g.track(admin, "Subscription Updated", g.at(), str("plan", l.Plan), num("seats", c.Seats), num("previous_seats", l.SeatsOn(d-1)))
		}
	}
	// Buying intent shows before a conversion: pricing views and premium
	// attempts. Not in a world with drivers, where only the drivers do.
	if g.plan == nil && l.Converted && g.d < l.ConvertedDay && g.d >= l.ConvertedDay-10 && g.r.Float64() < 0.3 {
		g.page(admin, "Pricing", g.at())
		g.track(admin, "Premium Feature Attempted", g.at(), str("feature", "sso"))
	}
}

var coreEvents = []string{"Report Viewed", "Report Viewed", "Report Viewed", "Project Updated", "Comment Added", "Dashboard Shared", "Integration Connected"}

// usage is a user's ordinary day: whether they come, and what they do.
func (g *dayGen) usage(u User) {
	p := 0.08 + 0.5*g.a.Intent
	if g.l.Activated && g.d >= g.l.ActivatedDay {
		p *= 2
	}
	if g.l.Churned {
		// Activity fades over the month before a cancellation, and nearly
		// stops after it: the churn signal Beacon should see coming.
		p *= max(0.1, min(1, float64(g.l.ChurnDay-g.d)/30))
	}
	if g.r.Float64() >= min(p, 0.9) {
		return
	}
	t := g.at()
	g.track(u, "Signed In", t)
	for k := range 1 + g.r.IntN(6) {
		name := coreEvents[g.r.IntN(len(coreEvents))]
		g.track(u, name, t.Add(time.Duration(k+1)*time.Minute), str("feature", features[g.r.IntN(len(features))]))
	}
	if g.l.Activated && g.d > g.l.ActivatedDay && g.r.Float64() < 0.03+0.1*g.a.Intent {
		g.createProject(u, t.Add(5*time.Minute))
	}
	if seats := g.members(); g.free() && seats > FreeSeats && u.Admin && g.r.Float64() < 0.2 {
		g.track(u, "Limit Reached", t.Add(10*time.Minute), str("limit", "seats"), num("used", seats), num("quota", FreeSeats))
	}
	if g.r.Float64() < 0.01 {
		g.track(u, "Support Ticket Created", t.Add(20*time.Minute), str("topic", "billing"))
	}
}

// members counts the account's users who have joined by today.
func (g *dayGen) members() int {
	n := 0
	for _, u := range g.users {
		if u.joined(g.d) {
			n++
		}
	}
	return n
}

// free reports whether the account is on the free tier today.
func (g *dayGen) free() bool {
	return !g.l.Converted || g.d < g.l.ConvertedDay || (g.l.Churned && g.d >= g.l.ChurnDay)
}

// createProject records a new project; past the free tier's quota, the
// product refuses it and says so.
func (g *dayGen) createProject(u User, at time.Time) {
	if g.free() && g.used.projects >= FreeProjects {
		g.track(u, "Limit Reached", at, str("limit", "projects"), num("used", g.used.projects), num("quota", FreeProjects))
		return
	}
	g.used.projects++
	g.track(u, "Project Created", at, str("template", templates[g.r.IntN(len(templates))]), num("project_count", g.used.projects))
}

var templates = []string{"kanban", "roadmap", "sprint", "blank"}

// apiUsage meters the account's API calls once a day, as products report
// usage for billing: integrated, high-intent accounts call more.
func (g *dayGen) apiUsage(admin User) {
	if (g.d-g.a.SignupDay)%30 == 0 {
		g.used.apiCalls = 0
	}
	if g.a.Intent < 0.35 || g.d < g.a.SignupDay+2 {
		return
	}
	calls := int(g.a.Intent*120) + g.r.IntN(40)
	before := g.used.apiCalls
	g.used.apiCalls += calls
	at := g.day.Add(23 * time.Hour)
	g.track(admin, "API Calls Metered", at, num("calls", calls), num("month_to_date", g.used.apiCalls))
	if g.free() && before < FreeAPICalls && g.used.apiCalls >= FreeAPICalls {
		g.track(admin, "Limit Reached", at.Add(time.Second), str("limit", "api_calls"), num("used", g.used.apiCalls), num("quota", FreeAPICalls))
	}
}

var features = []string{"reports", "dashboards", "alerts", "exports", "api", "comments"}

// visitors are the anonymous traffic around the day's sign-ups: at the
// visitor-to-sign-up rate, each sign-up comes with 1/rate − 1 visitors who
// leave without signing up.
func (g *dayGen) visitors(signups int) {
	g.seed(streamVisitors, uint64(g.d))
	n := int(float64(signups)*(1/g.p.VisitorToSignup-1) + g.r.Float64())
	for v := range n {
		// Visitors' ids come after every user's.
		u := User{AnonymousID: g.p.anonID(1<<40 + uint64(g.d)<<20 + uint64(v))}
		t := g.at()
		for k, page := range visitorPages[:1+g.r.IntN(3)] {
			g.page(u, page, t.Add(time.Duration(k)*time.Minute))
		}
	}
}

var visitorPages = []string{"Home", "Pricing", "Features"}

// ActivationEvent is the world's activation milestone: an account's first
// project.
const ActivationEvent = "Project Created"

// CoreFeatures are the events of the world's core features.
func CoreFeatures() []string {
	var out []string
	for _, e := range coreEvents {
		if !slices.Contains(out, e) {
			out = append(out, e)
		}
	}
	return out
}

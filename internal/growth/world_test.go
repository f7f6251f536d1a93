package growth_test

import (
	"context"
	"io"
	"log/slog"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/beaconplg/beacon/internal/billing"
	"github.com/beaconplg/beacon/internal/growth"
	"github.com/beaconplg/beacon/internal/identity"
	"github.com/beaconplg/beacon/internal/score"
	"github.com/beaconplg/beacon/internal/sim"
	"github.com/beaconplg/beacon/internal/store"
	"github.com/beaconplg/beacon/internal/store/storetest"
)

// demoWorld is a simulated world loaded into a store of each engine and
// scored, its events handed to a book by the signal stage as `beacon
// serve` does.
type demoWorld struct {
	p     sim.Params
	truth sim.Truth
	dir   string
}

func newWorld(t testing.TB, accounts, days int) demoWorld {
	t.Helper()
	p := sim.DefaultParams()
	p.Accounts, p.Days = accounts, days
	dir := t.TempDir()
	if _, err := p.Simulate(dir); err != nil {
		t.Fatal(err)
	}
	truth, err := sim.ReadTruth(dir)
	if err != nil {
		t.Fatal(err)
	}
	return demoWorld{p: p, truth: truth, dir: dir}
}

// onEachEngine loads the world into a store of each engine, in parallel
// subtests, and runs test on it.
func (w demoWorld) onEachEngine(t *testing.T, test func(t *testing.T, db *store.DB, m *growth.Service)) {
	for _, eng := range storetest.Engines(t) {
		t.Run(eng.Name, func(t *testing.T) {
			t.Parallel()
			db := eng.Open(t)
			test(t, db, w.load(t, db))
		})
	}
}

// metricsConfig names the world's events.
func metricsConfig() growth.Config {
	c := growth.Default()
	c.ActivationEvent, c.CoreFeatures = sim.ActivationEvent, sim.CoreFeatures()
	return c
}

// load loads the world into db and returns the metrics over it.
func (w demoWorld) load(t testing.TB, db *store.DB) *growth.Service {
	t.Helper()
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if _, err := sim.Load(ctx, w.dir, db, identity.New(db, log, nil)); err != nil {
		t.Fatal(err)
	}
	if err := sim.LoadBilling(ctx, w.dir, db); err != nil {
		t.Fatal(err)
	}
	spec, err := score.Preset(score.DefaultPreset)
	if err != nil {
		t.Fatal(err)
	}
	rules, err := score.Compile(*spec)
	if err != nil {
		t.Fatal(err)
	}
	end := w.p.Start.AddDate(0, 0, w.p.Days)
	svc := score.New(db, rules, log, func() time.Time { return end })
	cfg := metricsConfig()
	book := growth.NewBook(cfg)
	svc.Signals().Watch(book)
	if _, err := svc.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	return growth.New(cfg, book, db, billing.NewBook(db), func() (string, []string, string) {
		card, tiers := rules.RoutedTiers()
		return card, tiers, score.Subject(score.OfAccount, "")
	})
}

// The metrics of days 30–60 of a 90-day world, computed while the store
// holds the 30 days after them too, equal what the simulator's truth says
// of the accounts that signed up in them, on both engines: sign-ups,
// activation, free-to-paid, the organic share, by segment; invitations;
// MRR at the end and NRR by segment; and the sign-up conversion the
// simulator was asked for (4 %).
func TestMetricsMatchSimulatorTruth(t *testing.T) {
	w := newWorld(t, 1000, 90)
	from, to := w.p.Start.AddDate(0, 0, 30), w.p.Start.AddDate(0, 0, 60)
	ctx := context.Background()
	w.onEachEngine(t, func(t *testing.T, db *store.DB, m *growth.Service) {
		seg := segments(t, db)
		want := w.truthMetrics(30, 60, seg)
		r, err := m.Report(ctx, growth.Query{From: from, To: to, By: "segment"})
		if err != nil {
			t.Fatal(err)
		}
		got := valuesOf(r.Values)
		for name, v := range want[""] {
			if math.Abs(got[name]-v) > 1e-9 {
				t.Errorf("%s = %v, truth %v", name, got[name], v)
			}
		}
		for _, g := range r.Groups {
			got := valuesOf(g.Values)
			for name, v := range want[g.Name] {
				if math.Abs(got[name]-v) > 1e-9 {
					t.Errorf("%s: %s = %v, truth %v", g.Name, name, got[name], v)
				}
			}
		}
		checkRetention(t, m, w, from, w.p.Start.AddDate(0, 0, w.p.Days), seg)
		checkFunnelAndCohorts(t, m, w)
		if c := got["signup_conversion"]; c < 3.9 || c > 4.1 {
			t.Errorf("signup conversion %.2f%%, the simulator made 4%%", c)
		}
		if d := got["dau_mau"]; d <= 0 || d > 100 {
			t.Errorf("DAU/MAU %v", d)
		}
		t.Logf("%v", got)
	})
}

func valuesOf(vs []growth.Value) map[string]float64 {
	out := map[string]float64{}
	for _, v := range vs {
		if v.OK {
			out[v.Name] = v.Value
		}
	}
	return out
}

// truthMetrics are the metrics the truth gives for days [from, to), in all
// ("") and by segment.
// segment is each workspace's segment by the size Beacon knows of it (a
// group trait, or its CRM record's): the simulator does not tell Beacon
// every account's size, and an account of unknown size counts as SMB.
func segments(t *testing.T, db *store.DB) map[string]string {
	t.Helper()
	accounts, err := db.AllAccounts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, a := range accounts {
		out[a.ID] = growth.Segment(a.Employees)
	}
	return out
}

func (w demoWorld) truthMetrics(from, to int, segment map[string]string) map[string]map[string]float64 {
	type tally struct{ signups, activated, paid, organic, paidChannel, referral int }
	count := map[string]*tally{"": {}}
	for _, s := range growth.Segments {
		count[s] = &tally{}
	}
	var mrr float64
	for _, a := range w.truth.Accounts {
		mrr += float64(a.MRROn(to - 1))
		if a.SignupDay < from || a.SignupDay >= to {
			continue
		}
		for _, c := range []*tally{count[""], count[segment[a.GroupID]]} {
			c.signups++
			if a.Activated && a.ActivatedDay < to {
				c.activated++
			}
			if a.Converted && a.ConvertedDay < to {
				c.paid++
			}
			switch a.Channel {
			case "organic":
				c.organic++
			case "paid":
				c.paidChannel++
			case "referral":
				c.referral++
			}
		}
	}
	out := map[string]map[string]float64{}
	for k, c := range count {
		n := float64(c.signups)
		out[k] = map[string]float64{
			"monthly_signups":    n * 30 / float64(to-from),
			"activation_rate":    float64(c.activated) / n * 100,
			"free_to_paid":       float64(c.paid) / n * 100,
			"organic_paid_split": float64(c.organic) / float64(c.organic+c.paidChannel) * 100,
			"referral_signups":   float64(c.referral),
		}
	}
	out[""]["mrr"] = mrr
	founders := map[string]bool{}
	invited := 0
	for _, u := range w.truth.Users {
		if !founders[u.GroupID] {
			founders[u.GroupID] = true // the first user of each account
			continue
		}
		if u.JoinDay >= from && u.JoinDay < to {
			invited++
		}
	}
	out[""]["invitee_signups"] = float64(invited)
	out[""]["invites_sent"] = float64(invited)
	return out
}

// checkRetention: each segment's starting MRR, expansion, contraction and
// churn, and so its NRR, are the truth's.
func checkRetention(t *testing.T, m *growth.Service, w demoWorld, from, to time.Time, segment map[string]string) {
	t.Helper()
	want := map[string]map[string]float64{}
	for _, a := range w.truth.Accounts {
		s, e, c, ch := a.Retention(w.day(from), w.day(to))
		k := segment[a.GroupID]
		if want[k] == nil {
			want[k] = map[string]float64{}
		}
		want[k]["start"] += float64(s)
		want[k]["expansion"] += float64(e)
		want[k]["contraction"] += float64(c)
		want[k]["churn"] += float64(ch)
	}
	segs, err := m.Retention(context.Background(), from, to)
	if err != nil {
		t.Fatal(err)
	}
	var grew, shrank bool
	for _, s := range segs {
		p, tr := s.Period, want[s.Segment]
		if float64(p.Starting) != tr["start"] || float64(p.Expansion) != tr["expansion"] ||
			float64(p.Contraction) != tr["contraction"] || float64(p.Churn) != tr["churn"] {
			t.Errorf("%s: %+v, truth %v", s.Segment, p, tr)
		}
		grew, shrank = grew || p.Expansion > 0, shrank || p.Contraction+p.Churn > 0
		t.Logf("%s: NRR %.1f%% (%s) %s", s.Segment, s.NRR, s.Level, s.Judged)
	}
	if !grew || !shrank {
		t.Errorf("the world is too still to test retention: grew %v, shrank %v", grew, shrank)
	}
}

// day is the world's day of t.
func (w demoWorld) day(t time.Time) int { return int(t.Sub(w.p.Start).Hours() / 24) }

// checkFunnelAndCohorts: the funnel of every sign-up, as of the day after
// the world's end, counts the truth's sign-ups, activations, payments and
// expansions; scoring made PQLs. Each monthly
// cohort was active in full in its first month (its sign-up is use); the last may have
// no month ended yet.
func checkFunnelAndCohorts(t *testing.T, m *growth.Service, w demoWorld) {
	t.Helper()
	ctx := context.Background()
	from, to := w.p.Start, w.p.Start.AddDate(0, 0, w.p.Days+1)
	f, err := m.Funnel(ctx, from, to)
	if err != nil {
		t.Fatal(err)
	}
	activated, paid, expanded := 0, 0, 0
	for _, a := range w.truth.Accounts {
		if a.Activated {
			activated++
		}
		if a.Converted {
			paid++
		}
		if s, e, _, _ := a.Retention(a.ConvertedDay+1, w.p.Days); a.Converted && s > 0 && e > 0 {
			expanded++
		}
	}
	steps := f.Steps
	got := []int{steps[1].Count, steps[2].Count, steps[4].Count, steps[5].Count}
	if want := []int{len(w.truth.Accounts), activated, paid, expanded}; !slices.Equal(got, want) {
		t.Errorf("funnel signed up, activated, paid, expanded: %v; truth %v", got, want)
	}
	if steps[3].Count == 0 || !steps[4].RateOK {
		t.Errorf("no PQL in the funnel: %+v", steps)
	}
	c, err := m.Cohorts(ctx, from, to, "month", "accounts")
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Rows) < 3 {
		t.Fatalf("%d monthly cohorts in 90 days", len(c.Rows))
	}
	ended := 0
	for _, r := range c.Rows {
		if len(r.Active) == 0 {
			continue // no member's first month has ended
		}
		ended++
		if r.Active[0] != 100 {
			t.Errorf("cohort %s: %v, want 100%% active in its first month", r.Cohort, r.Active)
		}
	}
	if ended < 2 {
		t.Errorf("%d cohorts with a month ended: %+v", ended, c.Rows)
	}
}

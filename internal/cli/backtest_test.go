package cli

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/beaconplg/beacon/internal/calibration"
	"github.com/beaconplg/beacon/internal/sim"
	"github.com/beaconplg/beacon/internal/store/storetest"
)

// runBacktest runs beacon backtest with args and --format json on the
// store at dsn.
func runBacktest(t *testing.T, dsn string, args ...string) backtestReport {
	t.Helper()
	out, err := beacon(t, append([]string{"backtest", "--db", dsn, "--format", "json"}, args...)...)
	if err != nil {
		t.Fatalf("backtest %v: %v\n%s", args, err, out)
	}
	var rep backtestReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	return rep
}

// On the demo world, every cut-off's open accounts and conversions within
// the horizon are those counted straight from the simulator's truth
// (signed up by the day and not yet paying; paying in the days after it),
// the tiers share them out whole, and the total adds the cut-offs up.
func TestBacktestCountsMatchTheTruth(t *testing.T) {
	dir := t.TempDir()
	demoWorlds.copyTo(t, 300, dir)
	truth, err := sim.ReadTruth(filepath.Join(demoWorlds.world(300).dir, "world"))
	if err != nil {
		t.Fatal(err)
	}
	// The demo world's 45 days end yesterday.
	start := time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -45)
	const horizon = 20
	first, last, every := 5, 23, 3
	date := func(d int) string { return start.AddDate(0, 0, d).Format(time.DateOnly) }
	cfg := filepath.Join(dir, "beacon.yaml")
	if err := os.WriteFile(cfg, []byte("metrics:\n  activation_event: "+sim.ActivationEvent+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	rep := runBacktest(t, filepath.Join(dir, "beacon.db"), "--config", cfg, "--rules", "../score/presets/pql-150.yaml",
		"--from", date(first), "--to", date(last), "--every", fmt.Sprintf("%dd", every), "--horizon", fmt.Sprintf("%dd", horizon))
	if len(rep.Results) != 1 {
		t.Fatalf("%d results", len(rep.Results))
	}
	res := rep.Results[0]
	if len(res.CutOffs) != (last-first)/every+1 {
		t.Fatalf("%d cut-offs from day %d to %d every %d", len(res.CutOffs), first, last, every)
	}
	var sumOpen, sumPaid int
	for i, snap := range res.CutOffs {
		day := first + i*every
		open, paid, activated := 0, 0, 0
		for _, a := range truth.Accounts {
			if a.SignupDay > day || (a.Converted && a.ConvertedDay <= day) {
				continue
			}
			open++
			if a.Converted && a.ConvertedDay <= day+horizon {
				paid++
			}
			if a.Activated && a.ActivatedDay <= day {
				activated++
			}
		}
		if snap.Open != open || snap.Converted != paid {
			t.Errorf("day %d: backtest counts %d open, %d paid within %d days; the truth %d and %d", day, snap.Open, snap.Converted, horizon, open, paid)
		}
		held, conv, act := 0, 0, 0
		for _, tr := range snap.Tiers {
			held, conv, act = held+tr.Held, conv+tr.Converted, act+tr.Activated
		}
		if act != activated || activated == 0 {
			t.Errorf("day %d: backtest counts %d open accounts activated; the truth %d", day, act, activated)
		}
		if held != snap.Open || conv != snap.Converted {
			t.Errorf("day %d: the tiers hold %d and %d paid; open %d, paid %d", day, held, conv, snap.Open, snap.Converted)
		}
		sumOpen, sumPaid = sumOpen+open, sumPaid+paid
	}
	t.Logf("open %d, paid %d over %d cut-offs", sumOpen, sumPaid, len(res.CutOffs))
	if res.Total.Open != sumOpen || res.Total.Converted != sumPaid || sumPaid == 0 {
		t.Errorf("total %d open, %d paid; the cut-offs add up to %d and %d", res.Total.Open, res.Total.Converted, sumOpen, sumPaid)
	}
	if d := strings.Join(res.Diagnosis, "\n"); !strings.Contains(d, "of activated accounts are PQLs") || !strings.Contains(d, "PQLs convert at") {
		t.Errorf("diagnosis: %s", d)
	}
	monthly := 0
	for _, m := range res.Months {
		monthly += m.Open
	}
	if len(res.Months) == 0 || res.Months[0].Month != date(first)[:7] || monthly != res.Total.Open {
		t.Errorf("months (%d open in all): %+v", res.Total.Open, res.Months)
	}
	// The PQL tiers are those above the lowest (Watching is nurture only).
	warm, _ := res.Total.Tier("warm")
	hot, _ := res.Total.Tier("hot")
	if p := res.PQL; !slices.Equal(p.Tiers, []string{"warm", "hot"}) || p.Held != warm.Held+hot.Held || p.Converted != warm.Converted+hot.Converted ||
		p.Entered != warm.Entered+hot.Entered || p.Held == 0 {
		t.Errorf("PQL %+v; warm %+v, hot %+v", p, warm, hot)
	}
	// Two rules files side by side, on the same cut-offs.
	out, err := beacon(t, "backtest", "--db", filepath.Join(dir, "beacon.db"), "--config", cfg, "--rules", "../score/presets/pql-150.yaml",
		"--rules", "../score/presets/pql-100.yaml", "--from", date(first), "--to", date(last), "--every", fmt.Sprintf("%dd", every),
		"--horizon", fmt.Sprintf("%dd", horizon))
	if err != nil {
		t.Fatal(err)
	}
	_, side, _ := strings.Cut(out, "side by side\n")
	if lines := strings.Split(strings.TrimSpace(side), "\n"); len(lines) != 3 || !strings.Contains(lines[1], "pql-150.yaml") ||
		!strings.Contains(lines[2], "pql-100.yaml") {
		t.Errorf("side by side:\n%s", side)
	}
}

// On each engine, the cards beside the routing one are judged from the same scores against
// what billing says of each account: on a world long enough for accounts
// to pay, add seats and churn, the fit card (which applies to every
// account) counts, over the cut-offs, the accounts signed up by each and
// those whose MRR grew, or fell to nothing, within the horizon, as the
// simulator bills them (seats every 30 days from conversion, the
// subscription deleted the day it churns).
func TestBacktestFollowsRevenue(t *testing.T) {
	p := sim.DefaultParams()
	p.Accounts, p.Days, p.Drivers = 300, 120, 3 // accounts pay during it
	for _, seg := range []string{sim.SMB, sim.MidMarket, sim.Enterprise} {
		p.Churn[seg], p.NRR[seg] = 0.2, 2 // renewals that change something
	}
	world, truth := simulate(t, p)
	const first, last, every, horizon = 40, 85, 5, 30
	date := func(d int) string { return p.Start.AddDate(0, 0, d).Format(time.DateOnly) }
	for _, e := range storetest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			rep := runBacktest(t, loadWorld(t, e.DSN(t), world), "--rules", "../score/presets/pql-150.yaml",
				"--from", date(first), "--to", date(last), "--every", fmt.Sprintf("%dd", every), "--horizon", fmt.Sprintf("%dd", horizon))
			checkRevenue(t, rep.Results[0], truth, first, last, every, horizon)
		})
	}
}

// checkRevenue checks a backtest's fit card against the simulator's
// billing: account-days, expansions and churns.
func checkRevenue(t *testing.T, res calibration.Result, truth sim.Truth, first, last, every, horizon int) {
	t.Helper()
	i := slices.IndexFunc(res.Others, func(c calibration.CardSnapshot) bool { return c.Card == "fit" })
	if i < 0 {
		t.Fatalf("no fit card among %+v", res.Others)
	}
	fit := res.Others[i].Snapshot
	within := func(d, day int) bool { return d > day && d <= day+horizon }
	accounts, expanded, churned := 0, 0, 0
	for day := first; day <= last; day += every {
		for _, a := range truth.Accounts {
			if a.SignupDay > day {
				continue
			}
			accounts++
			l := a.Lifecycle
			if l.Churned && within(l.ChurnDay, day) {
				churned++
			}
			end := math.MaxInt
			if l.Churned {
				end = l.ChurnDay
			}
			for d := l.ConvertedDay + 30; l.Converted && d < end && d <= day+horizon; d += 30 {
				if within(d, day) && l.SeatsOn(d) > l.SeatsOn(d-30) {
					expanded++
					break
				}
			}
		}
	}
	t.Logf("fit card: %d account-days, %d expanded, %d churned", accounts, expanded, churned)
	if fit.Open != accounts || fit.Expanded != expanded || fit.Churned != churned || expanded == 0 || churned == 0 {
		t.Errorf("fit card: %d account-days, %d expanded, %d churned; the truth %d, %d, %d", fit.Open, fit.Expanded, fit.Churned, accounts, expanded, churned)
	}
	held, grew, left := 0, 0, 0
	for _, tr := range fit.Tiers {
		held, grew, left = held+tr.Held, grew+tr.Expanded, left+tr.Churned
	}
	if held != fit.Open || grew != fit.Expanded || left != fit.Churned {
		t.Errorf("fit card: the tiers hold %d, %d expanded, %d churned; in all %d, %d, %d", held, grew, left, fit.Open, fit.Expanded, fit.Churned)
	}
}

// simulate writes a world of p into a temporary directory and reads its
// truth.
func simulate(t *testing.T, p sim.Params) (string, sim.Truth) {
	t.Helper()
	world := t.TempDir()
	if _, err := p.Simulate(world); err != nil {
		t.Fatal(err)
	}
	truth, err := sim.ReadTruth(world)
	if err != nil {
		t.Fatal(err)
	}
	return world, truth
}

// loadWorld imports a simulated world's events, CRM and billing into the
// empty store at dsn, as beacon import would, and returns dsn.
func loadWorld(t *testing.T, dsn, world string) string {
	t.Helper()
	a := newTestApp()
	a.cfg.DB = dsn
	db, err := a.openStore(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err = sim.Load(context.Background(), world, db, a.identity(db, nil)); err == nil {
		err = sim.LoadBilling(context.Background(), world, db)
	}
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	return dsn
}

// On each engine, a giveaway planted in the days after the cut-off, on every account that
// then pays, with a rule that sends it straight to Hot: backtested as of
// the cut-off, Hot holds nobody, for the backtest reads nothing after it.
// The same giveaway on the cut-off day itself puts exactly those accounts
// in Hot, so the test would see a leak.
func TestBacktestSeesNoFuture(t *testing.T) {
	p := sim.DefaultParams()
	p.Accounts, p.Days, p.Drivers = 150, 45, 3 // a world where accounts pay during it
	world, truth := simulate(t, p)
	const cut, horizon = 15, 30
	rules := filepath.Join(t.TempDir(), "giveaway.yaml")
	if err := os.WriteFile(rules, []byte(giveawayRules), 0o600); err != nil {
		t.Fatal(err)
	}
	hot := func(t *testing.T, e storetest.Engine, after int) (held, converters int) {
		dsn := loadWorld(t, e.DSN(t), plantGiveaways(t, world, p, truth, cut, horizon, after))
		d := p.Start.AddDate(0, 0, cut).Format(time.DateOnly)
		rep := runBacktest(t, dsn, "--rules", rules, "--from", d, "--to", d, "--horizon", fmt.Sprintf("%dd", horizon))
		tr, _ := rep.Results[0].Total.Tier("hot")
		return tr.Held, rep.Results[0].Total.Converted
	}
	for _, e := range storetest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			if held, paid := hot(t, e, 0); held != paid || paid == 0 {
				t.Fatalf("giveaways on the cut-off day: Hot holds %d, %d paid later; the test cannot see a leak", held, paid)
			}
			if held, paid := hot(t, e, 1); held != 0 {
				t.Fatalf("giveaways the day after the cut-off: Hot holds %d of the %d that paid later: the backtest reads ahead", held, paid)
			}
		})
	}
}

const giveawayRules = `scoring:
  signals:
    - name: giveaways
      measure: count
      events: [Giveaway Claimed]
  scorecards:
    - name: pql
      label: PQL
      of: account
      rules:
        - name: giveaway
          label: Claimed the giveaway
          when: giveaways >= 1
          points: 100
      tiers:
        - name: watching
          label: Watching
          min: 1
          route: Product-led nurture
        - name: hot
          label: Hot
          min: 80
          route: Route to an AE
  routing:
    scorecard: pql
    segments:
      - name: all
        label: Everyone
        zone: sales_available
    zones:
      sales_available:
        label: Sales
        tiers:
          watching: [nurture]
          hot: [ae]
    actions:
      - name: nurture
        label: Nurture
      - name: ae
        label: Route to an AE
`

// plantGiveaways copies the world in dir with one "Giveaway Claimed" event
// more for every account that pays within horizon days of day cut, dated
// after days after it, and returns the copy's directory.
func plantGiveaways(t *testing.T, dir string, p sim.Params, truth sim.Truth, cut, horizon, after int) string {
	t.Helper()
	out := t.TempDir()
	for _, f := range []string{sim.EventsFile, sim.CRMFile, sim.BillingFile} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err == nil {
			err = os.WriteFile(filepath.Join(out, f), b, 0o600)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	userOf := map[string]string{}
	for _, u := range truth.Users {
		if userOf[u.GroupID] == "" {
			userOf[u.GroupID] = u.UserID
		}
	}
	var lines bytes.Buffer
	at := p.Start.AddDate(0, 0, cut+after).Add(12 * time.Hour).Format(time.RFC3339)
	for _, a := range truth.Accounts {
		if a.Converted && a.ConvertedDay > cut && a.ConvertedDay <= cut+horizon && a.SignupDay <= cut {
			fmt.Fprintf(&lines, `{"type":"track","event":"Giveaway Claimed","userId":%q,"timestamp":%q,"messageId":"giveaway-%s","context":{"groupId":%q}}`+"\n",
				userOf[a.GroupID], at, a.GroupID, a.GroupID)
		}
	}
	// A gzip file may hold several members, read as one stream.
	f, err := os.OpenFile(filepath.Join(out, sim.EventsFile), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	zw := gzip.NewWriter(f)
	if _, err := zw.Write(lines.Bytes()); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(lines.String(), "Giveaway") {
		t.Fatal("no account pays within the horizon: nothing to plant")
	}
	return out
}

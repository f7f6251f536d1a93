package sim_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/beaconplg/beacon/internal/identity"
	"github.com/beaconplg/beacon/internal/sim"
	"github.com/beaconplg/beacon/internal/store/storetest"
)

func small() sim.Params {
	p := sim.DefaultParams()
	p.Accounts, p.Days = 200, 60
	return p
}

// The same seed gives byte-identical files.
func TestSimulateIsDeterministic(t *testing.T) {
	p := small()
	a, b := t.TempDir(), t.TempDir()
	if _, err := p.Simulate(a); err != nil {
		t.Fatal(err)
	}
	sum, err := p.Simulate(b)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Events == 0 || sum.Users < sum.Accounts {
		t.Fatalf("summary %+v", sum)
	}
	for _, f := range []string{sim.EventsFile, sim.CRMFile, sim.BillingFile, sim.TruthFile} {
		x, _ := os.ReadFile(filepath.Join(a, f))
		y, _ := os.ReadFile(filepath.Join(b, f))
		if len(x) == 0 || !bytes.Equal(x, y) {
			t.Errorf("%s differs between two runs of the same seed (%d and %d bytes)", f, len(x), len(y))
		}
	}
}

// Seed 004's typical bands are the defaults: activation 25-35 % (30 %),
// freemium free-to-paid 3-5 % (4 %), free-trial free-to-paid 15-17 % (16 %).
// Rates are read from the ground truth, for the cohort that signed up early
// enough to have had time to convert.
func TestDefaultRates(t *testing.T) {
	p := sim.DefaultParams()
	p.Accounts = 20000
	var n, activated, trials, trialPaid, free, freePaid int
	for i := range p.Accounts {
		a := p.NewAccount(i)
		if a.SignupDay > p.Days-45 {
			continue
		}
		l := p.Lifecycle(a)
		n++
		if l.Activated {
			activated++
		}
		if l.Trial {
			trials++
			if l.Converted {
				trialPaid++
			}
		} else {
			free++
			if l.Converted {
				freePaid++
			}
		}
		if l.Converted && (!l.Activated || l.ConvertedDay < l.ActivatedDay) {
			t.Fatalf("account %d converted without activating first: %+v", i, l)
		}
	}
	for _, tc := range []struct {
		name           string
		got, want, tol float64
	}{
		{"sign-up to activation", ratio(activated, n), p.SignupToActivation, 0.02},
		{"trial share", ratio(trials, n), p.TrialShare, 0.02},
		{"free trial to paid", ratio(trialPaid, trials), p.TrialToPaid, 0.02},
		{"freemium to paid", ratio(freePaid, free), p.FreemiumToPaid, 0.01},
	} {
		if math.Abs(tc.got-tc.want) > tc.tol {
			t.Errorf("%s: %.3f, want %.3f ± %.2f", tc.name, tc.got, tc.want, tc.tol)
		}
	}
}

func ratio(a, b int) float64 { return float64(a) / float64(b) }

// Visitors: the share of anonymous visitors who sign up is the
// visitor-to-sign-up rate (seed 004: typical 3-5 %).
func TestVisitorToSignup(t *testing.T) {
	p := small()
	p.Accounts = 400
	dir := t.TempDir()
	if _, err := p.Simulate(dir); err != nil {
		t.Fatal(err)
	}
	visitors, signups := map[string]bool{}, 0
	eachEvent(t, dir, func(m map[string]any) {
		anon, _ := m["anonymousId"].(string)
		if m["type"] == "page" && m["userId"] == nil {
			visitors[anon] = true
		}
		if m["event"] == "Signed Up" && m["properties"].(map[string]any)["invited"] == false {
			signups++
		}
	})
	if got := ratio(signups, len(visitors)); math.Abs(got-p.VisitorToSignup) > 0.005 {
		t.Fatalf("visitor to sign-up %.4f (%d of %d), want %.3f", got, signups, len(visitors), p.VisitorToSignup)
	}
}

func eachEvent(t *testing.T, dir string, fn func(map[string]any)) {
	f, err := os.Open(filepath.Join(dir, sim.EventsFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(zr)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("%v: %s", err, sc.Bytes())
		}
		fn(m)
	}
}

// Everything the simulator writes loads into Beacon: every event accepted,
// every user resolved to an account.
func TestLoadsIntoBeacon(t *testing.T) {
	p := small()
	dir := t.TempDir()
	sum, err := p.Simulate(dir)
	if err != nil {
		t.Fatal(err)
	}
	db := storetest.SQLite(t)
	ctx := context.Background()
	got, err := sim.Load(ctx, dir, db, identity.New(db, slog.New(slog.NewTextHandler(io.Discard, nil)), nil))
	if err != nil || got.Accepted != sum.Events {
		t.Fatalf("load: %+v %v, want %d accepted", got, err, sum.Events)
	}
	s, err := db.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if int(s.Users) != sum.Users || s.Unresolved != 0 || s.UsersByMethod["group"] != int64(sum.Users) {
		t.Fatalf("stats %+v for %d users", s, sum.Users)
	}
}

// Accounts that will churn fade over the month before they cancel.
func TestActivityFadesBeforeChurn(t *testing.T) {
	p := sim.DefaultParams()
	p.Accounts, p.Days = 1500, 150
	p.Churn = map[string]float64{sim.SMB: 0.5, sim.MidMarket: 0.5, sim.Enterprise: 0.5}
	dir := t.TempDir()
	if _, err := p.Simulate(dir); err != nil {
		t.Fatal(err)
	}
	churnDay := map[string]int{}
	for _, a := range truthAccounts(t, dir) {
		// Accounts settled (activated, and so every user's usage doubled)
		// well before the window compared.
		if a.Churned && a.ActivatedDay >= 0 && a.ActivatedDay < a.ChurnDay-35 {
			churnDay[a.GroupID] = a.ChurnDay
		}
	}
	var early, late int // sign-ins 30-21 days and 10-1 days before the churn day
	eachEvent(t, dir, func(m map[string]any) {
		ctx, _ := m["context"].(map[string]any)
		g, _ := ctx["groupId"].(string)
		cd, ok := churnDay[g]
		if !ok || m["event"] != "Signed In" {
			return
		}
		ts, _ := m["timestamp"].(string)
		day := dayOf(t, ts)
		switch {
		case day >= cd-30 && day < cd-20:
			early++
		case day >= cd-10 && day < cd:
			late++
		}
	})
	if len(churnDay) < 10 || late*2 > early {
		t.Fatalf("%d churning accounts: %d sign-ins in the 10 days before churn against %d in days 30-21 before", len(churnDay), late, early)
	}
}

func dayOf(t *testing.T, ts string) int {
	at, err := time.Parse(time.RFC3339, ts)
	if err != nil {
		t.Fatal(err)
	}
	return int(at.Sub(sim.DefaultStart).Hours() / 24)
}

// Net revenue retention by segment (seed 004's medians: SMB 97 %, mid-market
// 108 %, enterprise 118 %): the revenue of the accounts paying on day 200, a
// year later, over what it was then. Conversion is raised so that every
// segment has enough paying accounts to measure.
func TestNRRBySegment(t *testing.T) {
	p := sim.DefaultParams()
	p.Accounts, p.Days, p.FreemiumToPaid, p.TrialToPaid = 40000, 600, 0.25, 0.25
	start, end := 200, 560
	before, after := map[string]int{}, map[string]int{}
	paying := map[string]int{}
	for i := range p.Accounts {
		a := p.NewAccount(i)
		l := p.Lifecycle(a)
		if m := l.MRROn(start); m > 0 {
			before[a.Segment] += m
			after[a.Segment] += l.MRROn(end)
			paying[a.Segment]++
		}
	}
	for seg, want := range p.NRR {
		got := float64(after[seg]) / float64(before[seg])
		tol := 0.03
		if seg == sim.Enterprise {
			tol = 0.06 // fewer accounts
		}
		t.Logf("%s NRR %.3f over %d paying accounts", seg, got, paying[seg])
		if paying[seg] < 40 || math.Abs(got-want) > tol {
			t.Errorf("%s NRR %.3f over %d accounts, want %.2f ± %.2f", seg, got, paying[seg], want, tol)
		}
	}
}

// The free tier's quotas (3 seats, 5 projects, 1,000 API calls a month) are
// enforced for accounts that never pay, and hitting them is reported.
func TestFreeTierQuotas(t *testing.T) {
	p := small()
	dir := t.TempDir()
	if _, err := p.Simulate(dir); err != nil {
		t.Fatal(err)
	}
	paid := map[string]bool{}
	for _, a := range truthAccounts(t, dir) {
		paid[a.GroupID] = a.Converted
	}
	hits := map[string]int{}
	eachEvent(t, dir, func(m map[string]any) {
		ctx, _ := m["context"].(map[string]any)
		g, _ := ctx["groupId"].(string)
		props, _ := m["properties"].(map[string]any)
		switch m["event"] {
		case "Project Created":
			if n := props["project_count"].(float64); !paid[g] && n > sim.FreeProjects {
				t.Fatalf("free account %s created project %v", g, n)
			}
		case "Limit Reached":
			limit := props["limit"].(string)
			hits[limit]++
			used, quota := props["used"].(float64), props["quota"].(float64)
			if used < quota {
				t.Fatalf("%s limit reached at %v of %v", limit, used, quota)
			}
		}
	})
	for _, limit := range []string{"seats", "projects", "api_calls"} {
		if hits[limit] == 0 {
			t.Errorf("no account hit the %s quota", limit)
		}
	}
}

// truthAccount is what these tests read of the ground truth.
type truthAccount struct {
	Kind         string `json:"kind"`
	GroupID      string `json:"group_id"`
	Converted    bool   `json:"converted"`
	Churned      bool   `json:"churned"`
	ChurnDay     int    `json:"churn_day"`
	ActivatedDay int    `json:"activated_day"`
}

func truthAccounts(t *testing.T, dir string) []truthAccount {
	t.Helper()
	f, err := os.ReadFile(filepath.Join(dir, sim.TruthFile))
	if err != nil {
		t.Fatal(err)
	}
	var out []truthAccount
	for _, l := range strings.Split(strings.TrimSpace(string(f)), "\n") {
		var a truthAccount
		if err := json.Unmarshal([]byte(l), &a); err != nil {
			t.Fatal(err)
		}
		if a.Kind == "account" {
			out = append(out, a)
		}
	}
	return out
}

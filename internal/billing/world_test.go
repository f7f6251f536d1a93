package billing_test

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/beaconplg/beacon/internal/billing"
	"github.com/beaconplg/beacon/internal/importer"
	"github.com/beaconplg/beacon/internal/revenue"
	"github.com/beaconplg/beacon/internal/sim"
	"github.com/beaconplg/beacon/internal/store"
	"github.com/beaconplg/beacon/internal/store/storetest"
)

// Every subscription event of the demo world parses, and its MRR is its
// price times its seats, as the simulator priced it.
func TestDemoWorldSubscriptions(t *testing.T) {
	p := sim.DefaultParams()
	p.Accounts, p.Days = 200, 60
	dir := t.TempDir()
	if _, err := p.Simulate(dir); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(dir, sim.BillingFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, billing.MaxBody)
	for sc.Scan() {
		if !bytes.Contains(sc.Bytes(), []byte(`"type":"customer.subscription.`)) {
			continue
		}
		s, err := billing.ParseSubscription(sc.Bytes())
		if err != nil {
			t.Fatalf("%s: %v", sc.Bytes(), err)
		}
		mrr, err := revenue.MRR(s.Subscription)
		want := s.Items[0].UnitAmount * s.Items[0].Quantity
		if s.Status == "canceled" {
			want = 0
		}
		if err != nil || len(s.Items) != 1 || mrr != want || s.Customer == "" {
			t.Fatalf("%s: MRR %d (%v), want %d", sc.Bytes(), mrr, err, want)
		}
		n++
	}
	if err := sc.Err(); err != nil || n == 0 {
		t.Fatalf("%d subscription events (%v)", n, err)
	}
}

// The demo world's billing, loaded into a store of each engine and read
// back in Stripe's order, gives every account the MRR the simulator's
// truth says it paid at the end, and one movement for each change of it:
// new at conversion, expansion or contraction at a renewal that changed
// its seats, churn at cancellation.
func TestLedgerMatchesSimulatorTruth(t *testing.T) {
	p := sim.DefaultParams()
	p.Accounts, p.Days = 2000, 150
	dir := t.TempDir()
	if _, err := p.Simulate(dir); err != nil {
		t.Fatal(err)
	}
	truth := readTruth(t, dir)
	world, err := os.ReadFile(filepath.Join(dir, sim.BillingFile))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, eng := range storetest.Engines(t) {
		t.Run(eng.Name, func(t *testing.T) {
			t.Parallel()
			db := eng.Open(t)
			if _, err := importer.BillingLines(ctx, bytes.NewReader(world), db); err != nil {
				t.Fatal(err)
			}
			l, bad, err := billing.NewBook(db).Ledger(ctx)
			if err != nil || len(bad) > 0 {
				t.Fatal(err, bad)
			}
			checkLinks(t, l, truth)
			checkCheckouts(t, l, truth)
			kinds := map[string][]revenue.Kind{}
			for _, m := range l.Movements {
				kinds[m.Customer] = append(kinds[m.Customer], m.Kind)
			}
			counted := map[revenue.Kind]int{}
			for group, life := range truth {
				customer := "cus_" + group
				if got, want := l.MRR(customer), int64(life.MRROn(p.Days-1)); got != want {
					t.Fatalf("%s: MRR %d at the end, truth %d (%+v)", group, got, want, life)
				}
				if want := truthMoves(life.Lifecycle, p.Days); !slices.Equal(kinds[customer], want) {
					t.Fatalf("%s: movements %v, truth %v (%+v)", group, kinds[customer], want, life)
				}
				for _, k := range kinds[customer] {
					counted[k]++
				}
			}
			if counted[revenue.New] == 0 || counted[revenue.Churn] == 0 || counted[revenue.Expansion] == 0 {
				t.Fatalf("the world moves too little to test: %v", counted)
			}
			t.Logf("%d accounts; movements %v", len(truth), counted)

			// Retention by segment over days 60–150 equals the truth's.
			from, to := p.Start.AddDate(0, 0, 60), p.Start.AddDate(0, 0, p.Days)
			var all revenue.Period
			for _, segment := range []string{"smb", "mid-market", "enterprise"} {
				got := l.Period(from, to, func(customer string) bool { return truth[customer[len("cus_"):]].Segment == segment })
				want := truthPeriod(truth, segment, 60, p.Days)
				if got != want {
					t.Fatalf("%s: %+v, truth %+v", segment, got, want)
				}
				nrr, _ := got.NRR()
				grr, _ := got.GRR()
				t.Logf("%s: NRR %.1f%%, GRR %.1f%% (%+v)", segment, nrr, grr, got)
				all.Expansion, all.Contraction, all.Churn = all.Expansion+got.Expansion, all.Contraction+got.Contraction, all.Churn+got.Churn
			}
			if all.Expansion == 0 || all.Contraction == 0 || all.Churn == 0 {
				t.Fatalf("the period moves too little to test: %+v", all)
			}
		})
	}
}

// truthMoves are the movements the simulator's lifecycle makes: its seats
// at each monthly renewal before the end or its churn.
func truthMoves(l sim.Lifecycle, days int) []revenue.Kind {
	if !l.Converted {
		return nil
	}
	out := []revenue.Kind{revenue.New}
	end := days
	if l.Churned {
		end = l.ChurnDay
	}
	seats := l.Seats
	for d := l.ConvertedDay; d < end; d += 30 {
		now := l.SeatsOn(d)
		switch {
		case now > seats:
			out = append(out, revenue.Expansion)
		case now < seats:
			out = append(out, revenue.Contraction)
		}
		seats = now
	}
	if l.Churned {
		out = append(out, revenue.Churn)
	}
	return out
}

// truthPeriod is what the lifecycles of a segment's accounts paying at
// the start of day from did by the start of day to: a change on day d is
// billed that day.
func truthPeriod(truth map[string]account, segment string, from, to int) revenue.Period {
	var p revenue.Period
	for _, a := range truth {
		if a.Segment != segment {
			continue
		}
		s, e, c, ch := a.Retention(from, to)
		p.Starting, p.Expansion, p.Contraction, p.Churn = p.Starting+int64(s), p.Expansion+int64(e), p.Contraction+int64(c), p.Churn+int64(ch)
	}
	return p
}

// account is an account's truth: its segment and lifecycle.
type account struct {
	Index   int
	Segment string
	Domains []string
	sim.Lifecycle
}

// checkLinks: every paying customer is tied to its workspace, by the
// metadata the simulator wrote for three in four of them and by its
// email's domain for the rest; and the ledger holds its plan and seats.
func checkLinks(t *testing.T, l *billing.Ledger, truth map[string]account) {
	t.Helper()
	var accounts []store.Account
	for group, a := range truth {
		accounts = append(accounts, store.Account{ID: group, Kind: "group", Domains: a.Domains},
			// The CRM record holds the same domain: the workspace wins.
			store.Account{ID: "crm-" + group, Kind: "crm", Domains: a.Domains})
	}
	links := l.Links(accounts)
	methods := map[string]int{}
	for group, a := range truth {
		if !a.Converted {
			continue
		}
		link := links["cus_"+group]
		want := billing.ByMetadata
		if a.Index%4 == 3 {
			want = billing.ByDomain
		}
		if link.Account != group || link.Method != want {
			t.Fatalf("%s (index %d): linked %+v, want %s by %s", group, a.Index, link, group, want)
		}
		methods[link.Method]++
		c, _ := l.Customer("cus_" + group)
		if c.Plan != "price_"+a.Plan+"_monthly" || c.FirstPaid.IsZero() {
			t.Fatalf("%s: customer %+v, truth plan %s", group, c, a.Plan)
		}
	}
	if methods[billing.ByMetadata] == 0 || methods[billing.ByDomain] == 0 {
		t.Fatalf("links by method %v: the world should use both", methods)
	}
}

// checkCheckouts: self-serve conversions completed a Checkout session;
// one in three of them had left one before.
func checkCheckouts(t *testing.T, l *billing.Ledger, truth map[string]account) {
	t.Helper()
	created, completed := 0, 0
	for _, a := range truth {
		if a.Converted && a.Motion == "self-serve" {
			created, completed = created+1, completed+1
			if a.Index%3 == 0 {
				created++
			}
		}
	}
	done := 0
	for _, c := range l.Checkouts {
		if c.Completed {
			done++
		}
	}
	if len(l.Checkouts) != created || done != completed || created == completed {
		t.Fatalf("checkouts %d created, %d completed; truth %d, %d", len(l.Checkouts), done, created, completed)
	}
}

// readTruth reads each account's lifecycle from the simulator's truth.
func readTruth(t *testing.T, dir string) map[string]account {
	t.Helper()
	truth, err := sim.ReadTruth(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]account{}
	for i, a := range truth.Accounts {
		out[a.GroupID] = account{Index: i, Segment: a.Segment, Domains: a.Domains, Lifecycle: a.Lifecycle}
	}
	return out
}

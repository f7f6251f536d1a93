package billing_test

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/beaconplg/beacon/internal/billing"
	"github.com/beaconplg/beacon/internal/revenue"
	"github.com/beaconplg/beacon/internal/sim"
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

package sim_test

import (
	"bytes"
	"math"
	"testing"

	"github.com/beaconplg/beacon/internal/identity"
	"github.com/beaconplg/beacon/internal/importer"
	"github.com/beaconplg/beacon/internal/sim"
)

func TestSameSeedSameWorld(t *testing.T) {
	p := sim.DefaultParams()
	var a, b, c bytes.Buffer
	if err := p.WriteCRM(&a); err != nil {
		t.Fatal(err)
	}
	if err := p.WriteCRM(&b); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) || a.Len() < 1000 {
		t.Fatalf("same seed, different CRM files (%d and %d bytes)", a.Len(), b.Len())
	}
	p.Seed++
	_ = p.WriteCRM(&c)
	if bytes.Equal(a.Bytes(), c.Bytes()) {
		t.Fatal("another seed gave the same world")
	}
	// An account's draws depend on its index alone, not on generation order.
	for i := 99; i >= 0; i-- {
		x, y := p.NewAccount(i), p.NewAccount(i)
		if x.Name != y.Name || x.Fit != y.Fit || p.NewUser(x, 3).Email != p.NewUser(y, 3).Email {
			t.Fatalf("account %d differs between draws", i)
		}
	}
}

// Employee counts are heavy-tailed (log-normal, median 25, σ 1.6), which puts
// Φ(ln 2 / 1.6) = 66.8 % of companies in seed 004's SMB segment (1-50
// employees) and 1 − Φ(ln 20 / 1.6) = 3.1 % in enterprise (500+).
func TestSegments(t *testing.T) {
	p := sim.DefaultParams()
	p.Accounts = 20000
	counts := map[string]int{}
	for i := range p.Accounts {
		counts[p.NewAccount(i).Segment]++
	}
	for seg, want := range map[string]float64{sim.SMB: 0.668, sim.MidMarket: 0.301, sim.Enterprise: 0.031} {
		got := float64(counts[seg]) / float64(p.Accounts)
		if math.Abs(got-want) > 0.015 {
			t.Errorf("%s share %.3f, want %.3f ± 0.015", seg, got, want)
		}
	}
	for _, tc := range []struct {
		employees int
		want      string
	}{{1, sim.SMB}, {50, sim.SMB}, {51, sim.MidMarket}, {500, sim.MidMarket}, {501, sim.Enterprise}} {
		if got := sim.SegmentOf(tc.employees); got != tc.want {
			t.Errorf("SegmentOf(%d) = %s, want %s", tc.employees, got, tc.want)
		}
	}
}

func TestUsersAndEmails(t *testing.T) {
	p := sim.DefaultParams()
	personal, total := 0, 0
	for i := range 3000 {
		a := p.NewAccount(i)
		for j := range a.Users {
			u := p.NewUser(a, j)
			total++
			if u.Personal != identity.IsPersonalDomain(identity.EmailDomain(u.Email)) {
				t.Fatalf("%s: personal=%v but Beacon's free-mail list says otherwise", u.Email, u.Personal)
			}
			if u.Personal {
				personal++
			}
			if u.JoinDay < a.SignupDay || u.JoinDay >= p.Days {
				t.Fatalf("user joins on day %d, account signed up on %d", u.JoinDay, a.SignupDay)
			}
		}
	}
	if share := float64(personal) / float64(total); math.Abs(share-p.PersonalEmailShare) > 0.02 {
		t.Fatalf("personal email share %.3f, want %.2f ± 0.02", share, p.PersonalEmailShare)
	}
}

// The CRM spells companies its own way ("ACME, Inc." for the product's
// "Acme"); Beacon's name normalisation must see one company.
func TestCRMExport(t *testing.T) {
	p := sim.DefaultParams()
	var buf bytes.Buffer
	if err := p.WriteCRM(&buf); err != nil {
		t.Fatal(err)
	}
	rows, sum, err := importer.Accounts(&buf)
	if err != nil || sum.Rejected != 0 {
		t.Fatalf("import: %v %+v", err, sum)
	}
	enterprise, differently := 0, 0
	byID := map[string]bool{}
	for _, r := range rows {
		byID[r.ID] = true
	}
	for i := range p.Accounts {
		a := p.NewAccount(i)
		if a.Segment == sim.Enterprise {
			enterprise++
			if !a.InCRM {
				t.Fatalf("enterprise account %s is not in the CRM", a.Name)
			}
		}
		if !a.InCRM {
			continue
		}
		if !byID[a.CRMID] {
			t.Fatalf("%s missing from the export", a.CRMID)
		}
		if a.CRMName != a.Name {
			differently++
		}
		if identity.NormalizeCompany(a.CRMName) != identity.NormalizeCompany(a.Name) {
			t.Fatalf("CRM name %q does not normalise to product name %q", a.CRMName, a.Name)
		}
	}
	if enterprise == 0 || differently == 0 || len(rows) < enterprise {
		t.Fatalf("export has %d rows, %d enterprise, %d spelled differently", len(rows), enterprise, differently)
	}
}

func TestValidate(t *testing.T) {
	p := sim.Params{Accounts: 0, Days: 0, PersonalEmailShare: 2, CRMShare: -1}
	err := p.Validate()
	for _, want := range []string{"accounts", "days", "personal email share", "CRM share"} {
		if err == nil || !bytes.Contains([]byte(err.Error()), []byte(want)) {
			t.Errorf("error %v does not mention %s", err, want)
		}
	}
	if err := sim.DefaultParams().Validate(); err != nil {
		t.Fatal(err)
	}
}

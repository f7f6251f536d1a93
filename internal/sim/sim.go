// Package sim owns the simulated PLG company that demos and tests run on: a
// deterministic world of accounts and users whose latent fit and intent are
// known, so that what Beacon infers can be checked against the truth. The same
// seed always gives the same world, byte for byte, and an account's draws
// depend only on the seed and its own index, never on generation order.
package sim

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
)

// Params shape the world.
type Params struct {
	Accounts int
	Days     int
	Seed     uint64
	// PersonalEmailShare is the share of users who sign up with a free-mail
	// address instead of their company's.
	PersonalEmailShare float64
	// CRMShare is the share of mid-market accounts already in the CRM;
	// every enterprise account is.
	CRMShare float64
	// Funnel rates, seed 004's "typical" benchmark bands by default.
	VisitorToSignup    float64 // 3-5 %
	SignupToActivation float64 // 25-35 %
	TrialShare         float64 // share of sign-ups that start a premium trial
	FreemiumToPaid     float64 // 3-5 %
	TrialToPaid        float64 // 15-17 %
	// Churn is, by segment, the chance a paying account cancels at a monthly
	// renewal; NRR is the net revenue retention over twelve months that
	// expansions and contractions at renewals make up for (seed 004's NRR
	// medians by default: SMB 97 %, mid-market 108 %, enterprise 118 %).
	Churn map[string]float64
	NRR   map[string]float64
	// Start is the first simulated day (UTC midnight).
	Start time.Time
	// Drivers, when above 0, makes a world with drivers (drivers.go): that
	// many behaviours, drawn by the seed, drive conversion day by day, and
	// the funnel rates above no longer decide it.
	Drivers int
}

// DefaultStart is the first simulated day unless Params.Start says otherwise.
var DefaultStart = time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)

// End is the last moment of the last simulated day.
func (p Params) End() time.Time { return p.Start.AddDate(0, 0, p.Days).Add(-time.Millisecond) }

// DefaultParams is the default world of `beacon demo`.
func DefaultParams() Params {
	return Params{Accounts: 2000, Days: 90, Seed: 1, PersonalEmailShare: 0.25, CRMShare: 0.4,
		VisitorToSignup: 0.04, SignupToActivation: 0.30, TrialShare: 0.30, FreemiumToPaid: 0.04, TrialToPaid: 0.16,
		Churn: map[string]float64{SMB: 0.03, MidMarket: 0.015, Enterprise: 0.008},
		NRR:   map[string]float64{SMB: 0.97, MidMarket: 1.08, Enterprise: 1.18}, Start: DefaultStart}
}

// Validate reports every out-of-range parameter.
func (p Params) Validate() error {
	var errs []error
	if p.Start.IsZero() || !p.Start.Equal(p.Start.UTC().Truncate(24*time.Hour)) {
		errs = append(errs, fmt.Errorf("start %v: want a UTC midnight", p.Start))
	}
	if p.Accounts < 1 || p.Accounts > 1_000_000 {
		errs = append(errs, fmt.Errorf("accounts %d: want 1 to 1,000,000", p.Accounts))
	}
	if p.VisitorToSignup <= 0 {
		errs = append(errs, fmt.Errorf("visitor to sign-up %v: must be above 0", p.VisitorToSignup))
	}
	if p.Drivers < 0 || p.Drivers > len(Behaviours)-noiseCount {
		errs = append(errs, fmt.Errorf("drivers %d: want 0 to %d", p.Drivers, len(Behaviours)-noiseCount))
	}
	if p.Days < 1 || p.Days > 3650 {
		errs = append(errs, fmt.Errorf("days %d: want 1 to 3,650", p.Days))
	}
	for name, v := range map[string]float64{"personal email share": p.PersonalEmailShare, "CRM share": p.CRMShare,
		"visitor to sign-up": p.VisitorToSignup, "sign-up to activation": p.SignupToActivation, "trial share": p.TrialShare,
		"freemium to paid": p.FreemiumToPaid, "trial to paid": p.TrialToPaid} {
		if v < 0 || v > 1 {
			errs = append(errs, fmt.Errorf("%s %v: want 0 to 1", name, v))
		}
	}
	for _, seg := range []string{SMB, MidMarket, Enterprise} {
		if c := p.Churn[seg]; c < 0 || c >= 0.6 {
			errs = append(errs, fmt.Errorf("%s monthly churn %v: want 0 to 0.6", seg, c))
		}
		if n := p.NRR[seg]; n < 0.5 || n > 2 {
			errs = append(errs, fmt.Errorf("%s NRR %v: want 0.5 to 2", seg, n))
		}
	}
	return errors.Join(errs...)
}

// rng returns the generator for one purpose of one entity: streams never
// share state, so adding a draw in one place leaves every other draw as it was.
func (p Params) rng(stream, entity uint64) *rand.Rand {
	return rand.New(rand.NewPCG(p.Seed^0x9e3779b97f4a7c15*(stream+1), entity))
}

// Streams of draws.
const (
	streamFirmographics = iota + 1
	streamUsers
	streamLifecycle
	streamDay
	streamVisitors
	streamRevenue
	streamTeams
	streamAnonIDs
	streamDrivers
	streamBehaviour
)

// anonID is the anonymous id an analytics library would have given a
// browser: a version 4 UUID, here drawn from its own stream.
func (p Params) anonID(entity uint64) string {
	r := p.rng(streamAnonIDs, entity)
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:8], r.Uint64())
	binary.LittleEndian.PutUint64(b[8:], r.Uint64())
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

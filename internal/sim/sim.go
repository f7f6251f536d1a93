// Package sim owns the simulated PLG company that demos and tests run on: a
// deterministic world of accounts and users whose latent fit and intent are
// known, so that what Beacon infers can be checked against the truth. The same
// seed always gives the same world, byte for byte, and an account's draws
// depend only on the seed and its own index, never on generation order.
package sim

import (
	"errors"
	"fmt"
	"math/rand/v2"
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
	// MonthlyChurn is the chance a paying account cancels in a given 30 days.
	MonthlyChurn float64
}

// DefaultParams is the default world of `beacon demo`.
func DefaultParams() Params {
	return Params{Accounts: 2000, Days: 90, Seed: 1, PersonalEmailShare: 0.25, CRMShare: 0.4,
		VisitorToSignup: 0.04, SignupToActivation: 0.30, TrialShare: 0.30, FreemiumToPaid: 0.04, TrialToPaid: 0.16,
		MonthlyChurn: 0.03}
}

// Validate reports every out-of-range parameter.
func (p Params) Validate() error {
	var errs []error
	if p.Accounts < 1 || p.Accounts > 1_000_000 {
		errs = append(errs, fmt.Errorf("accounts %d: want 1 to 1,000,000", p.Accounts))
	}
	if p.VisitorToSignup <= 0 {
		errs = append(errs, fmt.Errorf("visitor to sign-up %v: must be above 0", p.VisitorToSignup))
	}
	if p.Days < 1 || p.Days > 3650 {
		errs = append(errs, fmt.Errorf("days %d: want 1 to 3,650", p.Days))
	}
	for name, v := range map[string]float64{"personal email share": p.PersonalEmailShare, "CRM share": p.CRMShare,
		"visitor to sign-up": p.VisitorToSignup, "sign-up to activation": p.SignupToActivation, "trial share": p.TrialShare,
		"freemium to paid": p.FreemiumToPaid, "trial to paid": p.TrialToPaid, "monthly churn": p.MonthlyChurn} {
		if v < 0 || v > 1 {
			errs = append(errs, fmt.Errorf("%s %v: want 0 to 1", name, v))
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
)

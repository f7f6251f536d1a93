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
}

// DefaultParams is the default world of `beacon demo`.
func DefaultParams() Params {
	return Params{Accounts: 2000, Days: 90, Seed: 1, PersonalEmailShare: 0.25, CRMShare: 0.4}
}

// Validate reports every out-of-range parameter.
func (p Params) Validate() error {
	var errs []error
	if p.Accounts < 1 || p.Accounts > 1_000_000 {
		errs = append(errs, fmt.Errorf("accounts %d: want 1 to 1,000,000", p.Accounts))
	}
	if p.Days < 1 || p.Days > 3650 {
		errs = append(errs, fmt.Errorf("days %d: want 1 to 3,650", p.Days))
	}
	for name, v := range map[string]float64{"personal email share": p.PersonalEmailShare, "CRM share": p.CRMShare} {
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
)

package cli

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/beaconplg/beacon/internal/sim"
)

func (a *app) simulateCmd() *cobra.Command {
	p := sim.DefaultParams()
	var out string
	cmd := &cobra.Command{
		Use:   "simulate",
		Short: "Write a simulated PLG company: events, CRM accounts, billing events and the ground truth",
		Long: `Write a deterministic simulated B2B PLG company into --out: product events in
Segment format (events.jsonl.gz, for beacon import events or the collector), CRM
accounts (crm_accounts.csv, for beacon import accounts), Stripe-shaped billing
events (billing.jsonl) and the ground truth (truth.jsonl). The same seed gives
byte-identical files.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			tuneGC()
			start := time.Now()
			sum, err := p.Simulate(out)
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "%d accounts (%d in the CRM), %d users, %d events, %d billing events in %s, written to %s\n",
				sum.Accounts, sum.CRMAccounts, sum.Users, sum.Events, sum.BillingEvents, time.Since(start).Round(time.Millisecond), out)
			return nil
		},
	}
	f := cmd.Flags()
	f.IntVar(&p.Accounts, "accounts", p.Accounts, "companies that sign up")
	f.IntVar(&p.Days, "days", p.Days, "days simulated")
	f.Uint64Var(&p.Seed, "seed", p.Seed, "random seed: the same seed gives the same files")
	f.IntVar(&p.Drivers, "drivers", 0, "draw this many behaviours that drive conversion day by day (a world with drivers; 0: the classic world)")
	f.StringVar(&out, "out", "sim-out", "directory to write into")
	return cmd
}

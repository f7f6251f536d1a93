package cli

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"

	"github.com/spf13/cobra"

	"github.com/beaconplg/beacon/internal/api"
	"github.com/beaconplg/beacon/internal/identity"
	"github.com/beaconplg/beacon/internal/store"
)

func (a *app) statsCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "stats",
		Short: "Show events, users, accounts and the identity match rate by method",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			db, err := a.openExisting(ctx)
			if err != nil {
				return err
			}
			defer db.Close()
			if _, err := a.identity(db, nil).Sync(ctx); err != nil {
				return err
			}
			s, err := db.Stats(ctx)
			if err != nil {
				return err
			}
			v := api.StatsView{Events: s.Events, Users: s.Users, Accounts: s.Accounts, Identity: identity.MatchOf(s)}
			if asJSON {
				enc := json.NewEncoder(a.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(v)
			}
			a.printStats(v)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON, as GET /api/v1/stats does")
	return cmd
}

func (a *app) printStats(v api.StatsView) {
	w := a.stdout
	fmt.Fprintf(w, "events    %d\nusers     %d\naccounts ", v.Events, v.Users)
	for _, k := range slices.Sorted(maps.Keys(v.Accounts)) {
		fmt.Fprintf(w, " %s %d", k, v.Accounts[k])
	}
	fmt.Fprintf(w, "\n\nusers matched by method\n")
	for _, m := range store.Methods {
		fmt.Fprintf(w, "  %-11s %d\n", m, v.Identity.ByMethod[m])
	}
	if v.Identity.Unresolved > 0 {
		fmt.Fprintf(w, "  %-11s %d\n", "unresolved", v.Identity.Unresolved)
	}
	fmt.Fprintf(w, "\nmatch rate      %5.1f %%  %s   (to a company: group, domain or name)\n", v.Identity.Rate, v.Identity.Band)
	fmt.Fprintf(w, "CRM match rate  %5.1f %%  %s   (good > 85 %%, red flag < 70 %%)\n", v.Identity.CRMRate, v.Identity.CRMBand)
}

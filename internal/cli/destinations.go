package cli

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/beaconplg/beacon/internal/route"
)

func (a *app) destinationsCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "destinations", Short: "Check CRM destinations against the CRM, and make what their mapping needs"}
	check := &cobra.Command{
		Use:   "check",
		Short: "Say, for each CRM destination, whether its mapping works with what the CRM has",
		Long: `Read each HubSpot and Salesforce destination's object (HubSpot's properties,
Salesforce's Describe) and say what the mapping lacks: a property or field to
create, an id property that is not unique, required fields to map for
create: true. It fails if any destination lacks something.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			bad := 0
			for _, sp := range a.cfg.Destinations {
				if sp.Type != route.HubSpot && sp.Type != route.Salesforce {
					continue
				}
				if err := route.Check(cmd.Context(), sp, a.routeDeps()); err != nil {
					bad++
					fmt.Fprintf(a.stdout, "%s: %v\n", sp.Name, err)
					continue
				}
				fmt.Fprintf(a.stdout, "%s: ok\n", sp.Name)
			}
			if bad > 0 {
				return fmt.Errorf("%d destinations cannot write as mapped", bad)
			}
			return nil
		},
	}
	setup := &cobra.Command{
		Use:   "setup NAME",
		Short: "Make in the CRM what a destination's mapping needs (HubSpot: its properties)",
		Long: `For a HubSpot destination, create the "beacon" property group and every mapped
property the portal lacks, the id property unique, through HubSpot's
properties API; what exists already is left as it is. For Salesforce, say
which fields to create in Setup (docs/routing.md).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			for _, sp := range a.cfg.Destinations {
				if sp.Name != args[0] {
					continue
				}
				if sp.Type != route.HubSpot && sp.Type != route.Salesforce {
					return fmt.Errorf("destination %s is a %s: only CRM destinations have anything to set up", sp.Name, sp.Type)
				}
				lines, err := route.Setup(cmd.Context(), sp, a.routeDeps())
				for _, l := range lines {
					fmt.Fprintln(a.stdout, l)
				}
				return err
			}
			return errors.New("no destination " + args[0] + " in the configuration")
		},
	}
	cmd.AddCommand(check, setup)
	return cmd
}

// routeDeps are what destinations need outside a running server.
func (a *app) routeDeps() route.Deps {
	return route.Deps{Log: a.log, UserAgent: "Beacon/" + Version}
}

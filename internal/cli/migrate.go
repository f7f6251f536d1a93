package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/beaconplg/beacon/internal/store"
)

func (a *app) migrateCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "migrate",
		Short: "Apply the store's migrations (serve does this too) and list them",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withStore(cmd.Context(), a.openStore, func(db *store.DB) error {
				names, err := db.Migrations(cmd.Context())
				if err != nil {
					return err
				}
				fmt.Fprintf(a.stdout, "%s store is at migration %d:\n", db.Engine(), len(names))
				for _, n := range names {
					fmt.Fprintln(a.stdout, "  "+n)
				}
				return nil
			})
		},
	}
}

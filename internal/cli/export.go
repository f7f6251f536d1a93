package cli

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/beaconplg/beacon/internal/export"
	"github.com/beaconplg/beacon/internal/store"
)

func (a *app) exportCmd() *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Write the events (each with its resolved user), users, accounts, memberships and scores as CSV files",
		Long: `Write what the store holds as CSV files with a header row, for a warehouse or
DuckDB: events.csv (each event with the user identity resolved it to, its
properties as JSON, times in Unix milliseconds), users.csv, accounts.csv,
memberships.csv and scores.csv. Identity first takes every stored event.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return errors.New("--out: name the directory to write the files into")
			}
			return a.withStore(cmd.Context(), a.openExisting, func(db *store.DB) error {
				ctx := cmd.Context()
				if _, err := a.identity(db, nil).Sync(ctx); err != nil {
					return err
				}
				sum, err := export.Write(ctx, db, out)
				if err != nil {
					return err
				}
				fmt.Fprintf(a.stdout, "%d events, %d users, %d accounts, %d memberships, %d scores written to %s\n",
					sum.Events, sum.Users, sum.Accounts, sum.Memberships, sum.Scores, out)
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "directory to write the files into (made if missing)")
	return cmd
}

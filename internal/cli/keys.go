package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/beaconplg/beacon/internal/keys"
	"github.com/beaconplg/beacon/internal/store"
)

func (a *app) keysCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "keys", Short: "Manage write keys and admin tokens"}
	var admin bool
	var name string
	create := &cobra.Command{
		Use:   "create",
		Short: "Create a write key (or, with --admin, an admin token) and print only it",
		Long: `Create a write key for SDKs, or with --admin an admin token for the API.
Only the new secret is printed, on stdout, so scripts can capture it:

  WRITE_KEY=$(beacon keys create)
  ADMIN_TOKEN=$(beacon keys create --admin)

Beacon keeps only a hash: the secret cannot be shown again.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			db, err := a.openStore(cmd.Context())
			if err != nil {
				return err
			}
			defer db.Close()
			kind := store.WriteKey
			if admin {
				kind = store.AdminKey
			}
			secret, err := keys.Create(cmd.Context(), db, kind, name)
			if err != nil {
				return err
			}
			fmt.Fprintln(a.stdout, secret)
			return nil
		},
	}
	create.Flags().BoolVar(&admin, "admin", false, "create an admin token for the API instead of a write key")
	create.Flags().StringVar(&name, "name", "", "a label to tell keys apart")
	cmd.AddCommand(create)
	return cmd
}

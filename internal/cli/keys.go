package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/beaconplg/beacon/internal/keys"
	"github.com/beaconplg/beacon/internal/route"
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
			kind := store.WriteKey
			if admin {
				kind = store.AdminKey
			}
			return a.withStore(cmd.Context(), a.openStore, func(db *store.DB) error {
				secret, err := keys.Create(cmd.Context(), db, kind, name)
				if err != nil {
					return err
				}
				fmt.Fprintln(a.stdout, secret)
				return nil
			})
		},
	}
	create.Flags().BoolVar(&admin, "admin", false, "create an admin token for the API instead of a write key")
	create.Flags().StringVar(&name, "name", "", "a label to tell keys apart")
	secret := &cobra.Command{
		Use:   "webhook-secret",
		Short: "Print a new signing secret for a webhook destination (whsec_…)",
		Long: `Print a new random signing secret in the Standard Webhooks form. Give it to the
receiver, and to Beacon through the destination's secret_env:

  export BEACON_HOOK_SECRET=$(beacon keys webhook-secret)`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			s, err := route.NewSecret()
			if err != nil {
				return err
			}
			fmt.Fprintln(a.stdout, s)
			return nil
		},
	}
	cmd.AddCommand(create, secret)
	return cmd
}

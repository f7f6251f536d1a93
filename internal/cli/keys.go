package cli

import (
	"fmt"
	"text/tabwriter"
	"time"

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
				secret, k, err := keys.Issue(cmd.Context(), db, kind, name)
				if err != nil {
					return err
				}
				a.audit(cmd.Context(), db, store.AuditKeyCreated, keys.Subject(k), "")
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
	cmd.AddCommand(create, secret, a.keysListCmd(), a.keysRevokeCmd(), a.keysRotateCmd())
	return cmd
}

func (a *app) keysListCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the keys: id, kind, name, prefix, created, last used, state",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withStore(cmd.Context(), a.openExisting, func(db *store.DB) error {
				ks, err := db.Keys(cmd.Context())
				if err != nil {
					return err
				}
				tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tKIND\tNAME\tPREFIX\tCREATED\tLAST USED\tSTATE")
				now := time.Now()
				for _, k := range ks {
					fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", k.ID, k.Kind, k.Name, k.Prefix, day(k.CreatedAt),
						day(k.LastUsedAt), keyState(k, now))
				}
				return tw.Flush()
			})
		},
	}
}

func (a *app) keysRevokeCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "revoke ID|PREFIX",
		Short: "Revoke a key at once (every node refuses it within 30 seconds)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withStore(cmd.Context(), a.openExisting, func(db *store.DB) error {
				k, err := keys.Find(cmd.Context(), db, args[0])
				if err != nil {
					return err
				}
				if k, err = db.RevokeKey(cmd.Context(), k.ID, time.Now()); err != nil {
					return err
				}
				a.audit(cmd.Context(), db, store.AuditKeyRevoked, keys.Subject(k), "")
				fmt.Fprintf(a.stdout, "key %d (%s, %s) revoked\n", k.ID, k.Kind, k.Prefix)
				return nil
			})
		},
	}
}

func (a *app) keysRotateCmd() *cobra.Command {
	var grace time.Duration
	cmd := &cobra.Command{
		Use:   "rotate ID|PREFIX",
		Short: "Replace a key: print a new secret of its kind and name; the old one works for --grace more",
		Long: `Create a key of the same kind and name as the one given and print only its
secret, as create does; the old key keeps working for --grace (default 24h),
time to deploy the new one, then stops.

  NEW=$(beacon keys rotate bk_w_Ab3x --grace 1h)`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if grace < 0 {
				return fmt.Errorf("--grace %s: must not be negative", grace)
			}
			return a.withStore(cmd.Context(), a.openExisting, func(db *store.DB) error {
				old, err := keys.Find(cmd.Context(), db, args[0])
				if err != nil {
					return err
				}
				secret, k, err := keys.Rotate(cmd.Context(), db, old, grace, time.Now())
				if err != nil {
					return err
				}
				a.audit(cmd.Context(), db, store.AuditKeyRotated, keys.Subject(old), "new key "+keys.Subject(k)+", grace "+grace.String())
				fmt.Fprintln(a.stdout, secret)
				return nil
			})
		},
	}
	cmd.Flags().DurationVar(&grace, "grace", 24*time.Hour, "how long the old key keeps working")
	return cmd
}

// keyState says whether a key works, and until when.
func keyState(k store.Key, now time.Time) string {
	switch {
	case k.RevokedAt.IsZero():
		return "active"
	case now.Before(k.RevokedAt):
		return "rotated, works until " + k.RevokedAt.UTC().Format(time.RFC3339)
	}
	return "revoked " + k.RevokedAt.UTC().Format(time.DateOnly)
}

func day(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.UTC().Format("2006-01-02 15:04")
}

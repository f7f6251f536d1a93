package cli

import (
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/beaconplg/beacon/internal/store"
)

func (a *app) actionsCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "actions", Short: "List alert deliveries and send dead ones again"}
	var q store.DeliveryQuery
	list := &cobra.Command{
		Use:   "list",
		Short: "List deliveries, most recently changed first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withStore(cmd.Context(), a.openExisting, func(db *store.DB) error {
				ds, err := db.ListDeliveries(cmd.Context(), q)
				if err != nil {
					return err
				}
				w := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(w, "DELIVERY\tALERT\tDESTINATION\tSTATE\tATTEMPTS\tUPDATED\tLAST ERROR")
				for _, d := range ds {
					fmt.Fprintf(w, "%d\t%d\t%s\t%s\t%d\t%s\t%s\n", d.ID, d.AlertID, d.Destination, d.State, d.Attempts,
						d.UpdatedAt.Format(time.RFC3339), d.LastError)
				}
				return w.Flush()
			})
		},
	}
	list.Flags().StringVar(&q.State, "state", "", "only this state: pending, delivering, delivered, failed or dead")
	list.Flags().StringVar(&q.Destination, "destination", "", "only this destination")
	list.Flags().IntVar(&q.Limit, "limit", 50, "at most this many")
	var dest string
	retry := &cobra.Command{
		Use:   "retry [DELIVERY...]",
		Short: "Send deliveries again: the ones named, or every dead one",
		Long: `Make deliveries due now with a fresh count of attempts: the dead or failed
deliveries named by id, or with none named every dead one (of --destination
only, if given). A running beacon serve sends them within a second; the
receiver can drop what it already has by the webhook-id.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			ids, err := parseIDs(args, "delivery")
			if err != nil {
				return err
			}
			return a.withStore(cmd.Context(), a.openExisting, func(db *store.DB) error {
				n, err := db.Retry(cmd.Context(), time.Now(), ids, dest)
				if err != nil {
					return err
				}
				a.audit(cmd.Context(), db, store.AuditDeliveriesRetry, fmt.Sprintf("%v %s", ids, dest), fmt.Sprintf("%d deliveries", n))
				fmt.Fprintf(a.stdout, "%d deliveries to send again\n", n)
				return nil
			})
		},
	}
	retry.Flags().StringVar(&dest, "destination", "", "with no ids: only dead deliveries to this destination")
	cmd.AddCommand(list, retry)
	return cmd
}

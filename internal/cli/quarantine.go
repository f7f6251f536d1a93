package cli

import (
	"fmt"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/beaconplg/beacon/internal/identity"
	"github.com/beaconplg/beacon/internal/store"
)

func (a *app) quarantineCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "quarantine", Short: "List what a stage could not apply, and apply it again after a fix",
		Long: `When identity cannot project an event (a value the store refuses, a bug) or
scoring cannot score a subject (a rule that fails on its values), the stage
sets it aside in the quarantine and goes on with the rest. These commands
list what is there and retry it once the cause is fixed (docs/operations.md).`}
	cmd.AddCommand(a.quarantineListCmd(), a.quarantineRetryCmd())
	return cmd
}

func (a *app) quarantineListCmd() *cobra.Command {
	q := store.QuarantineQuery{Open: true}
	var all bool
	list := &cobra.Command{
		Use:   "list",
		Short: "List quarantined events and subjects, newest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if all {
				q.Open = false
			}
			if q.Stage != "" && q.Stage != store.StageIdentity && q.Stage != store.StageScoring && q.Stage != store.StageSignals {
				return fmt.Errorf("--stage %q: want %s, %s or %s", q.Stage, store.StageIdentity, store.StageSignals, store.StageScoring)
			}
			return a.withStore(cmd.Context(), a.openExisting, func(db *store.DB) error {
				qs, err := db.QuarantinedList(cmd.Context(), q)
				if err != nil {
					return err
				}
				w := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(w, "ID\tSTAGE\tUSER\tACCOUNT\tEVENT\tATTEMPTS\tLAST\tSTATE\tERROR")
				for _, r := range qs {
					ev, state := "-", "open"
					if r.Seq != 0 {
						ev = fmt.Sprintf("%d %s", r.Seq, r.MessageID)
					}
					if !r.Resolved.IsZero() {
						state = "resolved " + r.Resolved.Format(time.RFC3339)
					}
					fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\n", r.ID, r.Stage, dash(r.UserID), dash(r.AccountID), ev,
						r.Attempts, r.LastAt.Format(time.RFC3339), state, r.Error)
				}
				return w.Flush()
			})
		},
	}
	list.Flags().BoolVar(&all, "all", false, "resolved ones too")
	list.Flags().StringVar(&q.Stage, "stage", "", "only this stage: identity, signals or scoring")
	list.Flags().IntVar(&q.Limit, "limit", 100, "at most this many")
	return list
}

func (a *app) quarantineRetryCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "retry [ID...]",
		Short: "Apply quarantined messages again: the ones named, or every open one",
		Long: `Project again, oldest first, the events identity set aside, each in a
transaction of its own; an event that still fails stays, with its new error.
Scoring's subjects are resolved and everyone is rescored: a running beacon
serve does it at its next pass, and quarantines again a subject that still
fails. Run it after fixing the cause (a rule, a value, a new release).`,
		RunE: func(cmd *cobra.Command, args []string) error {
			ids, err := parseIDs(args, "quarantine id")
			if err != nil {
				return err
			}
			return a.withStore(cmd.Context(), a.openExisting, func(db *store.DB) error {
				byStage, err := stagesOf(cmd, db, ids)
				if err != nil {
					return err
				}
				var r identity.Retried
				if len(ids) == 0 || len(byStage[store.StageIdentity]) > 0 {
					if r, err = a.identity(db, nil).Retry(cmd.Context(), byStage[store.StageIdentity]...); err != nil {
						return err
					}
				}
				n := 0
				rescore := append(byStage[store.StageScoring], byStage[store.StageSignals]...)
				if len(ids) == 0 || len(rescore) > 0 {
					if n, err = db.ResolveScoring(cmd.Context(), identity.EpochName, rescore, time.Now()); err != nil {
						return err
					}
				}
				summary := fmt.Sprintf("identity: %d events projected, %d still failing; signals and scoring: %d to take again",
					r.Applied, r.Failed, n)
				a.audit(cmd.Context(), db, store.AuditQuarantineRetry, fmt.Sprint(ids), summary)
				fmt.Fprintln(a.stdout, summary)
				return nil
			})
		},
	}
}

// stagesOf sorts the open quarantine rows named by ids by stage; an id
// that names none is an error.
func stagesOf(cmd *cobra.Command, db *store.DB, ids []int64) (map[string][]int64, error) {
	out := map[string][]int64{}
	if len(ids) == 0 {
		return out, nil
	}
	open, err := db.QuarantinedList(cmd.Context(), store.QuarantineQuery{Open: true, Limit: 1 << 30})
	if err != nil {
		return nil, err
	}
	stage := map[int64]string{}
	for _, q := range open {
		stage[q.ID] = q.Stage
	}
	for _, id := range ids {
		s, ok := stage[id]
		if !ok {
			return nil, fmt.Errorf("quarantine id %d: no open row has it (beacon quarantine list)", id)
		}
		out[s] = append(out[s], id)
	}
	return out, nil
}

// parseIDs reads the numeric ids of args; what names them in an error.
func parseIDs(args []string, what string) ([]int64, error) {
	ids := make([]int64, len(args))
	for i, s := range args {
		id, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%s %q: want a number", what, s)
		}
		ids[i] = id
	}
	return ids, nil
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

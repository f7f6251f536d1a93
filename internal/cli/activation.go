package cli

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/beaconplg/beacon/internal/calibration"
)

func (a *app) activationCmd() *cobra.Command {
	var within string
	var o calibration.MilestoneOptions
	cmd := &cobra.Command{
		Use:   "activation",
		Short: "Find the activation milestone: the early action that sets retained users apart",
		Long: `Seed 004's method: users still active at day 30 (on a day of the week from it)
against users inactive by then, compared on what they did in their first days
(--within, 7d by default): each action done once, 3 or 10 times, and the best
actions in pairs, ranked by the difference in share between the two groups. The
best is proposed as the activation milestone, and each weekly cohort of new
users is followed to it (or to --event, the configured one): how many reached
it and in how many days.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var err error
			if o.Within, err = daysFlag("--within", within); err != nil {
				return err
			}
			return a.activation(cmd.Context(), o)
		},
	}
	cmd.Flags().StringVar(&within, "within", "7d", "days from a user's first to read their early actions")
	cmd.Flags().StringVar(&o.Event, "event", "", "follow this event's cohorts instead of the best milestone found")
	return cmd
}

func (a *app) activation(ctx context.Context, o calibration.MilestoneOptions) error {
	db, rules, err := a.storeAndRules(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	book := calibration.NewBook()
	if err := a.replayInto(ctx, db, rules, book); err != nil {
		return err
	}
	act, err := book.FindActivation(o)
	if err != nil {
		return err
	}
	a.printActivation(act)
	return nil
}

func (a *app) printActivation(act *calibration.Activation) {
	fmt.Fprintf(a.stdout, "%d users retained at day %d (active in the week from it), %d churned; their first %d days compared\n",
		act.Retained, calibration.RetainedAt, act.Churned, act.Options.Within)
	w := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "milestone\tretained\tchurned\tdifference")
	for _, m := range act.Milestones {
		fmt.Fprintf(w, "%s\t%.1f %% [%.0f-%.0f]\t%.1f %% [%.0f-%.0f]\t%+.1f points\n", m.Label, 100*m.Share, 100*m.ShareCI[0], 100*m.ShareCI[1],
			100*m.ChurnedShare, 100*m.ChurnedCI[0], 100*m.ChurnedCI[1], 100*m.Differential)
	}
	w.Flush()
	best := act.Milestones[0]
	fmt.Fprintf(a.stdout, "\nproposed activation milestone: %s\n", best.Label)
	if len(best.Events) == 1 && best.Min == 1 {
		fmt.Fprintf(a.stdout, "in beacon.yaml:\n  metrics:\n    activation_event: %s\n", strings.TrimPrefix(best.Events[0], "page:"))
	} else {
		fmt.Fprintln(a.stdout, "(metrics.activation_event names one event done once: instrument the milestone as an event of its own to use it)")
	}
	fmt.Fprintf(a.stdout, "\ntime to %s by weekly cohort of new users\n", act.Followed.Label)
	if act.Note != "" {
		fmt.Fprintf(a.stdout, "(%s)\n", act.Note)
	}
	w = tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "week of\tusers\treached\tshare\tmedian days\t")
	for _, c := range act.Cohorts {
		median := "-"
		if c.Activated > 0 {
			median = fmt.Sprintf("%.1f", c.MedianDays)
		}
		fmt.Fprintf(w, "%s\t%d\t%d\t%.1f %%\t%s\t\n", c.Week, c.Users, c.Activated, 100*float64(c.Activated)/float64(c.Users), median)
	}
	w.Flush()
}

package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/goccy/go-yaml"
	"github.com/spf13/cobra"

	"github.com/beaconplg/beacon/internal/calibration"
	"github.com/beaconplg/beacon/internal/score"
)

func (a *app) trainCmd() *cobra.Command {
	o := calibration.DefaultModelOptions()
	var horizon, out string
	cmd := &cobra.Command{
		Use:   "train",
		Short: "Train a model of conversion beside the rules, once there are 1,000 conversions",
		Long: `Seed 004: "do not over-engineer with machine learning until you have 1,000+
conversions to train on". Below that, say so and stay with the rules. From
1,000 on, train a logistic regression of paying within --horizon days on what
each open account did in the 14 days to weekly cut-offs (every behaviour's
count, the days and users active, the ICP fact), on the earliest 70 %
of the cut-offs, and validate it on the later ones, whose outcomes training
never saw: the area under the ROC curve, predicted against observed by tenths,
and the accounts most likely to pay at the last cut-off with the features that
move each most. Nothing leaves the process. --min-conversions lowers the gate,
for a look at a smaller product: its figures then say little.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var err error
			if o.Horizon, err = daysFlag("--horizon", horizon); err != nil {
				return err
			}
			if o.MinConversions < 1 {
				return fmt.Errorf("--min-conversions %d: want 1 or more", o.MinConversions)
			}
			return a.train(cmd.Context(), o, out)
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "write the model as a model: section for beacon.yaml's scoring, which rules read as propensity")
	cmd.Flags().IntVar(&o.MinConversions, "min-conversions", o.MinConversions, "conversions needed before a model is trained")
	cmd.Flags().StringVar(&horizon, "horizon", "30d", "days after a cut-off in which a payment counts")
	return cmd
}

func (a *app) train(ctx context.Context, o calibration.ModelOptions, out string) error {
	db, _, ev, err := a.openEvidence(ctx)
	if err != nil {
		return err
	}
	db.Close() // the evidence is in memory
	m, err := ev.TrainModel(o)
	if errors.Is(err, calibration.ErrTooFewConversions) {
		fmt.Fprintf(a.stdout, "no model: %v\n", err)
		return nil
	}
	if err != nil {
		return err
	}
	a.printModel(m)
	if out == "" {
		return nil
	}
	src, err := yaml.Marshal(struct {
		Model score.ModelSpec `yaml:"model"`
	}{m.Spec()})
	if err != nil {
		return err
	}
	head := fmt.Sprintf("# Trained by beacon train on %d account-days up to %s; on %d later ones, AUC %.3f.\n"+
		"# Put it under scoring: in beacon.yaml; account rules then read its probability as propensity.\n",
		m.TrainSamples, m.TrainUntil, m.ValidSamples, m.AUC)
	if err := os.WriteFile(out, append([]byte(head), src...), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "\nmodel written to %s\n", out)
	return nil
}

func (a *app) printModel(m *calibration.Model) {
	fmt.Fprintf(a.stdout, "%d conversions. Trained on %d account-days (%d paid) up to %s; validated on %d later ones (%d paid): AUC %.3f\n",
		m.Conversions, m.TrainSamples, m.TrainPaid, m.TrainUntil, m.ValidSamples, m.ValidPaid, m.AUC)
	fmt.Fprintln(a.stdout, "\ncalibration on the later cut-offs, by tenth of prediction")
	w := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "tenth\taccount-days\tpredicted\tpaid\t")
	for i, d := range m.Deciles {
		fmt.Fprintf(w, "%d\t%d\t%.1f %%\t%.1f %%\t\n", i+1, d.N, 100*d.Predicted, 100*d.Observed)
	}
	w.Flush()
	fmt.Fprintln(a.stdout, "\nstrongest features (per standard deviation of log(1 + count))")
	w = tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	for _, f := range m.Strongest(10) {
		fmt.Fprintf(w, "  %s\t%+.2f\n", strings.TrimPrefix(f.Signal, "page:"), f.Weight)
	}
	w.Flush()
	fmt.Fprintln(a.stdout, "\nmost likely to pay, as of the last cut-off")
	for _, p := range m.Top {
		var why []string
		for _, r := range p.Reasons {
			why = append(why, fmt.Sprintf("%s %g (%+.2f)", strings.TrimPrefix(r.Signal, "page:"), r.Value, r.LogOdd))
		}
		fmt.Fprintf(a.stdout, "  %-24s %5.1f %%  %s\n", p.Account, 100*p.Probability, strings.Join(why, ", "))
	}
}

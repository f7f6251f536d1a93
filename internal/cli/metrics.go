package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/beaconplg/beacon/internal/billing"
	"github.com/beaconplg/beacon/internal/growth"
	"github.com/beaconplg/beacon/internal/score"
	"github.com/beaconplg/beacon/internal/signal"
	"github.com/beaconplg/beacon/internal/store"
)

func (a *app) metricsCmd() *cobra.Command {
	var from, to, by, names, format, table string
	cmd := &cobra.Command{
		Use:   "metrics",
		Short: "Print the PLG metrics of a period: seed 002's tables, revenue, virality, infrastructure",
		Long: `Print the dashboard of a period in the terminal: each metric's current value,
target, trend from the period before, and seed 004's band. It reads the store
(the events once, as a replay) without writing scores. --to is the last day
included; the period defaults to the 30 days to today.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			v := url.Values{"by": {by}, "names": {names}, "from": {from}, "to": {to}}
			q, err := growth.ParsePeriod(v, time.Now(), growth.DefaultDays)
			if err != nil {
				return flagError(err)
			}
			switch format {
			case "table", "csv", "json":
			default:
				return fmt.Errorf("--format %q: want table, csv or json", format)
			}
			if table != "" && !slices.ContainsFunc(growth.Tables, func(t struct{ Name, Label string }) bool { return t.Name == table }) {
				return fmt.Errorf("--table %q: want acquisition, activation, engagement, monetization, revenue, virality or infrastructure", table)
			}
			ctx := cmd.Context()
			db, err := a.openExisting(ctx)
			if err != nil {
				return err
			}
			defer db.Close()
			m, err := a.replayMetrics(cmd, db)
			if err != nil {
				return err
			}
			rep, err := m.Report(ctx, q)
			if err != nil {
				return err
			}
			switch format {
			case "csv":
				return growth.WriteCSV(a.stdout, rep, table)
			case "json":
				enc := json.NewEncoder(a.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(rep)
			}
			a.printMetrics(rep, table)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&from, "from", "", "first day, 2006-01-02 (default: 30 days before --to)")
	f.StringVar(&to, "to", "", "last day, 2006-01-02 (default: today)")
	f.StringVar(&by, "by", "", "break down by segment, cohort or channel")
	f.StringVar(&names, "names", "", "comma-separated metrics (default: all; see docs/metrics.md)")
	f.StringVar(&table, "table", "", "one table: acquisition, activation, engagement, monetization, revenue, virality, infrastructure")
	f.StringVar(&format, "format", "table", "table, csv or json")
	return cmd
}

// replayMetrics builds the metrics' book by replaying the stored events
// through the signal stage, as `beacon serve` does at its start.
func (a *app) replayMetrics(cmd *cobra.Command, db *store.DB) (*growth.Service, error) {
	rules, err := a.compiled()
	if err != nil {
		return nil, err
	}
	book := growth.NewBook(a.cfg.Metrics)
	if err := a.replayInto(cmd.Context(), db, rules, book); err != nil {
		return nil, err
	}
	return growth.New(a.cfg.Metrics, book, db, billing.NewBook(db), func() (string, []string, string) {
		card, tiers := rules.RoutedTiers()
		return card, tiers, score.Subject(score.OfAccount, "")
	}), nil
}

// replayInto resolves every stored event and replays the stream through
// the signal stage into w, scoring nobody, as `beacon serve` does at its
// start.
func (a *app) replayInto(ctx context.Context, db *store.DB, rules *score.Rules, w signal.Watcher) error {
	if _, err := a.identity(db, nil).Sync(ctx); err != nil {
		return err
	}
	return a.replayBook(ctx, db, rules, w)
}

// replayBook replays the stream, as identity has resolved it, into w: in
// a server, beside the live stages, reading only.
func (a *app) replayBook(ctx context.Context, db *store.DB, rules *score.Rules, w signal.Watcher) error {
	stage := signal.NewStage(db, rules.Signals, a.log, time.Now, func() {})
	stage.Watch(w)
	_, err := stage.TakeIn(ctx, nowhere{})
	return err
}

// nowhere hears who moved, for a replay that scores nobody.
type nowhere struct{}

func (nowhere) Everyone()                         {}
func (nowhere) Changed(_, _ []string)             {}
func (nowhere) Moved(_, _ string, _ signal.Moved) {}
func (nowhere) Merged(string)                     {}

func (a *app) printMetrics(rep *growth.Report, table string) {
	fmt.Fprintf(a.stdout, "PLG metrics %s to %s\n", rep.From.Format(time.DateOnly), rep.To.AddDate(0, 0, -1).Format(time.DateOnly))
	for _, t := range growth.Tables {
		if table != "" && t.Name != table {
			continue
		}
		w := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
		header := false
		for _, v := range rep.Values {
			if v.Table != t.Name {
				continue
			}
			if !header {
				fmt.Fprintf(a.stdout, "\n%s\n", strings.ToUpper(t.Label))
				fmt.Fprintln(w, "Metric\tCurrent\tTarget\tTrend\tBand\t")
				header = true
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t\n", v.Label, v.Text(), v.TargetText(), v.TrendText(), v.Level)
		}
		w.Flush()
	}
	for _, g := range rep.Groups {
		fmt.Fprintf(a.stdout, "\n%s %s\n", rep.By, g.Name)
		w := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
		for _, v := range g.Values {
			if table == "" || v.Table == table {
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t\n", v.Label, v.Text(), v.TrendText(), v.Level)
			}
		}
		w.Flush()
	}
}

// flagError names the flag a query parameter's error is about.
func flagError(err error) error {
	var qe *growth.QueryError
	if !errors.As(err, &qe) {
		return err
	}
	if strings.HasPrefix(qe.Message, qe.Field) {
		return errors.New("--" + qe.Message)
	}
	return fmt.Errorf("--%s: %s", qe.Field, qe.Message)
}

package cli

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/beaconplg/beacon/internal/billing"
	"github.com/beaconplg/beacon/internal/calibration"
	"github.com/beaconplg/beacon/internal/score"
	"github.com/beaconplg/beacon/internal/signal"
	"github.com/beaconplg/beacon/internal/store"
)

func (a *app) discoverCmd() *cobra.Command {
	o := calibration.DefaultOptions()
	var until, window, out string
	cmd := &cobra.Command{
		Use:   "discover",
		Short: "Find the behaviours that come before conversion and propose a rubric from them",
		Long: `Compare the last conversions (payments, from billing) with accounts that did
not convert, behaviour by behaviour, in the days before payment, as seed 004
prescribes; print what sets them apart, with 95 % intervals, and propose the
routing scorecard's rules and tiers as beacon.yaml (--out FILE, or after the
table). With --until, discovery reads nothing after that day, and the proposal
is backtested against the configured rules on the days after it.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var err error
			if o.Until, err = dayFlag("--until", until, calibration.Never); err != nil {
				return err
			}
			if o.Window, err = daysFlag("--window", window); err != nil {
				return err
			}
			if err := o.Validate(); err != nil {
				return err
			}
			return a.discover(cmd.Context(), o, out)
		},
	}
	f := cmd.Flags()
	f.StringVar(&until, "until", "", "learn only from what happened up to this day (YYYY-MM-DD)")
	f.IntVar(&o.Conversions, "conversions", o.Conversions, "how many of the latest conversions to learn from")
	f.StringVar(&window, "window", "14d", "days before payment to read, 7d to 14d")
	f.IntVar(&o.Matched, "matched", o.Matched, "non-converters compared per conversion")
	f.IntVar(&o.MaxRules, "max-rules", o.MaxRules, "most rules to propose")
	f.StringVar(&out, "out", "", "write the proposed beacon.yaml scoring section to this file")
	return cmd
}

// dayFlag reads a YYYY-MM-DD flag as a signal day; none if empty.
func dayFlag(name, v string, none int32) (int32, error) {
	if v == "" {
		return none, nil
	}
	t, err := time.Parse(time.DateOnly, v)
	if err != nil {
		return 0, fmt.Errorf("%s %q: want YYYY-MM-DD", name, v)
	}
	return signal.Day(t), nil
}

// daysFlag reads a number of days written as 14d.
func daysFlag(name, v string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSuffix(v, "d"))
	if err != nil || !strings.HasSuffix(v, "d") {
		return 0, fmt.Errorf("%s %q: want a number of days such as 14d", name, v)
	}
	return n, nil
}

// evidence replays the stream into a calibration book and joins it to
// accounts and billing.
func (a *app) evidence(ctx context.Context, db *store.DB, rules *score.Rules) (*calibration.Evidence, error) {
	book := calibration.NewBook()
	if err := a.replayInto(ctx, db, rules, book); err != nil {
		return nil, err
	}
	ev, err := calibration.Gather(ctx, db, billing.NewBook(db), book, rules.FitsICP)
	if err == nil && a.cfg.Metrics.ActivationEvent != "" {
		ev.SetActivation(a.cfg.Metrics.ActivationEvent)
	}
	return ev, err
}

// storeAndRules opens the existing store and compiles the configured
// rules; the caller closes the store.
func (a *app) storeAndRules(ctx context.Context) (*store.DB, *score.Rules, error) {
	rules, err := a.compiled()
	if err != nil {
		return nil, nil, err
	}
	db, err := a.openExisting(ctx)
	return db, rules, err
}

// openEvidence opens the store, compiles the rules and gathers the
// evidence; the caller closes the store.
func (a *app) openEvidence(ctx context.Context) (*store.DB, *score.Rules, *calibration.Evidence, error) {
	db, rules, err := a.storeAndRules(ctx)
	if err != nil {
		return nil, nil, nil, err
	}
	ev, err := a.evidence(ctx, db, rules)
	if err != nil {
		db.Close()
		return nil, nil, nil, err
	}
	return db, rules, ev, nil
}

func (a *app) discover(ctx context.Context, o calibration.Options, out string) error {
	db, rules, ev, err := a.openEvidence(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	d, err := ev.Discover(o)
	if err != nil {
		return err
	}
	a.printDiscovery(d)
	prop, err := ev.Propose(d, rules.Spec)
	if err != nil {
		return err
	}
	src, err := prop.YAML(d)
	if err != nil {
		return err
	}
	proposed, err := score.Compile(prop.Spec)
	if err != nil {
		return fmt.Errorf("discover: the proposal does not compile: %w", err)
	}
	if out != "" {
		if err := os.WriteFile(out, src, 0o644); err != nil {
			return err
		}
		fmt.Fprintf(a.stdout, "\nproposed rubric written to %s\n", out)
	} else {
		fmt.Fprintf(a.stdout, "\n%s", src)
	}
	if o.Until == calibration.Never {
		return nil
	}
	fmt.Fprintf(a.stdout, "\nout of sample: both rubrics as of %s, followed for %d days\n", calibration.DateOf(o.Until), o.Horizon)
	for _, r := range []struct {
		name  string
		rules *score.Rules
	}{{"configured", rules}, {"proposed", proposed}} {
		snap, err := ev.Snapshot(ctx, a.standingsAt(db), r.rules, o.Until, o.Horizon)
		if err != nil {
			return err
		}
		a.printSnapshot(r.name, snap)
	}
	return nil
}

// standingsAt scores every account of db as of an instant, writing
// nothing.
func (a *app) standingsAt(db *store.DB) calibration.StandingsAt {
	return func(ctx context.Context, rules *score.Rules, at time.Time) ([]score.Standing, error) {
		s := score.New(db, rules, a.log, func() time.Time { return at })
		s.OneShot()
		s.AsOf(at)
		return s.Standings(ctx)
	}
}

func (a *app) printDiscovery(d *calibration.Discovery) {
	fmt.Fprintf(a.stdout, "%d conversions against %d accounts compared, %d days before payment\n", d.Converters, d.NonConverters, d.Options.Window)
	if d.Warning != "" {
		fmt.Fprintf(a.stdout, "warning: %s\n", d.Warning)
	}
	fmt.Fprintf(a.stdout, "model: %s\n", d.Model)
	w := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "\tcandidate\tconverters\tothers\tratio\todds ratio (as active)\t70 %")
	for i, f := range d.Findings {
		if i >= 20 && !f.Picked {
			continue
		}
		mark := ""
		if f.Picked {
			mark = "*"
		}
		seed := ""
		if f.SeedPresent {
			seed = "yes"
		}
		fmt.Fprintf(w, "%s\t%s\t%.0f %% [%.0f-%.0f]\t%.0f %% [%.0f-%.0f]\t%.2f\t%.2f [%.2f-%.2f]\t%s\n", mark, f.Label,
			100*f.Share, 100*f.ShareCI[0], 100*f.ShareCI[1], 100*f.NonShare, 100*f.NonShareCI[0], 100*f.NonShareCI[1],
			f.Lift, f.Adjusted, f.AdjustedCI[0], f.AdjustedCI[1], seed)
	}
	w.Flush()
	fmt.Fprintln(a.stdout, "* proposed; 70 %: shown by 70 %+ of the conversions, seed 004's test (which popular behaviours pass too)")
}

func (a *app) printSnapshot(name string, s calibration.Snapshot) {
	fmt.Fprintf(a.stdout, "%s: %d open accounts, %d paid within %d days (%.1f %%)\n", name, s.Open, s.Converted, s.Horizon, 100*s.Rate())
	w := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	head := "  tier\theld\tshare\tpaid\tprecision\tlift\trecall\tmedian days"
	if s.Entries() {
		head += "\tentered\tof them paid"
	}
	fmt.Fprintln(w, head)
	for _, t := range s.Tiers {
		median := "-"
		if t.Converted > 0 {
			median = fmt.Sprintf("%.0f", t.MedianDays)
		}
		fmt.Fprintf(w, "  %s\t%d\t%.1f %%\t%d\t%.1f %% [%.0f-%.0f]\t%.2f\t%.1f %%\t%s", cmp.Or(t.Tier, "(none)"), t.Held, 100*t.Share, t.Converted,
			100*t.Precision, 100*t.PrecisionCI[0], 100*t.PrecisionCI[1], t.Lift, 100*t.Recall, median)
		if s.Entries() && t.Tier != "" {
			fmt.Fprintf(w, "\t%d\t%.1f %%", t.Entered, 100*t.EnteredPrecision)
		}
		fmt.Fprintln(w)
	}
	w.Flush()
}

func (a *app) backtestCmd() *cobra.Command {
	var files []string
	var from, to, every, horizon, format string
	cmd := &cobra.Command{
		Use:   "backtest",
		Short: "Score every account as of past days and follow what became of each tier",
		Long: `For each cut-off day from --from to --to (every --every), score every account as
of that day, with only the events up to it and writing nothing, and follow the
routing scorecard's tiers for --horizon days: accounts held, paid, precision,
lift over the base rate, recall and median days to payment, added up over the
period and judged against seed 004's bands. Give --rules more than once to
compare rules files on the same days (the configured rules otherwise).
--format json prints every cut-off as well.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if format != "table" && format != "json" {
				return fmt.Errorf("--format %q: want table or json", format)
			}
			h, err := daysFlag("--horizon", horizon)
			if err != nil {
				return err
			}
			step, err := daysFlag("--every", every)
			if err != nil || step < 1 {
				return fmt.Errorf("--every %q: want 1d or more", every)
			}
			first, err := dayFlag("--from", from, 0)
			if err != nil {
				return err
			}
			last, err := dayFlag("--to", to, 0)
			if err != nil {
				return err
			}
			rep, err := a.backtest(cmd.Context(), files, first, last, step, h)
			if err != nil {
				return err
			}
			if format == "json" {
				enc := json.NewEncoder(a.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(rep)
			}
			a.printBacktest(rep)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&files, "rules", nil, "a beacon.yaml (or rules file) whose scoring section to test; repeat to compare")
	f.StringVar(&from, "from", "", "first cut-off day, YYYY-MM-DD (default: 60 cut-offs before --to)")
	f.StringVar(&to, "to", "", "last cut-off day, YYYY-MM-DD (default: the last day with --horizon after it)")
	f.StringVar(&every, "every", "1d", "days between cut-offs")
	f.StringVar(&horizon, "horizon", "30d", "days to follow each cut-off")
	f.StringVar(&format, "format", "table", "table or json")
	return cmd
}

type namedRules struct {
	name  string
	rules *score.Rules
}

func (a *app) rulesFiles(files []string) ([]namedRules, error) {
	if len(files) == 0 {
		r, err := a.compiled()
		return []namedRules{{"configured", r}}, err
	}
	var out []namedRules
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		sp, err := score.ParseFile(src, f)
		if err != nil {
			return nil, err
		}
		r, err := score.Compile(*sp)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		out = append(out, namedRules{f, r})
	}
	return out, nil
}

// backtestReport is what beacon backtest found: per rules file, the
// cut-offs added up, each cut-off, and seed 004's diagnosis.
type backtestReport struct {
	From    string               `json:"from"`
	To      string               `json:"to"`
	Every   int                  `json:"every_days"`
	Horizon int                  `json:"horizon_days"`
	Results []calibration.Result `json:"results"`
}

func (a *app) backtest(ctx context.Context, files []string, first, last int32, step, horizon int) (*backtestReport, error) {
	all, err := a.rulesFiles(files)
	if err != nil {
		return nil, err
	}
	db, err := a.openExisting(ctx)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	ev, err := a.evidence(ctx, db, all[0].rules)
	if err != nil {
		return nil, err
	}
	if last == 0 {
		last = ev.LastDay() - int32(horizon)
	}
	if first == 0 {
		// Sixty cut-offs, but none before anyone was active.
		first = last - int32(59*step)
		for start := ev.FirstDay(); first < start; {
			first += int32(step)
		}
	}
	if first > last {
		return nil, fmt.Errorf("backtest: --from %s is after --to %s", calibration.DateOf(first), calibration.DateOf(last))
	}
	rep := &backtestReport{From: calibration.DateOf(first), To: calibration.DateOf(last), Every: step, Horizon: horizon}
	p := calibration.Period{First: first, Last: last, Step: step, Horizon: horizon}
	for _, r := range all {
		res, err := ev.Backtest(ctx, a.standingsAt(db), r.name, r.rules, p)
		if err != nil {
			return nil, err
		}
		res.Diagnosis = append(res.Diagnosis, calibration.ActivationNote(a.cfg.Metrics.ActivationEvent, res.Total)...)
		rep.Results = append(rep.Results, res)
	}
	return rep, nil
}

func (a *app) printBacktest(rep *backtestReport) {
	fmt.Fprintf(a.stdout, "cut-offs %s to %s every %dd, each followed for %d days\n", rep.From, rep.To, rep.Every, rep.Horizon)
	for _, r := range rep.Results {
		fmt.Fprintln(a.stdout)
		a.printSnapshot(r.Rules+" (account-days over every cut-off)", r.Total)
		a.printMonths(r.Months)
		for _, line := range r.Diagnosis {
			fmt.Fprintf(a.stdout, "  - %s\n", line)
		}
		for _, o := range r.Others {
			a.printOther(o)
		}
	}
	if len(rep.Results) > 1 {
		a.printSideBySide(rep.Results)
	}
}

// printSideBySide compares the rules files on the same cut-offs: their top
// tier and their PQL tiers together, per account-day and per account
// entering.
func (a *app) printSideBySide(results []calibration.Result) {
	fmt.Fprintln(a.stdout, "\nside by side")
	w := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "  rules\ttop tier\tshare\tprecision\tlift\tPQL share\tPQL precision\tPQLs entered\tof them paid")
	for _, r := range results {
		top := r.Total.Tiers[0]
		fmt.Fprintf(w, "  %s\t%s\t%.1f %%\t%.1f %%\t%.2f\t%.1f %%\t%.1f %%\t%d\t%.1f %%\n", r.Rules, top.Tier, 100*top.Share, 100*top.Precision,
			top.Lift, 100*r.PQL.Share, 100*r.PQL.Precision, r.PQL.Entered, 100*r.PQL.EnteredPrecision)
	}
	w.Flush()
}

// printOther prints a card other than the routing one: what became of the
// accounts in each of its tiers, by what billing says.
func (a *app) printOther(o calibration.CardSnapshot) {
	s := o.Snapshot
	fmt.Fprintf(a.stdout, "\n  %s: %d account-days it applies to; within %d days %d first paid, %d expanded, %d churned\n",
		o.Card, s.Open, s.Horizon, s.Converted, s.Expanded, s.Churned)
	w := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "    tier\theld\tshare\tfirst paid\texpanded\tchurned")
	for _, t := range s.Tiers {
		if t.Tier == "" && t.Held == 0 {
			continue // a card whose lowest tier takes everyone
		}
		fmt.Fprintf(w, "    %s\t%d\t%.1f %%\t%.1f %% (%d)\t%.1f %% (%d)\t%.1f %% (%d)\n", cmp.Or(t.Tier, "(none)"), t.Held, 100*t.Share,
			100*t.Precision, t.Converted, 100*t.ExpansionRate, t.Expanded, 100*t.ChurnRate, t.Churned)
	}
	w.Flush()
}

// printMonths prints each tier's precision month by month, as seed 004
// tracks PQL-to-paid conversion.
func (a *app) printMonths(months []calibration.Month) {
	if len(months) < 2 {
		return
	}
	w := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprint(w, "  by month")
	for _, t := range months[0].Tiers {
		fmt.Fprintf(w, "\t%s", cmp.Or(t.Tier, "(none)"))
	}
	fmt.Fprintln(w)
	for _, m := range months {
		if m.Open == 0 {
			continue // before anyone was active
		}
		fmt.Fprintf(w, "  %s", m.Month)
		for _, t := range months[0].Tiers {
			r, _ := m.Tier(t.Tier)
			fmt.Fprintf(w, "\t%.1f %% of %d", 100*r.Precision, r.Held)
		}
		fmt.Fprintln(w)
	}
	w.Flush()
}

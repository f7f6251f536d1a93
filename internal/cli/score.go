package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/beaconplg/beacon/internal/config"
	"github.com/beaconplg/beacon/internal/score"
	"github.com/beaconplg/beacon/internal/store"
)

func (a *app) scoreCmd() *cobra.Command {
	var all bool
	var at, profile string
	cmd := &cobra.Command{
		Use:   "score --all",
		Short: "Recompute every score from the stored events",
		Long: `Resolve every stored event, rebuild the signal rollups from all of them and
rescore every account and user with the configured rules. Only scores that
changed are written, each change with its history row. A running server does
the same at start and on SIGHUP.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !all {
				return errors.New("say --all: scoring one subject at a time is what a running server does")
			}
			clock, err := clockAt(at)
			if err != nil {
				return err
			}
			tuneGC()
			stop, err := cpuProfile(profile)
			if err != nil {
				return err
			}
			defer stop()
			ctx := cmd.Context()
			db, err := a.openExisting(ctx)
			if err != nil {
				return err
			}
			defer db.Close()
			return a.scoreAll(ctx, db, clock, at != "")
		},
	}
	cmd.Flags().BoolVar(&all, "all", false, "rescore every account and user")
	cmd.Flags().StringVar(&at, "at", "", "score as of this day (YYYY-MM-DD) or time (RFC 3339) instead of now, leaving out events after it")
	cmd.Flags().StringVar(&profile, "cpuprofile", "", "write a CPU profile of the run to this file (go tool pprof)")
	return cmd
}

func clockAt(at string) (func() time.Time, error) {
	if at == "" {
		return time.Now, nil
	}
	for _, layout := range []string{time.RFC3339, time.DateOnly} {
		if t, err := time.Parse(layout, at); err == nil {
			if layout == time.DateOnly {
				t = t.Add(24*time.Hour - time.Millisecond)
			}
			return func() time.Time { return t }, nil
		}
	}
	return nil, fmt.Errorf("--at %q: want YYYY-MM-DD or an RFC 3339 time", at)
}

// scoreAll rescores everyone at clock's time; asOf leaves out the events
// after it, as of a past instant.
func (a *app) scoreAll(ctx context.Context, db *store.DB, clock func() time.Time, asOf bool) error {
	start := time.Now()
	if _, err := a.identity(db, nil).Sync(ctx); err != nil {
		return err
	}
	rules, err := a.compiled()
	if err != nil {
		return err
	}
	scorer := score.New(db, rules, a.log, clock)
	scorer.OneShot()
	if asOf {
		scorer.AsOf(clock())
	}
	rep, err := scorer.Sync(ctx)
	if err != nil {
		return err
	}
	packed := ""
	if rep.Packed > 0 {
		// The first replay after an import or an upgrade is the slow one:
		// say why.
		packed = fmt.Sprintf("; packed %d events for later replays", rep.Packed)
	}
	fmt.Fprintf(a.stdout, "scored %d subjects from %d events in %s with rules %s; %d scores changed%s\n",
		rep.Scored, rep.Events, time.Since(start).Round(time.Millisecond), rules.Version, rep.Written, packed)
	return nil
}

func (a *app) explainCmd() *cobra.Command {
	var asJSON, user bool
	cmd := &cobra.Command{
		Use:   "explain ACCOUNT",
		Short: "Show why an account (or, with --user, a user) scored what it did",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			db, err := a.openExisting(ctx)
			if err != nil {
				return err
			}
			defer db.Close()
			kind := score.OfAccount
			if user {
				kind = score.OfUser
			}
			return a.explain(ctx, db, score.Subject(kind, args[0]), asJSON)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.Flags().BoolVar(&user, "user", false, "explain a user's scores")
	return cmd
}

func (a *app) explain(ctx context.Context, db *store.DB, subject string, asJSON bool) error {
	ss, err := db.SubjectScores(ctx, subject)
	if err != nil {
		return err
	}
	if len(ss) == 0 {
		return fmt.Errorf("%s has no score (yet): %w", subject, store.ErrNotFound)
	}
	rules, err := a.compiled()
	if err != nil {
		return err
	}
	if asJSON {
		enc := json.NewEncoder(a.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(ss)
	}
	for _, s := range ss {
		if err := printScore(ctx, a.stdout, db, rules, s); err != nil {
			return err
		}
	}
	return nil
}

func printScore(ctx context.Context, w io.Writer, db *store.DB, rules *score.Rules, s store.Score) error {
	var reasons []score.Reason
	var signals map[string]any
	if err := errors.Join(json.Unmarshal(s.Reasons, &reasons), json.Unmarshal(s.Signals, &signals)); err != nil {
		return err
	}
	tier, route := s.Tier, ""
	if c, ok := rules.Card(s.Scorecard); ok {
		if t, ok := c.Tier(s.Tier); ok {
			tier, route = firstNonEmpty(t.Label, t.Name), t.Route
		}
	}
	fmt.Fprintf(w, "%s  %s: %g points, %s (since %s; rules %s)\n", s.Subject, s.Scorecard, s.Score,
		firstNonEmpty(tier, "no tier"), s.TierSince.Format(time.DateTime), s.RulesVersion)
	if route != "" {
		fmt.Fprintf(w, "  route: %s\n", route)
	}
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	for _, r := range reasons {
		fmt.Fprintf(tw, "  %+g\t%s\t%s\n", r.Points, r.Label, formatSignals(r.Signals))
	}
	tw.Flush()
	fmt.Fprintf(w, "  signals: %s\n", formatSignals(signals))
	hist, err := db.ScoreHistory(ctx, s.Scorecard, s.Subject, 10)
	if err != nil {
		return err
	}
	for _, h := range hist {
		fmt.Fprintf(w, "  %s  %g  %s → %s\n", h.At.Format(time.DateTime), h.Score, firstNonEmpty(h.PreviousTier, "-"), firstNonEmpty(h.Tier, "-"))
	}
	fmt.Fprintln(w)
	return nil
}

func formatSignals(m map[string]any) string {
	parts := make([]string, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s=%v", k, m[k]))
	}
	return strings.Join(parts, " ")
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}

func (a *app) rulesCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "rules", Short: "Check scoring rules"}
	cmd.AddCommand(&cobra.Command{
		Use:   "check FILE",
		Short: "Check a beacon.yaml: every problem with its line, or the rules' version",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c := config.Default()
			if err := c.LoadFile(args[0], true); err != nil {
				return err
			}
			rules, err := compile(c)
			if err != nil {
				return err
			}
			n := 0
			for _, card := range rules.Cards {
				n += len(card.Rules)
			}
			fmt.Fprintf(a.stdout, "%s: %d signals, %d scorecards, %d rules; version %s\n", args[0],
				len(rules.Signals.Defs), len(rules.Cards), n, rules.Version)
			return nil
		},
	})
	return cmd
}

func (a *app) initCmd() *cobra.Command {
	var preset, out string
	var force bool
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Write a commented beacon.yaml from a scoring preset",
		Long: "Write a commented beacon.yaml from a preset: " + strings.Join(score.Presets(), ", ") +
			" (pql-150 is seed 004's 150-point rubric, pql-100 the 0-100+ glossary model).",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			b, err := score.PresetFile(preset)
			if err != nil {
				return err
			}
			flags := os.O_WRONLY | os.O_CREATE | os.O_EXCL
			if force {
				flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
			}
			f, err := os.OpenFile(out, flags, 0o644)
			if errors.Is(err, os.ErrExist) {
				return fmt.Errorf("%s exists; --force replaces it", out)
			}
			if err != nil {
				return err
			}
			if _, err := f.Write(b); err != nil {
				f.Close()
				return err
			}
			if err := f.Close(); err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "wrote %s from preset %s\n", out, preset)
			return nil
		},
	}
	cmd.Flags().StringVar(&preset, "preset", score.DefaultPreset, "preset: "+strings.Join(score.Presets(), ", "))
	cmd.Flags().StringVarP(&out, "out", "o", config.DefaultFile, "file to write")
	cmd.Flags().BoolVar(&force, "force", false, "replace an existing file")
	return cmd
}

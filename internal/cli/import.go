package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"

	"github.com/beaconplg/beacon/internal/identity"
	"github.com/beaconplg/beacon/internal/importer"
	"github.com/beaconplg/beacon/internal/store"
)

func (a *app) importCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "import", Short: "Bulk-load events or CRM accounts from files"}
	var format, defaultType, profile string
	var maps []string
	events := &cobra.Command{
		Use:   "events FILE",
		Short: "Import Segment-format JSON lines (.jsonl, .gz) or CSV; idempotent on messageId",
		Long: `Import events from Segment-format JSON lines, plain or gzip, or from CSV.
A second run of the same file adds nothing: messages are deduplicated by messageId.

CSV columns named like message fields (userId, event, timestamp, messageId …)
fill them; columns named properties.X, traits.X or context.X fill those keys;
--map FIELD=COLUMN maps any other column, e.g.

  beacon import events usage.csv --map userId=user_id --map event=action --map properties.seats=seats`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			mapping, err := importer.ParseMapping(maps)
			if err != nil {
				return err
			}
			stop, err := cpuProfile(profile)
			if err != nil {
				return err
			}
			defer stop()
			return a.withInput(ctx, args[0], func(db *store.DB, r io.Reader, done func()) error {
				ids := a.identity(db, nil).Bulk()
				sum, err := resolving(ctx, ids, func() (importer.Summary, error) {
					if format == "csv" || (format == "" && strings.Contains(strings.ToLower(args[0]), ".csv")) {
						return importer.CSV(ctx, r, mapping, defaultType, db)
					}
					return importer.JSONLines(ctx, r, db)
				})
				done()
				sum.Report(a.stdout)
				if err != nil {
					return err
				}
				if err := db.Optimize(ctx); err != nil {
					return err
				}
				_, err = ids.Sync(ctx)
				return err
			})
		},
	}
	events.Flags().StringVar(&format, "format", "", "jsonl or csv (default: from the file name)")
	events.Flags().StringVar(&defaultType, "type", "track", "message type of CSV rows without a type column")
	events.Flags().StringArrayVar(&maps, "map", nil, "FIELD=COLUMN: fill a message field from a CSV column (repeatable)")
	events.Flags().StringVar(&profile, "cpuprofile", "", "write a CPU profile of the import to this file (go tool pprof)")

	accounts := &cobra.Command{
		Use:   "accounts FILE.csv",
		Short: "Import CRM accounts: id, name, domains, owner, employees, industry, open_opportunity, named",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			r, done, err := a.openInput(args[0])
			if err != nil {
				return err
			}
			defer done()
			rows, sum, err := importer.Accounts(r)
			if err != nil {
				return err
			}
			db, err := a.openStore(ctx)
			if err != nil {
				return err
			}
			defer db.Close()
			ids := a.identity(db, nil)
			if _, err := ids.Sync(ctx); err != nil {
				return err
			}
			if err := ids.ImportCRM(ctx, rows); err != nil {
				return err
			}
			sum.Report(a.stdout)
			return nil
		},
	}
	cmd.AddCommand(events, accounts, a.importBillingCmd())
	return cmd
}

func (a *app) importBillingCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "billing FILE",
		Short: "Import Stripe events, one JSON object a line (.jsonl, .gz); idempotent on the event id",
		Long: `Import Stripe events as the webhook at /v1/billing/stripe stores them: one event
object a line (an export of Stripe's events, or the demo world's billing.jsonl),
plain or gzip. A second run of the same file adds nothing: events are kept once
by id. A line that is not an event is reported with its number and reason, and
the others are loaded.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			return a.withInput(ctx, args[0], func(db *store.DB, r io.Reader, done func()) error {
				sum, err := importer.BillingLines(ctx, r, db)
				done()
				sum.Report(a.stdout)
				return err
			})
		},
	}
}

// withInput opens the store (making it if need be) and the file at path,
// and runs fn on them; done ends the file's progress line.
func (a *app) withInput(ctx context.Context, path string, fn func(db *store.DB, r io.Reader, done func()) error) error {
	db, err := a.openStore(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	r, done, err := a.openInput(path)
	if err != nil {
		return err
	}
	defer done()
	return fn(db, r, done)
}

// openInput opens a file (gzip or not), with a progress line on stderr when
// stderr is a terminal. done stops the progress line; it may be called twice.
func (a *app) openInput(path string) (io.Reader, func(), error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	counted := &countingReader{r: f}
	r, err := importer.MaybeGunzip(counted)
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	stop := a.progress(counted, info.Size())
	var once atomic.Bool
	return r, func() {
		if once.CompareAndSwap(false, true) {
			stop()
			f.Close()
		}
	}, nil
}

type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// progress draws a bar while a file is read, only on a terminal.
func (a *app) progress(c *countingReader, size int64) func() {
	f, ok := a.stderr.(*os.File)
	if !ok || size == 0 {
		return func() {}
	}
	if st, err := f.Stat(); err != nil || st.Mode()&os.ModeCharDevice == 0 {
		return func() {}
	}
	stop, done := make(chan struct{}), make(chan struct{})
	start := time.Now()
	draw := func() {
		read := c.n.Load()
		frac := float64(read) / float64(size)
		bar := strings.Repeat("█", int(frac*30)) + strings.Repeat("░", 30-int(frac*30))
		rate := float64(read) / time.Since(start).Seconds() / (1 << 20)
		fmt.Fprintf(f, "\r%s %3.0f%%  %.1f MB/s ", bar, frac*100, rate)
	}
	go func() {
		defer close(done)
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				draw()
				fmt.Fprintln(f)
				return
			case <-t.C:
				draw()
			}
		}
	}()
	return func() { close(stop); <-done }
}

// resolving runs load while identity resolves what it has stored so far,
// so that the two share the cores instead of taking turns; what is left
// when load ends is for the caller's last pass.
func resolving(ctx context.Context, ids *identity.Service, load func() (importer.Summary, error)) (importer.Summary, error) {
	follow, stop := context.WithCancel(ctx)
	followed := make(chan error, 1)
	go func() {
		for {
			n, err := ids.Sync(follow)
			switch {
			case follow.Err() != nil:
				followed <- nil // the last pass will take the rest
				return
			case err != nil:
				followed <- err
				return
			case n == 0:
				select {
				case <-follow.Done():
				case <-time.After(100 * time.Millisecond):
				}
			}
		}
	}()
	sum, err := load()
	stop()
	return sum, errors.Join(err, <-followed)
}

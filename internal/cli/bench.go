package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime/pprof"
	"time"

	"github.com/spf13/cobra"

	"github.com/beaconplg/beacon/internal/bench"
)

func (a *app) benchCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "bench", Short: "Measure Beacon on this machine"}
	var o bench.IngestOptions
	var live bool
	var profile string
	ingest := &cobra.Command{
		Use:   "ingest",
		Short: "Post batches of realistic track events over loopback HTTP; report durable events/s and batch latency",
		Long: `Start a collector on loopback over a fresh store, post batches of realistic track
events from concurrent clients, and report durable events per second and batch
latency percentiles. --db picks the store: a SQLite file (default: a new file in a
temporary directory) or a postgres:// URL (its events are added to what it holds).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			dsn := a.cfg.DB
			if !cmd.Flags().Changed("db") && os.Getenv("BEACON_DB") == "" {
				dir, err := os.MkdirTemp("", "beacon-bench-")
				if err != nil {
					return err
				}
				defer os.RemoveAll(dir)
				dsn = filepath.Join(dir, "bench.db")
			}
			o.DSN = dsn
			if live {
				rules, err := a.cfg.Rules()
				if err != nil {
					return err
				}
				o.Score = rules
			}
			tuneGC()
			if profile != "" {
				stop, err := cpuProfile(profile)
				if err != nil {
					return err
				}
				defer stop()
			}
			res, err := bench.Ingest(cmd.Context(), o, a.log)
			if err != nil {
				return err
			}
			fmt.Fprintln(a.stdout, res)
			return nil
		},
	}
	ingest.Flags().IntVar(&o.Events, "events", 500_000, "events to send")
	ingest.Flags().IntVar(&o.Batch, "batch", 100, "events per request")
	ingest.Flags().IntVar(&o.Clients, "clients", 8, "concurrent HTTP clients")
	ingest.Flags().DurationVar(&o.Timeout, "timeout", 10*time.Minute, "give up after this long")
	ingest.Flags().BoolVar(&o.Project, "project", true, "then time the identity projection catching up")
	ingest.Flags().BoolVar(&live, "score", false, "run identity and scoring live during the ingest and probe event accepted → score updated")
	ingest.Flags().StringVar(&profile, "cpuprofile", "", "write a CPU profile of the run to this file (go tool pprof)")
	cmd.AddCommand(ingest)
	return cmd
}

// cpuProfile starts profiling into path; stop ends it and closes the file.
func cpuProfile(path string) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

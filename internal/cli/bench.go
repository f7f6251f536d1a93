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
			dsn, cleanup, err := a.benchDSN(cmd)
			if err != nil {
				return err
			}
			defer cleanup()
			o.DSN = dsn
			if live {
				rules, err := a.compiled()
				if err != nil {
					return err
				}
				o.Score = rules
			}
			if profile != "" {
				// Of the timed load only: see IngestOptions.Timed.
				f, err := os.Create(profile)
				if err != nil {
					return err
				}
				defer f.Close()
				o.Timed = func() func() {
					if err := pprof.StartCPUProfile(f); err != nil {
						a.log.Error("cpu profile", "err", err)
						return func() {}
					}
					return pprof.StopCPUProfile
				}
			}
			return a.measure("", func() (fmt.Stringer, error) { return bench.Ingest(cmd.Context(), o, a.log) })
		},
	}
	ingest.Flags().IntVar(&o.Events, "events", 500_000, "events to send")
	ingest.Flags().IntVar(&o.Batch, "batch", 100, "events per request")
	ingest.Flags().IntVar(&o.Clients, "clients", 8, "concurrent HTTP clients")
	ingest.Flags().IntVar(&o.Rate, "rate", 0, "offer events/s on a schedule, latency counted from when each batch was due (0: as fast as answered)")
	ingest.Flags().DurationVar(&o.Timeout, "timeout", 10*time.Minute, "give up after this long")
	ingest.Flags().BoolVar(&o.Project, "project", true, "then time the identity projection catching up")
	ingest.Flags().BoolVar(&live, "score", false, "run identity and scoring live during the ingest and probe event accepted → score updated")
	ingest.Flags().BoolVar(&o.Cold, "cold", false, "with --score: skip the warm-up that makes the 40,000 users known first")
	ingest.Flags().StringVar(&profile, "cpuprofile", "", "write a CPU profile of the timed load to this file (go tool pprof)")
	cmd.AddCommand(ingest, a.benchAlertsCmd(), a.benchLoadCmd())
	return cmd
}

func (a *app) benchAlertsCmd() *cobra.Command {
	var o bench.AlertOptions
	var profile string
	cmd := &cobra.Command{
		Use:   "alerts",
		Short: "Deliver alerts to a loopback webhook receiver; time event accepted → webhook received under ingest",
		Long: `On a fresh store (a new SQLite file unless --db names one): write --deliveries
alerts to the outbox and time the dispatcher delivering them to a signed-webhook
receiver on loopback; then ingest --rate events/s for --duration while probes sign
up new accounts whose first project routes them, timing each from the event
accepted to its webhook received.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			dsn, cleanup, err := a.benchDSN(cmd)
			if err != nil {
				return err
			}
			defer cleanup()
			o.DSN, o.Scoring = dsn, a.cfg.Scoring
			return a.measure(profile, func() (fmt.Stringer, error) { return bench.Alerts(cmd.Context(), o, a.log) })
		},
	}
	cmd.Flags().IntVar(&o.Deliveries, "deliveries", 20_000, "alerts to deliver, timed")
	cmd.Flags().IntVar(&o.Rate, "rate", 10_000, "events/s to ingest while probing (0: skip)")
	cmd.Flags().DurationVar(&o.Duration, "duration", 20*time.Second, "how long to ingest and probe")
	cmd.Flags().DurationVar(&o.Timeout, "timeout", 10*time.Minute, "give up after this long")
	cmd.Flags().IntVar(&o.Clients, "clients", 8, "HTTP clients sending the load at once")
	cmd.Flags().BoolVar(&o.Cold, "cold", false, "skip the warm-up that makes the 40,000 users known first")
	cmd.Flags().StringVar(&profile, "cpuprofile", "", "write a CPU profile of the run to this file (go tool pprof)")
	return cmd
}

// benchDSN is the store a benchmark runs on: --db or BEACON_DB if given,
// else a new SQLite file removed afterwards.
func (a *app) benchDSN(cmd *cobra.Command) (string, func(), error) {
	if cmd.Flags().Changed("db") || os.Getenv("BEACON_DB") != "" {
		return a.cfg.DB, func() {}, nil
	}
	dir, err := os.MkdirTemp("", "beacon-bench-")
	if err != nil {
		return "", nil, err
	}
	return filepath.Join(dir, "bench.db"), func() { os.RemoveAll(dir) }, nil
}

// measure runs a benchmark, profiling it into profile if named, and prints
// what it found.
func (a *app) measure(profile string, run func() (fmt.Stringer, error)) error {
	tuneGC()
	stop, err := cpuProfile(profile)
	if err != nil {
		return err
	}
	defer stop()
	res, err := run()
	if err != nil {
		return err
	}
	fmt.Fprintln(a.stdout, res)
	return nil
}

// cpuProfile starts profiling into path, if one is named; stop ends it and
// closes the file.
func cpuProfile(path string) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
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

func (a *app) benchLoadCmd() *cobra.Command {
	var o bench.LoadOptions
	cmd := &cobra.Command{
		Use:   "load",
		Short: "Post realistic track events to a Beacon running in another process; report durable events/s and latency",
		Long: `Post batches of realistic track events, from concurrent clients in this process,
to the Beacon listening at --url (started apart: beacon serve), with one of its
write keys, and report acknowledged events per second and batch latency. The
server's cost is then measured alone, as its users' clients see it. With an
admin token, probes also measure how long an event takes from its
acknowledgement to its account's score served, and the load starts warm. With
--receive, this process listens there for that Beacon's webhooks (its
beacon.yaml sends its alerts to http://ADDR/), and probes measure a new
workspace's first project from sent to its alert's webhook received.

  beacon serve --db bench.db &
  beacon bench load --url http://127.0.0.1:8080 --write-key "$(beacon keys create --db bench.db)" \
    --admin-token "$(beacon keys create --admin --db bench.db)" --rate 20000`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.measure("", func() (fmt.Stringer, error) { return bench.Load(cmd.Context(), o) })
		},
	}
	cmd.Flags().StringVar(&o.URL, "url", "http://127.0.0.1:8080", "where the Beacon to load listens")
	cmd.Flags().StringVar(&o.AdminToken, "admin-token", "", "an admin token of that Beacon: probes then measure event acknowledged → score served, beside the load")
	cmd.Flags().StringVar(&o.Receive, "receive", "", "host:port to receive that Beacon's webhooks on: probes then measure event sent → webhook received, beside the load")
	cmd.Flags().StringVar(&o.Key, "write-key", "", "a write key of that Beacon")
	cmd.Flags().IntVar(&o.Events, "events", 500_000, "events to send")
	cmd.Flags().IntVar(&o.Batch, "batch", 100, "events per request")
	cmd.Flags().IntVar(&o.Clients, "clients", 8, "concurrent HTTP clients")
	cmd.Flags().IntVar(&o.Rate, "rate", 0, "offer events/s on a schedule (0: as fast as answered)")
	cmd.Flags().DurationVar(&o.Timeout, "timeout", 10*time.Minute, "give up after this long")
	return cmd
}

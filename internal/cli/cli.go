// Package cli owns Beacon's command line: the subcommands, their flags, and
// the wiring by hand of every part from the typed configuration.
package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/beaconplg/beacon/internal/config"
	"github.com/beaconplg/beacon/internal/identity"
	"github.com/beaconplg/beacon/internal/score"
	"github.com/beaconplg/beacon/internal/store"
)

// Version is set at build time with -ldflags "-X ...cli.Version=v1.2.3".
var Version = "dev"

// app is what every subcommand shares: the configuration and where to write.
type app struct {
	cfg        config.Config
	configFile string
	// loaded is the file the configuration came from, and whether it had
	// to exist; SIGHUP reads it again.
	loaded struct {
		file     string
		explicit bool
	}
	flags  struct{ db, logLevel, logFormat, addr string }
	stdout io.Writer
	stderr io.Writer
	log    *slog.Logger
	// rules are the configuration's scoring section compiled, once
	// (compiled); config only decodes and validates it.
	rules *score.Rules
}

// Main runs the command line and returns the process exit code.
func Main(args []string, stdout, stderr io.Writer) int {
	a := &app{stdout: stdout, stderr: stderr}
	root := a.root()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := root.ExecuteContext(ctx); err != nil {
		fmt.Fprintln(stderr, "beacon:", err)
		return 1
	}
	return 0
}

func (a *app) root() *cobra.Command {
	root := &cobra.Command{
		Use:   "beacon",
		Short: "Beacon finds the accounts worth a human touch in your product usage",
		Long: `Beacon takes in product usage over the Segment HTTP Tracking API, joins users to
accounts and CRM records, and shows who is ready for sales.

Start it on the embedded store:  beacon serve
Create a write key for SDKs:     beacon keys create`,
		SilenceUsage:      true,
		SilenceErrors:     true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error { return a.loadConfig(cmd) },
	}
	pf := root.PersistentFlags()
	pf.StringVar(&a.configFile, "config", "", "configuration file (default beacon.yaml if present; env BEACON_CONFIG)")
	pf.StringVar(&a.flags.db, "db", "", "SQLite file or postgres:// URL (default beacon.db; env BEACON_DB)")
	pf.StringVar(&a.flags.logLevel, "log-level", "", "debug, info, warn or error (env BEACON_LOG_LEVEL)")
	pf.StringVar(&a.flags.logFormat, "log-format", "", "text or json (env BEACON_LOG_FORMAT)")
	root.AddCommand(a.versionCmd(), a.serveCmd(), a.keysCmd(), a.usersCmd(), a.actionsCmd(), a.quarantineCmd(), a.destinationsCmd(), a.migrateCmd(), a.statsCmd(), a.metricsCmd(), a.exportCmd(), a.importCmd(), a.benchCmd(), a.simulateCmd(), a.demoCmd(),
		a.scoreCmd(), a.explainCmd(), a.rulesCmd(), a.initCmd(), a.discoverCmd(), a.backtestCmd(), a.activationCmd(), a.trainCmd())
	return root
}

// loadConfig builds the Config: defaults, then the file, then BEACON_*
// variables, then flags given on the command line; and validates it once.
func (a *app) loadConfig(cmd *cobra.Command) error {
	c := config.Default()
	file, explicit := a.configFile, a.configFile != ""
	if v, ok := os.LookupEnv("BEACON_CONFIG"); ok && !explicit {
		file, explicit = v, true
	}
	if file == "" {
		file = config.DefaultFile
	}
	if err := c.LoadFile(file, explicit); err != nil {
		return err
	}
	a.loaded.file, a.loaded.explicit = file, explicit
	if err := c.LoadEnv(os.LookupEnv); err != nil {
		return err
	}
	set := func(name string, dst *string, v string) {
		if f := cmd.Flags().Lookup(name); f != nil && f.Changed {
			*dst = v
		}
	}
	set("db", &c.DB, a.flags.db)
	set("log-level", &c.Log.Level, a.flags.logLevel)
	set("log-format", &c.Log.Format, a.flags.logFormat)
	set("addr", &c.Addr, a.flags.addr)
	if err := c.Validate(); err != nil {
		return fmt.Errorf("configuration:\n%w", err)
	}
	rules, err := compile(c)
	if err != nil {
		return fmt.Errorf("configuration:\n%w", err)
	}
	a.cfg, a.rules, a.log = c, rules, newLogger(c.Log, a.stderr)
	return nil
}

func newLogger(c config.Log, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(c.Level))
	opts := &slog.HandlerOptions{Level: level}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// tuneGC makes the collector collect garbage less often unless GOGC says
// otherwise. Beacon's live heap is small and mostly pointer-free (the
// messageId set), while ingest allocates fast and briefly: at the default of
// 100 the collector takes a quarter of the CPU under load (docs/benchmarks.md).
func tuneGC() {
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(400)
	}
}

// openStore opens and migrates the configured store, making it if it is
// not there: for the commands that fill a store.
func (a *app) openStore(ctx context.Context) (*store.DB, error) {
	return a.migrated(ctx, store.Open)
}

// openExisting opens and migrates the configured store, which must be there:
// for the commands that read or change what a store holds.
func (a *app) openExisting(ctx context.Context) (*store.DB, error) {
	return a.migrated(ctx, store.OpenExisting)
}

func (a *app) migrated(ctx context.Context, open func(context.Context, string) (*store.DB, error)) (*store.DB, error) {
	db, err := open(ctx, a.cfg.DB)
	if err != nil {
		return nil, err
	}
	if err := db.Migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("migrate: %w", err)
	}
	return db, nil
}

// withStore runs fn over the migrated store and closes it; open is
// openStore or openExisting.
func (a *app) withStore(ctx context.Context, open func(context.Context) (*store.DB, error), fn func(*store.DB) error) error {
	db, err := open(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	return fn(db)
}

func (a *app) identity(db *store.DB, next identity.Next) *identity.Service {
	return identity.New(db, a.log, next)
}

// reloadRules reads the scoring section of the configuration file again.
func (a *app) reloadRules() (*score.Rules, error) {
	c := config.Default()
	if err := c.LoadFile(a.loaded.file, a.loaded.explicit); err != nil {
		return nil, err
	}
	return compile(c)
}

// compile compiles a configuration's scoring section: config decodes and
// validates it, scoring compiles what it hands over.
func compile(c config.Config) (*score.Rules, error) {
	return score.Compile(*c.Scoring)
}

// compiled returns the configured rules, compiled once.
func (a *app) compiled() (*score.Rules, error) {
	if a.rules == nil {
		r, err := compile(a.cfg)
		if err != nil {
			return nil, err
		}
		a.rules = r
	}
	return a.rules, nil
}

// scorer returns the scoring service over db with the configured rules.
func (a *app) scorer(db *store.DB) (*score.Service, error) {
	rules, err := a.compiled()
	if err != nil {
		return nil, err
	}
	return score.New(db, rules, a.log, time.Now), nil
}

func (a *app) versionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print Beacon's version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprintln(a.stdout, "beacon", Version)
			return nil
		},
	}
}

package cli

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/beaconplg/beacon/internal/keys"
	"github.com/beaconplg/beacon/internal/sim"
	"github.com/beaconplg/beacon/internal/store"
	"github.com/beaconplg/beacon/internal/web"
)

func (a *app) demoCmd() *cobra.Command {
	p := sim.DefaultParams()
	var dir string
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Simulate a PLG company, load it into a fresh embedded store and serve it",
		Long: `Simulate a B2B PLG company (2,000 accounts over 90 days by default), load its
events and CRM accounts into a fresh SQLite store, and serve it. Prints the URL,
a write key and an admin token. The store is kept in --dir (default: a new
temporary directory).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			tuneGC()
			ctx := cmd.Context()
			if dir == "" {
				d, err := os.MkdirTemp("", "beacon-demo-")
				if err != nil {
					return err
				}
				dir = d
			}
			if !cmd.Flags().Changed("addr") {
				a.cfg.Addr = "127.0.0.1:8080"
			}
			start := time.Now()
			db, secrets, err := a.loadDemo(ctx, p, dir)
			if err != nil {
				return err
			}
			defer db.Close()
			return a.run(ctx, db, func(addr net.Addr) {
				a.printDemo(addr, secrets, dir, time.Since(start))
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&a.flags.addr, "addr", "", "listen address (default 127.0.0.1:8080)")
	f.StringVar(&dir, "dir", "", "directory for the world and the store (default: a new temporary one)")
	f.IntVar(&p.Accounts, "accounts", p.Accounts, "companies in the simulated world")
	f.Uint64Var(&p.Seed, "seed", p.Seed, "random seed")
	f.IntVar(&p.Drivers, "drivers", 0, "a world whose conversions 3 (or N) behaviours drive, which the shipped rubric does not know: see the calibration page")
	return cmd
}

type demoSecrets struct{ writeKey, adminToken, email, password, stripe string }

// loadDemo simulates the world into dir and loads it into dir/beacon.db.
func (a *app) loadDemo(ctx context.Context, p sim.Params, dir string) (*store.DB, demoSecrets, error) {
	// The world's last day is yesterday, so that windows such as "the last
	// 14 days" find its activity and none of it lies ahead.
	p.Start = time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -p.Days)
	world := filepath.Join(dir, "world")
	sum, err := p.Simulate(world)
	if err != nil {
		return nil, demoSecrets{}, err
	}
	a.log.Info("simulated", "accounts", sum.Accounts, "users", sum.Users, "events", sum.Events)
	a.cfg.DB = filepath.Join(dir, "beacon.db")
	db, err := a.openStore(ctx)
	if err != nil {
		return nil, demoSecrets{}, err
	}
	fail := func(err error) (*store.DB, demoSecrets, error) { db.Close(); return nil, demoSecrets{}, err }
	if _, err := sim.Load(ctx, world, db, a.identity(db, nil)); err != nil {
		return fail(err)
	}
	var s demoSecrets
	if s.stripe, err = a.demoBilling(ctx, db, world); err != nil {
		return fail(err)
	}
	a.demoMetrics()
	if s.writeKey, err = keys.Create(ctx, db, store.WriteKey, "demo"); err != nil {
		return fail(err)
	}
	if s.adminToken, err = keys.Create(ctx, db, store.AdminKey, "demo"); err != nil {
		return fail(err)
	}
	if s.password, err = web.NewPassword(); err != nil {
		return fail(err)
	}
	s.email = sim.Rep()
	if _, err := addPerson(ctx, db, s.email, "Dana Ross", store.RoleAdmin, s.password); err != nil {
		return fail(err)
	}
	return db, s, nil
}

// demoMetrics names the demo world's activation milestone and core
// features for the metrics, unless beacon.yaml does.
func (a *app) demoMetrics() {
	if a.cfg.Metrics.ActivationEvent == "" {
		a.cfg.Metrics.ActivationEvent = sim.ActivationEvent
	}
	if len(a.cfg.Metrics.CoreFeatures) == 0 {
		a.cfg.Metrics.CoreFeatures = sim.CoreFeatures()
	}
}

func (a *app) printDemo(addr net.Addr, s demoSecrets, dir string, took time.Duration) {
	url := "http://" + addr.String()
	if tcp, ok := addr.(*net.TCPAddr); ok && tcp.IP.IsUnspecified() {
		url = fmt.Sprintf("http://localhost:%d", tcp.Port)
	}
	fmt.Fprintf(a.stdout, `Beacon demo is ready in %[1]s: %[2]s

  sign in      %[6]s / %[7]s
  write key    %[3]s
  admin token  %[4]s
  store        %[5]s
  stripe       %[2]s/v1/billing/stripe, signing secret %[8]s

Scores appear a few seconds after start, once the stored events are replayed. Try:
  curl -H "Authorization: Bearer %[4]s" '%[2]s/api/v1/accounts?tier=hot&limit=10'
  curl -H "Authorization: Bearer %[4]s" %[2]s/api/v1/accounts/ws-00001/score
  curl -H "Authorization: Bearer %[4]s" %[2]s/api/v1/stats
  curl -u "%[3]s:" %[2]s/v1/page -d '{"userId":"usr-00001-01","name":"Pricing"}'
  curl -H "Authorization: Bearer %[4]s" '%[2]s/api/v1/alerts?open=true&limit=5'
  curl -H "Authorization: Bearer %[4]s" '%[2]s/api/v1/metrics?names=free_to_paid,nrr&by=segment'
  curl -u "%[3]s:" '%[2]s/v1/nudges?userId=usr-00001-01'
`, took.Round(100*time.Millisecond), url, s.writeKey, s.adminToken, filepath.Join(dir, "beacon.db"), s.email, s.password, s.stripe)
}

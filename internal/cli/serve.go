package cli

import (
	"context"
	"net"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/beaconplg/beacon/docs"
	"github.com/beaconplg/beacon/internal/api"
	"github.com/beaconplg/beacon/internal/billing"
	"github.com/beaconplg/beacon/internal/calibration"
	"github.com/beaconplg/beacon/internal/collect"
	"github.com/beaconplg/beacon/internal/growth"
	"github.com/beaconplg/beacon/internal/httpjson"
	"github.com/beaconplg/beacon/internal/identity"
	"github.com/beaconplg/beacon/internal/keys"
	"github.com/beaconplg/beacon/internal/metrics"
	"github.com/beaconplg/beacon/internal/nudge"
	"github.com/beaconplg/beacon/internal/queue"
	"github.com/beaconplg/beacon/internal/route"
	"github.com/beaconplg/beacon/internal/score"
	"github.com/beaconplg/beacon/internal/server"
	"github.com/beaconplg/beacon/internal/sso"
	"github.com/beaconplg/beacon/internal/store"
	"github.com/beaconplg/beacon/internal/web"
)

func (a *app) serveCmd() *cobra.Command {
	var profile string
	var collectOnly bool
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the collector, the identity projection, scoring, alerts, the API and the web app",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return a.serve(cmd.Context(), profile, collectOnly) },
	}
	cmd.Flags().StringVar(&a.flags.addr, "addr", "", "listen address (default :8080; env BEACON_ADDR)")
	cmd.Flags().StringVar(&profile, "cpuprofile", "", "write a CPU profile of the whole run, until shutdown, to this file (go tool pprof)")
	cmd.Flags().BoolVar(&collectOnly, "collect-only", false,
		"run the collector alone (events in, /healthz, /readyz, /metrics): a `beacon serve` without it on the same store resolves, scores and alerts")
	return cmd
}

// serve wires every part by hand and runs until interrupted.
func (a *app) serve(ctx context.Context, profile string, collectOnly bool) error {
	tuneGC()
	stop, err := cpuProfile(profile)
	if err != nil {
		return err
	}
	defer stop()
	db, err := a.openStore(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	if collectOnly {
		return a.collectOnly(ctx, db, func(net.Addr) {})
	}
	return a.run(ctx, db, func(net.Addr) {})
}

// collectOnly serves the collector alone until ctx ends: a node that takes
// events in and stores them, for the processes that read the same store.
func (a *app) collectOnly(ctx context.Context, db *store.DB, ready func(net.Addr)) error {
	m := metrics.New()
	errs := httpjson.NewErrors(a.log, api.Statuses()...)
	col := collect.New(collect.Deps{Ingester: db, Keys: keys.NewChecker(db), Metrics: m, Log: a.log, Errors: errs})
	s := server.New(a.cfg, server.Deps{Routes: append([]server.Route{col}, a.billing(db, errs)...), Store: db,
		Checks: []server.Check{{Name: "collector", Health: col.Health}}, Metrics: m, Log: a.log})
	ln, err := s.Listen()
	if err != nil {
		return err
	}
	a.log.Info("beacon is listening, collector only", "addr", ln.Addr().String(), "store", db.Engine(), "version", Version)
	ready(ln.Addr())
	return s.Serve(ctx, ln)
}

// run serves db until ctx ends; ready is called once the port is open.
func (a *app) run(ctx context.Context, db *store.DB, ready func(net.Addr)) error {
	srv, err := a.server(db)
	if err != nil {
		return err
	}
	ln, err := srv.s.Listen()
	if err != nil {
		return err
	}
	// Listening for SIGHUP before saying ready: a hangup after that reloads,
	// it never ends the process.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	a.log.Info("beacon is listening", "addr", ln.Addr().String(), "store", db.Engine(), "version", Version,
		"rules", srv.scorer.Rules().Version)
	ready(ln.Addr())
	var wg sync.WaitGroup
	projCtx, stopProjection := context.WithCancel(context.WithoutCancel(ctx))
	wg.Add(4)
	go func() { defer wg.Done(); srv.identity.Run(projCtx) }()
	go func() { defer wg.Done(); srv.scorer.Run(projCtx) }()
	go func() { defer wg.Done(); srv.dispatcher.Run(projCtx) }()
	go func() { defer wg.Done(); a.reloadOnHangup(projCtx, hup, srv.scorer, db) }()
	wg.Add(1)
	go func() { defer wg.Done(); srv.bands.Run(projCtx, srv.replayed, time.Now) }()
	if srv.outreach != nil {
		wg.Add(1)
		go func() { defer wg.Done(); srv.outreach.Run(projCtx) }()
	}
	err = srv.s.Serve(ctx, ln)
	// Requests are finished: let the projection and scoring take their
	// events, then stop.
	if _, serr := srv.identity.Sync(projCtx); serr != nil {
		a.log.Warn("final identity pass failed; it resumes on next start", "err", serr)
	}
	stopProjection()
	wg.Wait()
	return err
}

// reloadOnHangup reads the rules again on SIGHUP. Rules that do not compile
// are refused with their errors and the ones in force stay.
func (a *app) reloadOnHangup(ctx context.Context, hup <-chan os.Signal, scorer *score.Service, db auditor) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
		}
		rules, err := a.reloadRules()
		if err != nil {
			a.log.Error("rules not reloaded; the previous ones stay in force", "err", err)
			a.auditAs(ctx, db, "signal", store.AuditRulesRefused, a.loaded.file, err.Error())
			continue
		}
		scorer.SetRules(rules)
		a.log.Info("rules reloaded; rescoring everyone", "rules", rules.Version)
		a.auditAs(ctx, db, "signal", store.AuditRulesReloaded, a.loaded.file, "version "+rules.Version)
	}
}

type wired struct {
	s          *server.Server
	identity   *identity.Service
	scorer     *score.Service
	dispatcher *route.Dispatcher
	outreach   *route.Outreach // nil without a CRM destination of accounts
	bands      *growth.Checker
	// replayed is closed once the first replay is written: the metrics'
	// book holds the stored events.
	replayed <-chan struct{}
}

func (a *app) server(db *store.DB) (wired, error) {
	m := metrics.New()
	checker := keys.NewChecker(db)
	scorer, err := a.scorer(db)
	if err != nil {
		return wired{}, err
	}
	dispatcher, err := a.dispatcher(db)
	if err != nil {
		return wired{}, err
	}
	scorer.OnAlerts(dispatcher.Notify)
	replayed := make(chan struct{})
	var once sync.Once
	scorer.OnReplayed(func() {
		once.Do(func() { close(replayed) })
		// A replay's garbage is many times what the rollups keep, and with
		// GOGC at 400 the heap would keep room for it: give it back.
		debug.FreeOSMemory()
	})
	outreach, err := route.NewOutreach(a.cfg.Destinations, db, a.routeDeps())
	if err != nil {
		return wired{}, err
	}
	grow := a.growth(db, scorer)
	ids := a.identity(db, scorer.Signals())
	errs := httpjson.NewErrors(a.log, api.Statuses()...)
	col := collect.New(collect.Deps{Ingester: db, Keys: checker, Metrics: m, Log: a.log, Errors: errs, Committed: ids.Notify})
	queues := queue.New(db, time.Now)
	var dests []web.Destination
	for _, d := range a.cfg.Destinations {
		dests = append(dests, web.Destination{Name: d.Name, Type: d.Type})
	}
	deps := web.Deps{Store: db, Rules: scorer, Log: a.log, Secure: strings.HasPrefix(a.cfg.PublicURL, "https://"),
		Destinations: dests, Queues: queues, Docs: docs.Files, Metrics: grow, Calibration: a.calibration(db, scorer)}
	if sc := a.cfg.SignOn(); sc != nil {
		deps.SSO = sso.New(*sc, nil, nil)
	}
	pages, err := web.New(deps)
	if err != nil {
		return wired{}, err
	}
	admin := api.New(db, checker, scorer, queues, a.log)
	s := server.New(a.cfg, server.Deps{
		Routes: append([]server.Route{col, admin, admin.WithMetrics(grow, time.Now), nudge.New(scorer, checker, errs), pages},
			a.billing(db, errs)...),
		Store: db,
		Checks: []server.Check{{Name: "collector", Health: col.Health}, {Name: "identity", Health: ids.Health, Quarantined: ids.Quarantined, Lag: ids.Lag},
			{Name: "scoring", Health: scorer.Health, Quarantined: scorer.Quarantined, Lag: scorer.Lag}},
		Metrics: m,
		Log:     a.log,
	})
	bands := growth.NewChecker(grow, db, a.cfg.Metrics.AlertTo, dispatcher.Notify, a.log)
	bands.OnChecked(debug.FreeOSMemory)
	return wired{s: s, identity: ids, scorer: scorer, dispatcher: dispatcher, outreach: outreach, bands: bands, replayed: replayed}, nil
}

// calibration judges the rules against conversions for the calibration
// page, from a replay of the stream when a report is due.
func (a *app) calibration(db *store.DB, scorer *score.Service) *calibration.Service {
	replay := func(ctx context.Context, book *calibration.Book) error {
		return a.replayBook(ctx, db, scorer.Rules(), book)
	}
	return calibration.NewService(calibration.ServiceDeps{Replay: replay, Store: db, Ledgers: billing.NewBook(db), Rules: scorer,
		Standings: a.standingsAt(db), Activation: a.cfg.Metrics.ActivationEvent})
}

// growth is the PLG metrics: a book the signal stage feeds as it takes
// events in, read with the store and the billing ledger.
func (a *app) growth(db *store.DB, scorer *score.Service) *growth.Service {
	book := growth.NewBook(a.cfg.Metrics)
	scorer.Signals().Watch(book)
	var crm []string
	for _, d := range a.cfg.Destinations {
		if d.Type == route.HubSpot || d.Type == route.Salesforce {
			crm = append(crm, d.Name)
		}
	}
	m := growth.New(a.cfg.Metrics, book, db, billing.NewBook(db), func() (string, []string, string) {
		card, tiers := scorer.Rules().RoutedTiers()
		return card, tiers, score.Subject(score.OfAccount, "")
	})
	m.TimeCRM(crm)
	return m
}

// dispatcher delivers alerts to the configured destinations.
func (a *app) dispatcher(db *store.DB) (*route.Dispatcher, error) {
	return route.New(a.cfg.Destinations, route.Deps{Store: db, Log: a.log, PublicURL: strings.TrimSuffix(a.cfg.PublicURL, "/"),
		UserAgent: "Beacon/" + Version})
}

// billing receives the billing system's events, if beacon.yaml says from
// where.
func (a *app) billing(db *store.DB, errs *httpjson.Errors) []server.Route {
	if a.cfg.Billing == nil || a.cfg.Billing.Stripe == nil {
		return nil
	}
	return []server.Route{billing.NewStripe(*a.cfg.Billing.Stripe, billing.Deps{Store: db, Errors: errs, Log: a.log})}
}

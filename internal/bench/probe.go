package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/beaconplg/beacon/internal/identity"
	"github.com/beaconplg/beacon/internal/score"
	"github.com/beaconplg/beacon/internal/store"
)

// pipeline is the live identity projection and scoring, as serve runs them.
type pipeline struct {
	ids    *identity.Service
	scorer *score.Service
	wg     sync.WaitGroup
	stop   context.CancelFunc
}

// pipelineStore is what identity and scoring need of the store.
type pipelineStore interface {
	identity.Store
	score.Store
}

func startPipeline(db pipelineStore, rules *score.Rules, log *slog.Logger) *pipeline {
	p := &pipeline{scorer: score.New(db, rules, log, time.Now)}
	p.ids = identity.New(db, log, p.scorer.Signals())
	ctx, stop := context.WithCancel(context.Background())
	p.stop = stop
	p.wg.Add(2)
	go func() { defer p.wg.Done(); p.ids.Run(ctx) }()
	go func() { defer p.wg.Done(); p.scorer.Run(ctx) }()
	return p
}

func (p *pipeline) close() { p.stop(); p.wg.Wait() }

// prober measures event accepted → score updated: it sends a pricing page
// view for its own account and waits until the account's stored PQL score
// counts it.
type prober struct {
	db            scoreReader
	client        *http.Client
	base, key     string
	account, user string
	n             int
}

// probers returns n probers, each with an account of its own: one alone,
// waiting for each probe before the next, takes too few under load for a
// 99th percentile to mean much.
// scoreReader reads stored scores.
type scoreReader interface {
	ScoresIn(ctx context.Context, scorecard string, subjects []string) ([]store.Score, error)
}

func probers(n int, db scoreReader, client *http.Client, base, key string) []*prober {
	ps := make([]*prober, n)
	for i := range ps {
		ps[i] = &prober{db: db, client: client, base: base, key: key,
			account: fmt.Sprintf("bench-probe-%d", i), user: fmt.Sprintf("bench-probe-user-%d", i)}
	}
	return ps
}

// setUp makes the probe account known and scored.
func (p *prober) setUp(ctx context.Context) error {
	body := fmt.Sprintf(`{"batch":[{"type":"identify","userId":%q,"traits":{"email":"probe@probe.example"}},
		{"type":"group","userId":%q,"groupId":%q,"traits":{"name":"Probe"}}]}`, p.user, p.user, p.account)
	if err := post(ctx, p.client, p.base+"/v1/batch", p.key, []byte(body)); err != nil {
		return err
	}
	_, err := p.once(ctx, time.Minute)
	return err
}

// pollEvery is how often a probe reads its score. Four probes reading every
// 2 ms took 6.5 % of the CPU of a run at 50,000 events/s, from the server
// they measure; every 10 ms, a latency reads at most 10 ms late.
const pollEvery = 10 * time.Millisecond

// once sends one probe and returns how long until its score counted it.
func (p *prober) once(ctx context.Context, limit time.Duration) (time.Duration, error) {
	p.n++
	body := fmt.Sprintf(`{"userId":%q,"name":"Pricing","context":{"groupId":%q}}`, p.user, p.account)
	if err := post(ctx, p.client, p.base+"/v1/page", p.key, []byte(body)); err != nil {
		return 0, err
	}
	sent := time.Now()
	for time.Since(sent) < limit {
		ss, err := p.db.ScoresIn(ctx, "pql", []string{score.Subject(score.OfAccount, p.account)})
		if err != nil {
			return 0, err
		}
		if len(ss) == 1 {
			var sig struct {
				Views float64 `json:"pricing_views"`
			}
			if json.Unmarshal(ss[0].Signals, &sig) == nil && int(sig.Views) >= p.n {
				return time.Since(sent), nil
			}
		}
		time.Sleep(pollEvery)
	}
	return 0, fmt.Errorf("probe %d not scored within %s", p.n, limit)
}

// run sends a probe every interval until stop is closed and returns the
// latencies. A probe sent before stop is waited for to the end, however
// slow the pipeline: every probe run starts with one, and a slow machine
// measures a longer latency instead of none.
func (p *prober) run(ctx context.Context, stop <-chan struct{}, interval time.Duration) ([]time.Duration, error) {
	var lat []time.Duration
	for {
		d, err := p.once(ctx, 5*time.Minute)
		if err != nil {
			return lat, err
		}
		lat = append(lat, d)
		select {
		case <-stop:
			slices.Sort(lat)
			return lat, nil
		case <-time.After(interval):
		}
	}
}

// probeAll runs every prober until stop is closed and returns all their
// latencies, sorted.
func probeAll(ctx context.Context, stop <-chan struct{}, ps []*prober, interval time.Duration) ([]time.Duration, error) {
	lats := make([][]time.Duration, len(ps))
	errs := make([]error, len(ps))
	var wg sync.WaitGroup
	for i, p := range ps {
		wg.Add(1)
		go func() { defer wg.Done(); lats[i], errs[i] = p.run(ctx, stop, interval) }()
	}
	wg.Wait()
	all := slices.Concat(lats...)
	slices.Sort(all)
	return all, errors.Join(errs...)
}

// sendKnown posts one event from each of the generator's users to base.
func sendKnown(ctx context.Context, client *http.Client, base, key, run string) error {
	g := newGenerator(2, run)
	for first := 0; first < Users; first += 100 {
		if err := post(ctx, client, base+"/v1/batch", key, g.known(first, 100)); err != nil {
			return fmt.Errorf("warm-up: %w", err)
		}
	}
	return nil
}

// warmUp sends one event from each of the generator's users and waits until
// identity and scoring have taken them in: the timed load is then a
// product's known users at work, not 40,000 sign-ups at once (which --cold
// measures).
func (p *pipeline) warmUp(ctx context.Context, client *http.Client, base, key string) error {
	if err := sendKnown(ctx, client, base, key, "warm-up"); err != nil {
		return err
	}
	if _, err := p.ids.Sync(ctx); err != nil {
		return fmt.Errorf("warm-up: %w", err)
	}
	if _, err := p.scorer.Sync(ctx); err != nil {
		return fmt.Errorf("warm-up: %w", err)
	}
	return nil
}

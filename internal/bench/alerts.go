package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/beaconplg/beacon/internal/api"
	"github.com/beaconplg/beacon/internal/collect"
	"github.com/beaconplg/beacon/internal/httpjson"
	"github.com/beaconplg/beacon/internal/keys"
	"github.com/beaconplg/beacon/internal/metrics"
	"github.com/beaconplg/beacon/internal/route"
	"github.com/beaconplg/beacon/internal/score"
	"github.com/beaconplg/beacon/internal/store"
)

// AlertOptions sizes the alerts benchmark.
type AlertOptions struct {
	DSN string
	// Deliveries are written to the outbox and delivered to a loopback
	// receiver, timed.
	Deliveries int
	// Rate is the ingest (events/s) kept up while probes measure event
	// accepted → webhook received, for Duration. 0 skips that part.
	Rate     int
	Duration time.Duration
	// Clients is how many HTTP clients send the load at once; a batch due
	// while all of them wait for answers is dropped.
	Clients int
	// Scoring is the rules; every routing action is sent to the receiver.
	Scoring *score.Spec
	Timeout time.Duration
	// Cold skips the warm-up (see IngestOptions.Cold).
	Cold bool
}

// AlertResult is what the alerts benchmark measured.
type AlertResult struct {
	Engine          string
	Deliveries      int
	DeliveryTime    time.Duration
	Ingested        int
	Dropped         int // batches the generator did not send: the server was behind
	IngestPerSecond float64
	Probes          []time.Duration // event accepted → webhook received, sorted
}

func (r AlertResult) String() string {
	s := fmt.Sprintf("%s: %d deliveries to a loopback receiver in %.2fs: %.0f deliveries/s", r.Engine, r.Deliveries,
		r.DeliveryTime.Seconds(), float64(r.Deliveries)/r.DeliveryTime.Seconds())
	if n := len(r.Probes); n > 0 {
		s += fmt.Sprintf("; with %.0f events/s ingested (%d batches dropped): %d probes, event accepted → webhook received p50 %.0f ms, p99 %.0f ms, max %.0f ms",
			r.IngestPerSecond, r.Dropped, n, ms(r.Probes[n/2]), ms(r.Probes[min(n-1, n*99/100)]), ms(r.Probes[n-1]))
	}
	return s
}

// receiver counts webhooks and notes when each probe account's arrived.
type receiver struct {
	mu    sync.Mutex
	got   int
	probe map[string]time.Time
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var m struct {
		Data struct {
			Account struct {
				ID string `json:"id"`
			} `json:"account"`
		} `json:"data"`
	}
	_ = json.Unmarshal(body, &m)
	at := time.Now()
	rc.mu.Lock()
	rc.got++
	if _, ok := rc.probe[m.Data.Account.ID]; !ok {
		rc.probe[m.Data.Account.ID] = at
	}
	rc.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func (rc *receiver) arrived(account string) (time.Time, bool) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	t, ok := rc.probe[account]
	return t, ok
}

// listen serves h on loopback and returns its base URL and a stop.
func listen(h http.Handler) (string, func(), error) { return listenAt("127.0.0.1:0", h) }

// listenAt serves h at addr (host:port) and returns its base URL and a
// stop.
func listenAt(addr string, h http.Handler) (string, func(), error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return "http://" + ln.Addr().String(), func() { _ = srv.Close() }, nil
}

// Alerts measures the dispatcher alone, then the whole path from an event
// to a webhook under ingest.
func Alerts(ctx context.Context, o AlertOptions, log *slog.Logger) (AlertResult, error) {
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	db, err := store.Open(ctx, o.DSN)
	if err != nil {
		return AlertResult{}, err
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		return AlertResult{}, err
	}
	rc := &receiver{probe: map[string]time.Time{}}
	hookURL, stopHook, err := listen(rc)
	if err != nil {
		return AlertResult{}, err
	}
	defer stopHook()
	secret, err := route.NewSecret()
	if err != nil {
		return AlertResult{}, err
	}
	specs := []route.Spec{{Name: "hook", Type: route.Webhook, URL: hookURL, Secret: secret}}
	disp, err := route.New(specs, route.Deps{Store: db, Log: log, UserAgent: "Beacon/bench"})
	if err != nil {
		return AlertResult{}, err
	}
	res := AlertResult{Engine: db.Engine(), Deliveries: o.Deliveries}
	if res.DeliveryTime, err = deliverAll(ctx, db, disp, o.Deliveries); err != nil {
		return res, err
	}
	if o.Rate <= 0 {
		return res, nil
	}
	rules, err := toReceiver(o.Scoring)
	if err != nil {
		return res, err
	}
	return underLoad(ctx, db, disp, rc, rules, o, res, log)
}

// toReceiver compiles the rules with every routing action sent to the
// receiver.
func toReceiver(sp *score.Spec) (*score.Rules, error) {
	if sp == nil || sp.Routing == nil {
		return nil, errors.New("the rules have no routing: nothing would alert")
	}
	spec, routing := *sp, *sp.Routing
	routing.Actions = slices.Clone(routing.Actions)
	for i := range routing.Actions {
		routing.Actions[i].To = []string{"hook"}
	}
	spec.Routing = &routing
	return score.Compile(spec)
}

// deliverAll writes n alerts with a delivery each and times delivering them.
// alertStore is what delivering alerts under load needs of the store.
type alertStore interface {
	pipelineStore
	keys.Store
	collect.Ingester
	DeliveryCounts(ctx context.Context) (map[string]map[string]int, error)
}

func deliverAll(ctx context.Context, db alertStore, disp *route.Dispatcher, n int) (time.Duration, error) {
	const chunk = 1000
	now := time.Now()
	for done := 0; done < n; done += chunk {
		var b store.ScoreBatch
		for i := done; i < min(n, done+chunk); i++ {
			b.Alerts = append(b.Alerts, store.Alert{Scorecard: "pql", Subject: "account:bench-" + strconv.Itoa(i), Tier: "hot",
				Payload: []byte(`{"account":{"id":"bench-` + strconv.Itoa(i) + `"},"tier":"hot","score":90}`), CreatedAt: now,
				Destinations: []string{"hook"}})
		}
		if err := db.SaveScores(ctx, b); err != nil {
			return 0, err
		}
	}
	start := time.Now()
	sent, err := disp.Drain(ctx)
	if err != nil {
		return 0, err
	}
	if sent != n {
		return 0, fmt.Errorf("delivered %d of %d", sent, n)
	}
	return time.Since(start), nil
}

// underLoad ingests at o.Rate while probes each create a new account whose
// first events put it in a routed tier, timing until its webhook arrives.
func underLoad(ctx context.Context, db alertStore, disp *route.Dispatcher, rc *receiver, rules *score.Rules, o AlertOptions,
	res AlertResult, log *slog.Logger) (AlertResult, error) {
	key, err := keys.Create(ctx, db, store.WriteKey, "bench")
	if err != nil {
		return res, err
	}
	live := startPipeline(db, rules, log)
	defer live.close()
	live.scorer.OnAlerts(disp.Notify)
	dctx, stopDisp := context.WithCancel(ctx)
	var dwg sync.WaitGroup
	dwg.Add(1)
	go func() { defer dwg.Done(); disp.Run(dctx) }()
	defer func() { stopDisp(); dwg.Wait() }()
	mux := http.NewServeMux()
	collect.New(collect.Deps{Errors: httpjson.NewErrors(log, api.Statuses()...), Ingester: db, Keys: keys.NewChecker(db), Metrics: metrics.New(), Log: log,
		Committed: live.ids.Notify}).Register(mux)
	base, stop, err := listen(mux)
	if err != nil {
		return res, err
	}
	defer stop()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: o.Clients + 2}}
	if !o.Cold {
		if err := live.warmUp(ctx, client, base, key); err != nil {
			return res, err
		}
		// The warm-up's own alerts are delivered before the clock starts.
		if err := delivered(ctx, db); err != nil {
			return res, err
		}
	}

	loadCtx, stopLoad := context.WithTimeout(ctx, o.Duration)
	defer stopLoad()
	var load loadResult
	loaded := make(chan error, 1)
	go func() {
		var err error
		load, err = steadyLoad(loadCtx, client, base, key, o.Rate, o.Clients)
		loaded <- err
	}()
	var lat []time.Duration
	for i := 0; loadCtx.Err() == nil; i++ {
		d, err := probeWebhook(loadCtx, client, base, key, rc, strconv.Itoa(i))
		if err != nil {
			if loadCtx.Err() != nil {
				break
			}
			return res, err
		}
		lat = append(lat, d)
		select {
		case <-loadCtx.Done():
		case <-time.After(200 * time.Millisecond):
		}
	}
	if err := <-loaded; err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return res, err
	}
	res.Ingested, res.Dropped = load.sent, load.dropped
	res.IngestPerSecond = float64(load.sent) / load.elapsed.Seconds()
	slices.Sort(lat)
	res.Probes = lat
	return res, nil
}

// delivered waits until no delivery is pending or under way.
func delivered(ctx context.Context, db alertStore) error {
	for {
		counts, err := db.DeliveryCounts(ctx)
		if err != nil {
			return err
		}
		busy := 0
		for _, states := range counts {
			busy += states[store.Pending] + states[store.Delivering]
		}
		if busy == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// loadResult is what steadyLoad did: events sent and acknowledged, batches
// dropped because every client was still waiting, over elapsed.
type loadResult struct {
	sent, dropped int
	elapsed       time.Duration
}

// steadyLoad posts batches of 100 generated events at rate events/s until
// ctx ends.
func steadyLoad(ctx context.Context, client *http.Client, base, key string, rate, clients int) (loadResult, error) {
	const size = 100
	every := time.Duration(float64(time.Second) * size / float64(rate))
	g := newGenerator(1, strconv.FormatInt(time.Now().UnixNano(), 36))
	bodies := make(chan []byte, clients)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var res loadResult
	errs := make(chan error, clients)
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range bodies {
				if err := post(ctx, client, base+"/v1/batch", key, b); err != nil {
					if ctx.Err() == nil {
						errs <- err
					}
					return
				}
				mu.Lock()
				res.sent += size
				mu.Unlock()
			}
		}()
	}
	start := time.Now()
	tick := time.NewTicker(every)
	defer tick.Stop()
	for b := 0; ; {
		select {
		case <-ctx.Done():
			res.elapsed = time.Since(start)
			close(bodies)
			wg.Wait()
			close(errs)
			return res, errors.Join(ctx.Err(), <-errs)
		case <-tick.C:
			// A ticker drops ticks its reader misses: offer every batch due
			// by now, so that the offered rate is the rate asked for.
			for due := int(time.Since(start) / every); b < due; b++ {
				select {
				case bodies <- g.batch(b, size):
				default: // the server is behind: the load is what it takes
					res.dropped++
				}
			}
		}
	}
}

// probeWebhook signs up a new mid-market account whose first project puts it
// in the watching tier, and waits for its alert's webhook.
func probeWebhook(ctx context.Context, client *http.Client, base, key string, rc *receiver, id string) (time.Duration, error) {
	acct, user := "probe-acct-"+id, "probe-user-"+id
	body := fmt.Sprintf(`{"batch":[{"type":"group","userId":%q,"groupId":%q,"traits":{"name":"Probe %s","employees":200}},
		{"type":"track","userId":%q,"event":"Project Created","context":{"groupId":%q}}]}`, user, acct, id, user, acct)
	sent := time.Now()
	if err := post(ctx, client, base+"/v1/batch", key, []byte(body)); err != nil {
		return 0, err
	}
	for {
		if at, ok := rc.arrived(acct); ok {
			return at.Sub(sent), nil
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(2 * time.Millisecond):
		}
	}
}

// Package bench owns Beacon's measurements of itself: commands that drive a
// real server over loopback and report throughput and latency, so figures in
// docs/benchmarks.md come from a command anyone can rerun.
package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/beaconplg/beacon/internal/api"
	"github.com/beaconplg/beacon/internal/collect"
	"github.com/beaconplg/beacon/internal/httpjson"
	"github.com/beaconplg/beacon/internal/identity"
	"github.com/beaconplg/beacon/internal/keys"
	"github.com/beaconplg/beacon/internal/metrics"
	"github.com/beaconplg/beacon/internal/score"
	"github.com/beaconplg/beacon/internal/store"
)

// IngestOptions configure the ingest benchmark.
type IngestOptions struct {
	DSN     string
	Events  int
	Batch   int
	Clients int
	Timeout time.Duration
	// Project also times the identity projection catching up afterwards.
	Project bool
	// Score, if set, runs identity and scoring live during the ingest, as
	// serve does, and probes event accepted → score updated.
	Score *score.Rules
	// Cold skips the warm-up: every user's first event then falls in the
	// timed part, a storm of sign-ups.
	Cold bool
	// Rate, if positive, offers the batches on a schedule (events/s) instead
	// of as fast as the clients are answered, and counts each batch's latency
	// from when it was due: senders that do not wait for each other, as a
	// product's many servers are.
	Rate int
	// Timed, if set, is called when the clock starts, and what it returns
	// when the last batch is answered: a profile of the load alone, without
	// generating it, the warm-up or the drain.
	Timed func() (done func())
}

// IngestResult is what the ingest benchmark measured.
type IngestResult struct {
	Engine          string
	Events, Stored  int64
	Batches         int
	Elapsed         time.Duration
	P50, P99, Max   time.Duration
	EventsPerSecond float64
	Clients, Batch  int
	Rate            int // offered, if on a schedule
	// Projected events were taken by the identity projection after the
	// ingest, in ProjectionTime.
	Projected      int
	ProjectionTime time.Duration
	// Probes are event accepted → score updated latencies measured during
	// the ingest, sorted; Drain is one probe's latency sent after it.
	Probes []time.Duration
	Drain  time.Duration
}

func (r IngestResult) String() string {
	s := fmt.Sprintf("%s: %d events in %d batches of %d from %d clients in %.2fs: %.0f durable events/s; batch latency p50 %.1f ms, p99 %.1f ms, max %.1f ms; stored %d",
		r.Engine, r.Events, r.Batches, r.Batch, r.Clients, r.Elapsed.Seconds(), r.EventsPerSecond,
		ms(r.P50), ms(r.P99), ms(r.Max), r.Stored)
	if r.Rate > 0 {
		s += fmt.Sprintf(" (offered %d events/s; latency from when each batch was due)", r.Rate)
	}
	if r.ProjectionTime > 0 {
		s += fmt.Sprintf("; identity projection then took %d events in %.2fs (%.0f events/s)",
			r.Projected, r.ProjectionTime.Seconds(), float64(r.Projected)/r.ProjectionTime.Seconds())
	}
	if n := len(r.Probes); n > 0 {
		s += fmt.Sprintf("; event accepted → score updated during ingest: %d probes, p50 %.0f ms, p99 %.0f ms, max %.0f ms; after it: %.0f ms",
			n, ms(r.Probes[n/2]), ms(r.Probes[min(n-1, n*99/100)]), ms(r.Probes[n-1]), ms(r.Drain))
	}
	return s
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// Ingest starts a collector on loopback over the store at o.DSN and posts
// o.Events track events in batches from o.Clients concurrent clients.
func Ingest(ctx context.Context, o IngestOptions, log *slog.Logger) (IngestResult, error) {
	if o.Events <= 0 || o.Batch <= 0 || o.Clients <= 0 {
		return IngestResult{}, errors.New("events, batch and clients must be positive")
	}
	if o.Rate < 0 {
		return IngestResult{}, fmt.Errorf("rate %d: must be 0 (as fast as answered) or positive", o.Rate)
	}
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	db, err := store.Open(ctx, o.DSN)
	if err != nil {
		return IngestResult{}, err
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		return IngestResult{}, err
	}
	key, err := keys.Create(ctx, db, store.WriteKey, "bench")
	if err != nil {
		return IngestResult{}, err
	}
	before, err := db.Stats(ctx)
	if err != nil {
		return IngestResult{}, err
	}
	mux := http.NewServeMux()
	committed := func() {}
	var live *pipeline
	if o.Score != nil {
		live = startPipeline(db, o.Score, log)
		defer live.close()
		committed = live.ids.Notify
	}
	collect.New(collect.Deps{Errors: httpjson.NewErrors(log, api.Statuses()...), Ingester: db, Keys: keys.NewChecker(db), Metrics: metrics.New(), Log: log,
		Committed: committed}).Register(mux)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return IngestResult{}, err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()

	url := "http://" + ln.Addr().String() + "/v1/batch"
	var room slab
	defer room.release()
	bodies, err := makeBodies(&room, o.Events, o.Batch)
	if err != nil {
		return IngestResult{}, err
	}
	batches := len(bodies)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: o.Clients + 1}}
	var probes []*prober
	if live != nil && !o.Cold {
		if err := live.warmUp(ctx, client, "http://"+ln.Addr().String(), key); err != nil {
			return IngestResult{}, err
		}
		if before, err = db.Stats(ctx); err != nil {
			return IngestResult{}, err
		}
	}
	if live != nil {
		probes = probers(4, db, client, "http://"+ln.Addr().String(), key)
		for _, p := range probes {
			if err := p.setUp(ctx); err != nil {
				return IngestResult{}, fmt.Errorf("probe: %w", err)
			}
		}
	}
	stopProbes := make(chan struct{})
	probed := make(chan error, 1)
	var probeLat []time.Duration
	go func() {
		var err error
		probeLat, err = probeAll(ctx, stopProbes, probes, 100*time.Millisecond)
		probed <- err
	}()
	done := func() {}
	if o.Timed != nil {
		done = o.Timed()
	}
	lat, elapsed, sendErr := send(ctx, cancel, client, url, key, bodies, o.Batch, o.Clients, o.Rate)
	done()
	close(stopProbes)
	if err := errors.Join(sendErr, <-probed); err != nil {
		return IngestResult{}, err
	}
	after, err := db.Stats(context.Background())
	if err != nil {
		return IngestResult{}, err
	}
	res := IngestResult{Engine: db.Engine(), Events: int64(o.Events), Stored: after.Events - before.Events,
		Batches: batches, Batch: o.Batch, Clients: o.Clients, Elapsed: elapsed, Rate: o.Rate,
		EventsPerSecond: float64(o.Events) / elapsed.Seconds(),
		P50:             lat[len(lat)/2], P99: lat[min(len(lat)-1, len(lat)*99/100)], Max: lat[len(lat)-1]}
	if len(probes) > 0 {
		res.Probes = probeLat
		if res.Drain, err = probes[0].once(ctx, o.Timeout); err != nil {
			return IngestResult{}, err
		}
	}
	if o.Project && live == nil {
		projStart := time.Now()
		if res.Projected, err = identity.New(db, log, nil).Sync(ctx); err != nil {
			return IngestResult{}, fmt.Errorf("identity projection: %w", err)
		}
		res.ProjectionTime = time.Since(projStart)
	}
	return res, nil
}

// makeBodies makes the batches of a load before the clock starts, kept off
// the heap in room, as a load generator on another machine would have
// them: only the server's work is timed.
func makeBodies(room *slab, events, batch int) ([][]byte, error) {
	bodies := make([][]byte, (events+batch-1)/batch)
	g := newGenerator(0, strconv.FormatInt(time.Now().UnixNano(), 36))
	for b := range bodies {
		var err error
		if bodies[b], err = room.hold(g.batch(b, min(batch, events-b*batch))); err != nil {
			return nil, fmt.Errorf("room for the load: %w", err)
		}
	}
	return bodies, nil
}

// send posts bodies to url from clients at once (batch events each; on a
// schedule at rate events/s if rate is positive, latency then counted from
// when each batch was due), and returns each batch's latency, sorted, and
// how long it all took. The first failure cancels the rest.
func send(ctx context.Context, cancel context.CancelFunc, client *http.Client, url, key string, bodies [][]byte,
	batch, clients, rate int) ([]time.Duration, time.Duration, error) {
	lat := make([]time.Duration, len(bodies))
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	start := time.Now()
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				b := int(next.Add(1)) - 1
				if b >= len(bodies) || ctx.Err() != nil {
					return
				}
				t0 := time.Now()
				if rate > 0 {
					t0 = start.Add(time.Duration(float64(b*batch) / float64(rate) * float64(time.Second)))
					time.Sleep(time.Until(t0))
				}
				if err := post(ctx, client, url, key, bodies[b]); err != nil {
					errs <- fmt.Errorf("batch %d: %w", b, err)
					cancel()
					return
				}
				lat[b] = time.Since(t0)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(errs)
	slices.Sort(lat)
	return lat, elapsed, <-errs
}

func post(ctx context.Context, client *http.Client, url, key string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.SetBasicAuth(key, "")
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d: %s", resp.StatusCode, msg)
	}
	return nil
}

// generator writes realistic track events: a B2B product's vocabulary, users
// spread over workspaces, properties and context as analytics.js sends them,
// and random version-4 UUIDs as messageIds, as the SDKs make them (ordered ids
// would flatter the store's unique index).
type generator struct {
	rnd *rand.Rand
	buf bytes.Buffer
}

func newGenerator(seed uint64, runID string) *generator {
	s := uint64(0)
	for _, c := range runID {
		s = s*31 + uint64(c)
	}
	return &generator{rnd: rand.New(rand.NewPCG(seed, s))}
}

func (g *generator) uuid() string {
	hi, lo := g.rnd.Uint64(), g.rnd.Uint64()
	hi = hi&^0xf000 | 0x4000
	lo = lo&^(0xc<<60) | 0x8<<60
	return fmt.Sprintf("%08x-%04x-%04x-%04x-%012x", hi>>32, hi>>16&0xffff, hi&0xffff, lo>>48, lo&0xffffffffffff)
}

var eventNames = []string{"Report Viewed", "Project Created", "Dashboard Shared", "Invite Sent", "Integration Connected",
	"Pricing Page Viewed", "Feature Used", "Export Downloaded", "Comment Added", "Limit Reached"}
var features = []string{"reports", "dashboards", "alerts", "exports", "api", "sso", "audit_log"}
var plans = []string{"free", "trial", "team", "business"}

func (g *generator) batch(b, n int) []byte {
	return g.body(n, func(int) int { return g.rnd.IntN(Users) })
}

// Users is how many users the generator's events come from, Users/8 workspaces.
const Users = 40_000

// known is a batch of one event for each user from first on: sent before the
// clock starts, it makes the users known, as a product's users are.
func (g *generator) known(first, n int) []byte {
	return g.body(min(n, Users-first), func(i int) int { return first + i })
}

// body writes n events, the ith from user(i).
func (g *generator) body(n int, user func(i int) int) []byte {
	g.buf.Reset()
	now := time.Now().UTC()
	fmt.Fprintf(&g.buf, `{"sentAt":%q,"batch":[`, now.Format(time.RFC3339Nano))
	for i := range n {
		if i > 0 {
			g.buf.WriteByte(',')
		}
		user := user(i)
		acct := user / 8
		fmt.Fprintf(&g.buf, `{"type":"track","messageId":"%s","userId":"user-%d","anonymousId":"anon-%d",`+
			`"event":%q,"timestamp":%q,"properties":{"plan":%q,"feature":%q,"project_id":"prj-%d","duration_ms":%d,"items":%d},`+
			`"context":{"groupId":"ws-%d","library":{"name":"analytics.js","version":"2.11.1"},"ip":"203.0.113.%d",`+
			`"userAgent":"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36",`+
			`"page":{"path":"/app/projects","url":"https://app.example.com/app/projects"}}}`,
			g.uuid(), user, user, eventNames[g.rnd.IntN(len(eventNames))],
			now.Add(-time.Duration(g.rnd.IntN(5000))*time.Millisecond).Format(time.RFC3339Nano),
			plans[acct%len(plans)], features[g.rnd.IntN(len(features))], g.rnd.IntN(40), g.rnd.IntN(3000),
			g.rnd.IntN(100), acct, user%250)
	}
	g.buf.WriteString(`]}`)
	return slices.Clone(g.buf.Bytes())
}

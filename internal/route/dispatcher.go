package route

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"github.com/beaconplg/beacon/internal/projection"
	"github.com/beaconplg/beacon/internal/store"
)

// Store is what the dispatcher needs of storage: the outbox.
type Store interface {
	Claim(ctx context.Context, destination string, now time.Time, lease time.Duration, limit int) ([]store.Delivery, error)
	Settle(ctx context.Context, outs []store.Outcome) error
	Unroutable(ctx context.Context, known []string, now time.Time) (int, error)
}

// Sender delivers claimed deliveries to one destination; errs[i] is nil when
// ds[i] arrived. A *SendError says whether to retry and when.
type Sender interface {
	Send(ctx context.Context, ds []store.Delivery) []error
}

// Deps are the dispatcher's collaborators.
type Deps struct {
	Store Store
	Log   *slog.Logger
	// Clock is the time deliveries are claimed and retried by.
	Clock func() time.Time
	// Client sends every request; nil for a default one.
	Client *http.Client
	// PublicURL is where people open Beacon, for links in messages.
	PublicURL string
	// UserAgent names Beacon to receivers.
	UserAgent string
}

// Dispatcher delivers the outbox: one loop per destination, so that a slow
// or failing one never holds back the others.
type Dispatcher struct {
	db    Store
	log   *slog.Logger
	clock func() time.Time
	dests []*destination
	// Backoff: the first retry waits about RetryBase, doubling with each
	// attempt up to RetryCap; each wait is jittered between half and all.
	RetryBase, RetryCap time.Duration
	// Batch is how many deliveries one claim takes.
	Batch int
}

type destination struct {
	spec   Spec
	sender Sender
	loop   *projection.Loop
}

// New returns a dispatcher for the destinations specs declares (already
// validated).
func New(specs []Spec, deps Deps) (*Dispatcher, error) {
	deps = deps.withDefaults()
	d := &Dispatcher{db: deps.Store, log: deps.Log, clock: deps.Clock, RetryBase: 5 * time.Second, RetryCap: time.Hour, Batch: 100}
	for _, sp := range specs {
		rate := sp.RateLimit
		if sp.Type == Slack && rate == 0 {
			rate = slackRate
		}
		pace := newPacer(rate)
		s, err := newSender(sp, deps, pace)
		if err != nil {
			return nil, fmt.Errorf("destination %s: %w", sp.Name, err)
		}
		d.dests = append(d.dests, &destination{spec: sp, sender: s, loop: projection.New(time.Second, 0)})
	}
	return d, nil
}

// withDefaults fills what d leaves unset: the wall clock, a plain client,
// Beacon's user agent.
func (d Deps) withDefaults() Deps {
	if d.Clock == nil {
		d.Clock = time.Now
	}
	if d.Client == nil {
		d.Client = &http.Client{}
	}
	if d.UserAgent == "" {
		d.UserAgent = "Beacon"
	}
	return d
}

func newSender(sp Spec, deps Deps, pace *pacer) (Sender, error) {
	client := *deps.Client
	client.Timeout = sp.timeout()
	// A redirect is answered, not followed: Go's client would follow a 301
	// or 302 with a GET without the body, and a 200 to that would pass for
	// the alert delivered.
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	switch sp.Type {
	case Webhook:
		key, err := decodeSecret(sp.secret())
		if err != nil {
			return nil, err
		}
		return &webhook{url: sp.URL, key: key, client: &client, ua: deps.UserAgent, now: deps.Clock, pace: pace}, nil
	case Slack:
		return &slack{url: sp.URL, link: deps.PublicURL, client: &client, ua: deps.UserAgent, pace: pace}, nil
	case HubSpot:
		return &hubspot{spec: sp, token: sp.secret(), client: &client, ua: deps.UserAgent, pace: pace,
			searching: newPacer(hubspotSearchRate), now: deps.Clock}, nil
	case Salesforce:
		return &salesforce{spec: sp, session: newSession(sp, &client, deps.Clock), client: &client, ua: deps.UserAgent, pace: pace,
			now: deps.Clock}, nil
	}
	return nil, fmt.Errorf("type %q: not supported", sp.Type)
}

// Notify says that new deliveries were written.
func (d *Dispatcher) Notify() {
	for _, dst := range d.dests {
		dst.loop.Notify()
	}
}

// Run delivers until ctx ends. Deliveries waiting for a destination that is
// no longer configured are marked dead first, so that they show.
func (d *Dispatcher) Run(ctx context.Context) {
	known := make([]string, len(d.dests))
	for i, dst := range d.dests {
		known[i] = dst.spec.Name
	}
	if n, err := d.db.Unroutable(ctx, known, d.clock()); err != nil {
		d.log.Error("could not check deliveries for removed destinations", "err", err)
	} else if n > 0 {
		d.log.Warn("deliveries to destinations no longer configured are dead; `beacon actions retry` revives them", "deliveries", n)
	}
	var wg sync.WaitGroup
	for _, dst := range d.dests {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dst.loop.Run(ctx, func(ctx context.Context) (int, error) { return d.drain(ctx, dst) },
				func(err error) {
					d.log.Error("delivery pass failed; retrying", "destination", dst.spec.Name, "err", err)
				})
		}()
	}
	wg.Wait()
}

// Drain delivers everything due now to every destination, and says how many
// attempts it made.
func (d *Dispatcher) Drain(ctx context.Context) (int, error) {
	total := 0
	for _, dst := range d.dests {
		n, err := d.drain(ctx, dst)
		total += n
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

func (d *Dispatcher) drain(ctx context.Context, dst *destination) (int, error) {
	total := 0
	for {
		n, err := d.pass(ctx, dst)
		total += n
		if err != nil || n < d.Batch {
			return total, err
		}
	}
}

// pass claims one batch for a destination, sends it and records how it went.
func (d *Dispatcher) pass(ctx context.Context, dst *destination) (int, error) {
	ds, err := d.db.Claim(ctx, dst.spec.Name, d.clock(), d.lease(dst), d.Batch)
	if err != nil || len(ds) == 0 {
		return 0, err
	}
	errs := d.send(ctx, dst, ds)
	now := d.clock()
	outs := make([]store.Outcome, len(ds))
	for i, dl := range ds {
		outs[i] = d.outcome(dst.spec, dl, errs[i], now)
	}
	// The outcome is written even if ctx ended meanwhile: what was sent is
	// recorded, or retried after the lease.
	if err := d.db.Settle(context.WithoutCancel(ctx), outs); err != nil {
		return len(ds), err
	}
	return len(ds), nil
}

// send sends ds. If sending the batch panics (a bug one delivery
// triggers), they are sent again one by one, and the one that panics is
// dead with the panic as its error, where `beacon actions list` shows it:
// one delivery never holds up the others. A receiver may get some of the
// batch twice; each carries its id (webhook-id) to drop the second.
func (d *Dispatcher) send(ctx context.Context, dst *destination, ds []store.Delivery) []error {
	errs, err := sendSafely(ctx, dst.sender, ds)
	if err == nil {
		return errs
	}
	d.log.Error("sending a batch panicked; sending it one by one", "destination", dst.spec.Name, "err", err)
	out := make([]error, len(ds))
	for i := range ds {
		one, err := sendSafely(ctx, dst.sender, ds[i:i+1])
		if err != nil {
			out[i] = &SendError{Permanent: true, Err: err}
			continue
		}
		out[i] = one[0]
	}
	return out
}

// sendSafely sends ds, a panic its error.
func sendSafely(ctx context.Context, s Sender, ds []store.Delivery) (errs []error, err error) {
	defer projection.Catch(&err)
	return s.Send(ctx, ds), nil
}

// lease outlasts a batch's attempts, sent workers at a time and paced, with
// room to settle them. A dispatcher that stops mid-batch leaves its claim to
// run out; then another (or the next start) takes it.
func (d *Dispatcher) lease(dst *destination) time.Duration {
	rounds := (d.Batch + workers - 1) / workers
	l := time.Duration(rounds)*dst.spec.timeout() + 5*time.Second
	if r := dst.spec.RateLimit; r > 0 {
		l += time.Duration(float64(d.Batch) / r * float64(time.Second))
	}
	return l
}

func (d *Dispatcher) outcome(sp Spec, dl store.Delivery, err error, now time.Time) store.Outcome {
	out := store.Outcome{ID: dl.ID, At: now}
	if err == nil {
		return out
	}
	out.Err = err.Error()
	var se *SendError
	permanent := errors.As(err, &se) && se.Permanent
	if se != nil && se.Waiting {
		// Not an attempt: the destination said when it can take one.
		out.Retry, out.Waited = now.Add(se.RetryAfter), true
		return out
	}
	if permanent || dl.Attempts >= sp.attempts() {
		d.log.Warn("delivery is dead", "destination", sp.Name, "delivery", dl.ID, "attempts", dl.Attempts, "err", err)
		return out
	}
	wait := d.backoff(dl.Attempts)
	if se != nil && se.RetryAfter > wait {
		wait = se.RetryAfter
	}
	out.Retry = now.Add(wait)
	return out
}

// backoff is the wait before attempt n+1: exponential, capped, with jitter so
// that deliveries failed together do not come back together.
func (d *Dispatcher) backoff(n int) time.Duration {
	w := d.RetryCap
	if n < 40 && d.RetryBase<<(n-1) < d.RetryCap {
		w = d.RetryBase << (n - 1)
	}
	return w/2 + rand.N(w/2+1)
}

// workers is how many requests a destination has in flight at once.
const workers = 16

// each sends ds one by one, workers at once, paced.
func each(ctx context.Context, pace *pacer, ds []store.Delivery, send func(context.Context, store.Delivery) error) []error {
	errs := make([]error, len(ds))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(workers, len(ds)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := pace.wait(ctx); err != nil {
					errs[i] = &SendError{Err: err}
					continue
				}
				errs[i] = sendOne(ctx, send, ds[i])
			}
		}()
	}
	for i := range ds {
		next <- i
	}
	close(next)
	wg.Wait()
	return errs
}

// sendOne sends d; a panic (a bug d triggers) makes d dead, not the
// process: it runs in a goroutine of its own, where no caller can recover.
func sendOne(ctx context.Context, send func(context.Context, store.Delivery) error, d store.Delivery) error {
	err := func() (err error) {
		defer projection.Catch(&err)
		return send(ctx, d)
	}()
	if errors.Is(err, projection.ErrPanic) {
		return &SendError{Permanent: true, Err: err}
	}
	return err
}

// pacer spaces requests to a destination at most rate a second.
type pacer struct {
	mu    sync.Mutex
	every time.Duration
	next  time.Time
}

func newPacer(rate float64) *pacer {
	if rate <= 0 {
		return &pacer{}
	}
	return &pacer{every: time.Duration(float64(time.Second) / rate)}
}

func (p *pacer) wait(ctx context.Context) error {
	if p.every == 0 {
		return nil
	}
	p.mu.Lock()
	now := time.Now()
	at := p.next
	if at.Before(now) {
		at = now
	}
	p.next = at.Add(p.every)
	p.mu.Unlock()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(at.Sub(now)):
		return nil
	}
}

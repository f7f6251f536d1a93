// Package collect owns Beacon's Segment-compatible HTTP Tracking API: the
// /v1 endpoints the Segment and RudderStack SDKs call (and analytics.js's short
// text/plain ones), write-key authentication, gzip bodies, size limits, CORS,
// and the answer that tells a sender exactly what was refused and why. A 2xx
// answer means the events are committed.
package collect

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/beaconplg/beacon/internal/event"
	"github.com/beaconplg/beacon/internal/httpjson"
	"github.com/beaconplg/beacon/internal/metrics"
)

// Ingester commits events durably and returns how many were new.
type Ingester interface {
	AppendEvents(ctx context.Context, evs []event.Event) (int, error)
}

// KeyChecker verifies write keys.
type KeyChecker interface {
	Check(ctx context.Context, secret, kind string) error
}

// Deps are the collector's collaborators.
type Deps struct {
	Ingester Ingester
	Keys     KeyChecker
	Metrics  *metrics.Metrics
	Log      *slog.Logger
	// Errors answers errors in the one shape, domain errors by the
	// statuses the wiring gave it.
	Errors *httpjson.Errors
	// Committed is called after each commit that stored new events.
	Committed func()
	Now       func() time.Time
	// A request's body must arrive within BodyGrace plus its size at
	// MinBodyRate bytes a second (its stated length, or the limit when it
	// states none): a slow client holds a connection for seconds, not for
	// the server's minute. Zero values are DefaultBodyGrace and
	// DefaultMinBodyRate.
	BodyGrace   time.Duration
	MinBodyRate int
}

// The body deadline's defaults: a 500 KB batch gets 15 s, a typical one
// of a few KB about 5.
const (
	DefaultBodyGrace   = 5 * time.Second
	DefaultMinBodyRate = 50 << 10
)

// Collector serves the tracking API.
type Collector struct {
	Deps

	mu                   sync.Mutex
	lastStored, lastFail time.Time // the latest commit that worked, and that failed
}

// ErrNotStoring says the collector's latest commit failed and none has
// worked since: the store takes no events (a full disk, a store down).
var ErrNotStoring = errors.New("the store takes no events")

// Health reports whether the collector can store events: its latest
// commit failed and none has worked since.
func (c *Collector) Health() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.lastFail.After(c.lastStored) {
		return ErrNotStoring
	}
	return nil
}

func (c *Collector) stored(err error) {
	now := time.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil {
		c.lastFail = now
	} else {
		c.lastStored = now
	}
}

// New returns a Collector.
func New(d Deps) *Collector {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Committed == nil {
		d.Committed = func() {}
	}
	if d.BodyGrace <= 0 {
		d.BodyGrace = DefaultBodyGrace
	}
	if d.MinBodyRate <= 0 {
		d.MinBodyRate = DefaultMinBodyRate
	}
	return &Collector{Deps: d}
}

// routes maps each path to the message type it implies ("" for batches).
var routes = map[string]string{
	"track": event.Track, "identify": event.Identify, "group": event.Group,
	"page": event.Page, "screen": event.Screen, "alias": event.Alias,
	"t": event.Track, "i": event.Identify, "g": event.Group,
	"p": event.Page, "s": event.Screen, "a": event.Alias,
}

var batchRoutes = []string{"batch", "import", "b"}

// Register adds the collector's routes to mux.
func (c *Collector) Register(mux *http.ServeMux) {
	// Preflights are answered on the collector's paths only: a catch-all
	// would make every other /v1/ path a 405 instead of a 404.
	for path, typ := range routes {
		mux.Handle("POST /v1/"+path, c.handler(typ, false))
		mux.HandleFunc("OPTIONS /v1/"+path, preflight)
	}
	for _, path := range batchRoutes {
		mux.Handle("POST /v1/"+path, c.handler("", true))
		mux.HandleFunc("OPTIONS /v1/"+path, preflight)
	}
}

// Browsers call from the customer's own site, so any origin may post; no
// cookies are involved (the write key is in the body or the header).
func allowCORS(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Access-Control-Allow-Methods", "POST, OPTIONS")
	h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, Content-Encoding")
	h.Set("Access-Control-Max-Age", "86400")
}

func preflight(w http.ResponseWriter, _ *http.Request) {
	allowCORS(w)
	w.WriteHeader(http.StatusNoContent)
}

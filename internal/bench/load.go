package bench

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// LoadOptions drive a Beacon running in another process, from this one, as
// a product's servers would: the server's cost is measured alone, with none
// of the client's work in its process.
type LoadOptions struct {
	URL     string // where Beacon listens: http://127.0.0.1:8080
	Key     string // a write key of that Beacon
	Events  int
	Batch   int
	Clients int
	Rate    int // offered events/s on a schedule; 0: as fast as answered
	Timeout time.Duration
	// AdminToken, if set, lets probes read scores: beside the load, one
	// new workspace at a time is sent and polled until it has a score.
	// The load then starts warm: one event from each of its users first,
	// and a probe scored after them.
	AdminToken string
}

// LoadResult is what the load measured: acknowledged (durable) events a
// second and batch latency.
type LoadResult struct {
	URL             string
	Events, Batches int
	Batch, Clients  int
	Rate            int
	Elapsed         time.Duration
	P50, P99, Max   time.Duration
	EventsPerSecond float64
	// Scored are the probes' times from acknowledgement to a score
	// served, sorted; none without an admin token.
	Scored []time.Duration
}

func (r LoadResult) String() string {
	s := fmt.Sprintf("%s: %d events acknowledged in %d batches of %d from %d clients in %.2fs: %.0f durable events/s; batch latency p50 %.1f ms, p99 %.1f ms, max %.1f ms",
		r.URL, r.Events, r.Batches, r.Batch, r.Clients, r.Elapsed.Seconds(), r.EventsPerSecond, ms(r.P50), ms(r.P99), ms(r.Max))
	if r.Rate > 0 {
		s += fmt.Sprintf(" (offered %d events/s; latency from when each batch was due)", r.Rate)
	}
	if n := len(r.Scored); n > 0 {
		s += fmt.Sprintf("; acknowledged → scored, %d probes: p50 %.0f ms, p99 %.0f ms, max %.0f ms",
			n, ms(r.Scored[n/2]), ms(r.Scored[min(n-1, n*99/100)]), ms(r.Scored[n-1]))
	}
	return s
}

// probed is what the probes measured.
type probed struct {
	lat []time.Duration
	err error
}

// Load posts o.Events realistic track events to the Beacon at o.URL.
func Load(ctx context.Context, o LoadOptions) (LoadResult, error) {
	switch {
	case o.Events <= 0 || o.Batch <= 0 || o.Clients <= 0:
		return LoadResult{}, errors.New("events, batch and clients must be positive")
	case o.Rate < 0:
		return LoadResult{}, fmt.Errorf("rate %d: must be 0 (as fast as answered) or positive", o.Rate)
	case !strings.HasPrefix(o.URL, "http://") && !strings.HasPrefix(o.URL, "https://"):
		return LoadResult{}, fmt.Errorf("url %q: want where Beacon listens, http(s)://host:port", o.URL)
	case o.Key == "":
		return LoadResult{}, errors.New("a write key of that Beacon is needed (beacon keys create)")
	}
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	var room slab
	defer room.release()
	bodies, err := makeBodies(&room, o.Events, o.Batch)
	if err != nil {
		return LoadResult{}, err
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: o.Clients + 1}}
	url := strings.TrimSuffix(o.URL, "/") + "/v1/batch"
	var probe *scoredProbe
	if o.AdminToken != "" {
		probe = &scoredProbe{client: client, base: strings.TrimSuffix(o.URL, "/"), key: o.Key, token: o.AdminToken,
			run: strconv.FormatInt(time.Now().UnixNano(), 36), poll: 20 * time.Millisecond}
		if err := probe.warmUp(ctx); err != nil {
			return LoadResult{}, err
		}
	}
	done := make(chan probed, 1)
	probing, stopProbing := context.WithCancel(ctx)
	defer stopProbing()
	go func() {
		if probe == nil {
			done <- probed{}
			return
		}
		lat, err := probe.measure(probing)
		done <- probed{lat, err}
	}()
	lat, elapsed, err := send(ctx, cancel, client, url, o.Key, bodies, o.Batch, o.Clients, o.Rate)
	stopProbing()
	p := <-done
	if err == nil {
		err = p.err
	}
	if err != nil {
		return LoadResult{}, err
	}
	return LoadResult{URL: o.URL, Events: o.Events, Batches: len(bodies), Batch: o.Batch, Clients: o.Clients, Rate: o.Rate,
		Elapsed: elapsed, EventsPerSecond: float64(o.Events) / elapsed.Seconds(), Scored: p.lat,
		P50: lat[len(lat)/2], P99: lat[min(len(lat)-1, len(lat)*99/100)], Max: lat[len(lat)-1]}, nil
}

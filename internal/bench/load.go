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
	// Receive, if set (host:port), is where this process listens for the
	// webhooks of the Beacon under load (its beacon.yaml sends alerts to
	// http://Receive/): probes then time a new mid-market workspace's first
	// project, from sent to its alert's webhook received, and the load
	// starts warm.
	Receive string
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
	// Probes are the probes' times, sorted: from acknowledgement to a
	// score served, or from sent to a webhook received (Hooked); none
	// without an admin token or a receiver.
	Probes []time.Duration
	Hooked bool
}

func (r LoadResult) String() string {
	s := fmt.Sprintf("%s: %d events acknowledged in %d batches of %d from %d clients in %.2fs: %.0f durable events/s; batch latency p50 %.1f ms, p99 %.1f ms, max %.1f ms",
		r.URL, r.Events, r.Batches, r.Batch, r.Clients, r.Elapsed.Seconds(), r.EventsPerSecond, ms(r.P50), ms(r.P99), ms(r.Max))
	if r.Rate > 0 {
		s += fmt.Sprintf(" (offered %d events/s; latency from when each batch was due)", r.Rate)
	}
	if n := len(r.Probes); n > 0 {
		what := "acknowledged → scored"
		if r.Hooked {
			what = "sent → webhook received"
		}
		s += fmt.Sprintf("; %s, %d probes: p50 %.0f ms, p99 %.0f ms, max %.0f ms",
			what, n, ms(r.Probes[n/2]), ms(r.Probes[min(n-1, n*99/100)]), ms(r.Probes[n-1]))
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
	case o.Receive != "" && o.AdminToken != "":
		return LoadResult{}, errors.New("probes time either scores (an admin token) or webhooks (a receiver), not both")
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
	base := strings.TrimSuffix(o.URL, "/")
	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	var probe latencyProbe
	switch {
	case o.Receive != "":
		rc := &receiver{probe: map[string]time.Time{}}
		_, stop, err := listenAt(o.Receive, rc)
		if err != nil {
			return LoadResult{}, fmt.Errorf("listening for webhooks: %w", err)
		}
		defer stop()
		probe = hookedProbe{client: client, base: base, key: o.Key, run: run, rc: rc}
	case o.AdminToken != "":
		probe = scoredProbe{client: client, base: base, key: o.Key, token: o.AdminToken, run: run, poll: 20 * time.Millisecond}
	}
	if probe != nil {
		if err := warmUp(ctx, probe, client, base, o.Key, run); err != nil {
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
		lat, err := measure(probing, probe)
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
		Elapsed: elapsed, EventsPerSecond: float64(o.Events) / elapsed.Seconds(), Probes: p.lat, Hooked: o.Receive != "",
		P50: lat[len(lat)/2], P99: lat[min(len(lat)-1, len(lat)*99/100)], Max: lat[len(lat)-1]}, nil
}

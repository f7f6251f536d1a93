package route

import (
	"slices"
	"time"

	"github.com/beaconplg/beacon/internal/store"
)

// Response-time bands of seed 004 for PQL alert → outreach: under an hour
// is good, up to a day a warning, longer a red flag.
const (
	BandGood    = "good"
	BandWarning = "warning"
	BandRed     = "red"
)

// Band is the band of a response time.
func Band(d time.Duration) string {
	switch {
	case d < time.Hour:
		return BandGood
	case d <= 24*time.Hour:
		return BandWarning
	}
	return BandRed
}

// SLA is how fast alerts that need a person were answered: acknowledged
// in Beacon (at its top level, as it has always been reported) and reached
// out on, as the CRM records it (seed 004's band is "time from PQL alert to
// sales outreach"), in all and by owner and by segment.
type SLA struct {
	Since  time.Time `json:"since"`
	Alerts int       `json:"alerts"`
	Acked  int       `json:"acked"`
	Times
	// Outreach is alert → the first sales activity the CRM recorded.
	Outreach Times `json:"outreach"`
	// ByOwner and BySegment split both: "" is no owner.
	ByOwner   map[string]Split `json:"by_owner"`
	BySegment map[string]Split `json:"by_segment"`
}

// Times are response times of one kind.
type Times struct {
	// Done are the alerts answered; Open those not yet, of which those
	// older than a day count in the red band already.
	Done int `json:"done"`
	Open int `json:"open"`
	// P50 and P90 are over the alerts answered, in seconds; nil (null)
	// while none is, which is not a response time of zero.
	P50     *float64       `json:"p50_seconds"`
	P90     *float64       `json:"p90_seconds"`
	P50Band string         `json:"p50_band,omitempty"`
	P90Band string         `json:"p90_band,omitempty"`
	Bands   map[string]int `json:"bands"`
}

// Split is one owner's or segment's response times.
type Split struct {
	Alerts   int   `json:"alerts"`
	Ack      Times `json:"ack"`
	Outreach Times `json:"outreach"`
}

// Measure reports the response times of alerts raised since since, as of
// now.
func Measure(times []store.AlertTime, since, now time.Time) SLA {
	acked := func(t store.AlertTime) time.Time { return t.Acked }
	reached := func(t store.AlertTime) time.Time { return t.Outreach }
	r := SLA{Since: since, Alerts: len(times), Times: measure(times, now, acked), Outreach: measure(times, now, reached),
		ByOwner: map[string]Split{}, BySegment: map[string]Split{}}
	r.Acked = r.Done
	for _, by := range []struct {
		out map[string]Split
		key func(store.AlertTime) string
	}{{r.ByOwner, func(t store.AlertTime) string { return t.Owner }}, {r.BySegment, func(t store.AlertTime) string { return t.Segment }}} {
		groups := map[string][]store.AlertTime{}
		for _, t := range times {
			groups[by.key(t)] = append(groups[by.key(t)], t)
		}
		for k, ts := range groups {
			by.out[k] = Split{Alerts: len(ts), Ack: measure(ts, now, acked), Outreach: measure(ts, now, reached)}
		}
	}
	return r
}

// measure is the response times of times, answered when answered says
// (zero: not yet).
func measure(times []store.AlertTime, now time.Time, answered func(store.AlertTime) time.Time) Times {
	r := Times{Bands: map[string]int{BandGood: 0, BandWarning: 0, BandRed: 0}}
	var took []time.Duration
	for _, t := range times {
		at := answered(t)
		if at.IsZero() {
			r.Open++
			if now.Sub(t.Created) > 24*time.Hour {
				r.Bands[BandRed]++
			}
			continue
		}
		d := max(at.Sub(t.Created), 0)
		took = append(took, d)
		r.Bands[Band(d)]++
	}
	r.Done = len(took)
	if len(took) == 0 {
		return r
	}
	slices.Sort(took)
	p50, p90 := rank(took, 0.5), rank(took, 0.9)
	s50, s90 := p50.Seconds(), p90.Seconds()
	r.P50, r.P90, r.P50Band, r.P90Band = &s50, &s90, Band(p50), Band(p90)
	return r
}

// rank is the nearest-rank percentile p of sorted ds.
func rank(ds []time.Duration, p float64) time.Duration {
	i := int(float64(len(ds))*p+0.999999) - 1
	return ds[min(max(i, 0), len(ds)-1)]
}

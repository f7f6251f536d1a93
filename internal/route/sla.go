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

// SLA is how fast alerts that need a person were acknowledged.
type SLA struct {
	Since  time.Time `json:"since"`
	Alerts int       `json:"alerts"`
	Acked  int       `json:"acked"`
	// Open alerts are not acknowledged yet; those older than a day count
	// in the red band already.
	Open int `json:"open"`
	// P50 and P90 are over acknowledged alerts, in seconds; nil (null)
	// while none is acknowledged, which is not a response time of zero.
	P50     *float64       `json:"p50_seconds"`
	P90     *float64       `json:"p90_seconds"`
	P50Band string         `json:"p50_band,omitempty"`
	P90Band string         `json:"p90_band,omitempty"`
	Bands   map[string]int `json:"bands"`
}

// Measure reports the response times of alerts raised since since, as of
// now.
func Measure(times []store.AlertTime, since, now time.Time) SLA {
	r := SLA{Since: since, Alerts: len(times), Bands: map[string]int{BandGood: 0, BandWarning: 0, BandRed: 0}}
	var took []time.Duration
	for _, t := range times {
		if t.Acked.IsZero() {
			r.Open++
			if now.Sub(t.Created) > 24*time.Hour {
				r.Bands[BandRed]++
			}
			continue
		}
		d := t.Acked.Sub(t.Created)
		took = append(took, d)
		r.Bands[Band(d)]++
	}
	r.Acked = len(took)
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

package score

import (
	"time"

	"github.com/beaconplg/beacon/internal/event"
	"github.com/beaconplg/beacon/internal/signal"
)

// ReadInParts makes s read any stream of more than 2n events in parts, so
// tests on small worlds take the path long replays take.
func ReadInParts(s *Service, n int64) { s.signals.ReadInParts(n) }

// Held is how many users and visitors s's rollups hold.
func Held(s *Service) int { return s.signals.Held() }

// NudgesFor evaluates the nudges for a subject of the given users' rollups.
func NudgesFor(r *Rules, actors []*signal.Actor, today int32, f Facts) ([]Nudge, error) {
	return r.nudgesFor(actors, today, f)
}

var EachParallel = eachParallel

// ActivityOf measures an account's activity as scoring does.
func ActivityOf(members []string, actors []*signal.Actor, today int32) []byte {
	_, _, _, enc := activityOf(members, actors, today)
	return enc
}

// Trap has fn see each event before the rollups take it, to stand in for a
// bug one event triggers.
func Trap(s *Service, fn func(*event.Event)) { s.signals.Trap(fn) }

// HandOffGrace sets how long identity's cursor may stand ahead of what it
// handed on before s replays the stream.
func HandOffGrace(s *Service, d time.Duration) { s.signals.HandOffGrace(d) }

// The hand-off: what identity resolves, commit by commit, taken into the
// rollups without reading the log again.

package score

import (
	"context"
	"errors"
	"time"

	"github.com/beaconplg/beacon/internal/identity"
	"github.com/beaconplg/beacon/internal/store"
)

// Reads says whose properties the rules read: identity reads them with the
// events it hands on.
func (s *Service) Reads() store.Bodies { return bodiesOf(s.current.Load()) }

// Resolved takes what an identity commit resolved, for the next sync; it is
// safe to call from the projection's goroutine, and never waits for a sync.
func (s *Service) Resolved(r identity.Resolved) {
	s.pendingMu.Lock()
	for _, u := range r.Changes.Users {
		s.pending.user(u)
	}
	for _, a := range r.Changes.Accounts {
		s.pending.accounts[a] = true
	}
	if len(r.Events) > 0 || len(r.Aliased) > 0 || r.From != r.To {
		s.handed = append(s.handed, r)
		s.handedEvents += len(r.Events)
	}
	s.pendingMu.Unlock()
	s.Notify()
}

// maxHanded is the most events identity hands on that may wait for a sync:
// past it identity waits (Room), so that a long replay does not fill memory.
const maxHanded = 100_000

// Room reports whether identity may hand on more: its events wait in
// the stream, not in memory, while a sync is long.
func (s *Service) Room() bool {
	s.pendingMu.Lock()
	defer s.pendingMu.Unlock()
	return s.handedEvents < maxHanded
}

// takeHanded adds to the rollups what identity handed on, in stream order.
// It reports false, with the rollups emptied for the next sync to replay,
// if a stretch is missing (identity ran elsewhere), was read for other
// rules, or could not be taken.
func (s *Service) takeHanded(ctx context.Context, rep *Report) (whole bool, err error) {
	s.pendingMu.Lock()
	handed := s.handed
	s.handed, s.handedEvents = nil, 0
	s.pendingMu.Unlock()
	defer func() {
		if !whole {
			s.setRules(s.rules)
		}
	}()
	want := s.bodies()
	for _, r := range handed {
		moves := r.From != r.To
		if moves && !s.cursor.Before(r.To) {
			continue // the replay read it
		}
		if moves && (r.From != s.cursor || !r.Bodies.Covers(want)) {
			s.log.Info("identity handed on a stretch that does not follow; replaying the stream", "after", s.cursor.Seq, "from", r.From.Seq)
			return false, nil
		}
		b := batch{evs: r.Events, users: r.Users, merges: r.Aliased, matches: s.rules.Signals.Match(r.Events)}
		err := s.apply(b)
		s.rules.Signals.Recycle(b.matches)
		var bad *poisoned
		if errors.As(err, &bad) {
			return false, s.setAside(ctx, bad) // the replay passes over it
		}
		if err != nil {
			return false, err
		}
		if moves {
			s.cursor = r.To
		}
		rep.Events += len(r.Events)
	}
	return true, nil
}

// handOffGrace is how long identity's cursor may stand ahead of what it
// handed on before scoring takes the stretch to have been resolved
// elsewhere (another process, `beacon import` beside `beacon serve`): a
// commit hands on right after it commits.
const handOffGrace = 5 * time.Second

// missed reports whether identity's cursor, upTo, has stood ahead of what
// identity handed on for longer than the grace; the rollups are then
// emptied for the next sync to replay.
func (s *Service) missed(upTo store.Cursor) bool {
	if !s.cursor.Before(upTo) {
		s.behind = time.Time{}
		return false
	}
	now := time.Now()
	if s.behind.IsZero() || s.behindAt.Before(s.cursor) {
		s.behind, s.behindAt = now, upTo
		return false
	}
	if now.Sub(s.behind) < s.grace {
		return false
	}
	s.log.Info("identity resolved a stretch it did not hand on; replaying the stream", "after", s.cursor.Seq, "identity", upTo.Seq)
	s.setRules(s.rules)
	return true
}

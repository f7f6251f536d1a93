// The hand-off: what identity resolves, commit by commit, taken into the
// rollups without reading the log again.

package signal

import (
	"context"
	"errors"
	"time"

	"github.com/beaconplg/beacon/internal/identity"
	"github.com/beaconplg/beacon/internal/store"
)

// Reads says whose properties the signals read: identity reads them with
// the events it hands on.
func (st *Stage) Reads() store.Bodies { return st.bodies(st.current.Load()) }

// Resolved takes what an identity commit resolved, for the next TakeIn; it
// is safe to call from identity's goroutine, and never waits for the
// reader.
func (st *Stage) Resolved(r identity.Resolved) {
	st.pendingMu.Lock()
	st.handed = append(st.handed, r)
	st.handedEvents += len(r.Events)
	st.pendingMu.Unlock()
	st.wake()
}

// maxHanded is the most events identity hands on that may wait for a
// TakeIn: past it identity waits (Room), so that a long replay does not
// fill memory.
const maxHanded = 100_000

// Room reports whether identity may hand on more: its events wait in the
// stream, not in memory, while the reader is busy.
func (st *Stage) Room() bool {
	st.pendingMu.Lock()
	defer st.pendingMu.Unlock()
	return st.handedEvents < maxHanded
}

// takeHanded adds to the rollups what identity handed on, in stream order,
// and passes on identity's changes. It reports false, with the rollups
// emptied for a replay, if a stretch is missing (identity ran elsewhere),
// was read for other signals, or could not be taken.
func (st *Stage) takeHanded(ctx context.Context, m Marks, t *Taken) (whole bool, err error) {
	st.pendingMu.Lock()
	handed := st.handed
	st.handed, st.handedEvents = nil, 0
	st.pendingMu.Unlock()
	defer func() {
		if !whole {
			st.Reset(st.set)
		}
	}()
	for _, r := range handed {
		m.Changed(r.Changes.Users, r.Changes.Accounts)
	}
	want := st.bodies(st.set)
	for _, r := range handed {
		moves := r.From != r.To
		if len(r.Events) == 0 && len(r.Aliased) == 0 && !moves {
			continue
		}
		if moves && !st.cursor.Before(r.To) {
			continue // the replay read it
		}
		if moves && (r.From != st.cursor || !r.Bodies.Covers(want)) {
			st.log.Info("identity handed on a stretch that does not follow; replaying the stream", "after", st.cursor.Seq, "from", r.From.Seq)
			return false, nil
		}
		b := batch{evs: r.Events, users: r.Users, merges: r.Aliased, matches: st.set.Match(r.Events)}
		err := st.apply(b, m)
		st.set.Recycle(b.matches)
		var bad *poisoned
		if errors.As(err, &bad) {
			return false, st.setAside(ctx, bad) // the replay passes over it
		}
		if err != nil {
			return false, err
		}
		if moves {
			st.cursor = r.To
		}
		t.Events += len(r.Events)
	}
	return true, nil
}

// handOffGrace is how long identity's cursor may stand ahead of what it
// handed on before the stage takes the stretch to have been resolved
// elsewhere (another process, `beacon import` beside `beacon serve`): a
// commit hands on right after it commits.
const handOffGrace = 5 * time.Second

// missed reports whether identity's cursor, upTo, has stood ahead of what
// identity handed on for longer than the grace; the rollups are then
// emptied for a replay.
func (st *Stage) missed(upTo store.Cursor) bool {
	if !st.cursor.Before(upTo) {
		st.behind = time.Time{}
		return false
	}
	now := time.Now()
	if st.behind.IsZero() || st.behindAt.Before(st.cursor) {
		st.behind, st.behindAt = now, upTo
		return false
	}
	if now.Sub(st.behind) < st.grace {
		return false
	}
	st.log.Info("identity resolved a stretch it did not hand on; replaying the stream", "after", st.cursor.Seq, "identity", upTo.Seq)
	st.Reset(st.set)
	return true
}

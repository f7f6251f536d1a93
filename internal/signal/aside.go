// Events set aside: an event the rollups cannot take (a bug it triggers)
// is quarantined and passed over, and the stage goes on.

package signal

import (
	"context"
	"fmt"

	"github.com/beaconplg/beacon/internal/event"
	"github.com/beaconplg/beacon/internal/identity"
	"github.com/beaconplg/beacon/internal/store"
)

// poisoned is an event the rollups could not take.
type poisoned struct {
	event event.Event
	cause error
}

func (p *poisoned) Error() string {
	return fmt.Sprintf("event %s (seq %d): %v", p.event.MessageID, p.event.Seq, p.cause)
}

// Quarantined counts the events this process has set aside since it
// started.
func (st *Stage) Quarantined() uint64 { return st.quarantined.Load() }

// Trap has fn see each event before the rollups take it: tests stand a bug
// one event triggers in with it.
func (st *Stage) Trap(fn func(*event.Event)) { st.trap = fn }

// passOver reports whether the rollups leave e out: an event set aside, or
// one after the instant they stand at.
func (st *Stage) passOver(e *event.Event) bool {
	if (len(st.skip) > 0 && st.skip[e.Seq]) || st.later(e) {
		return true
	}
	if st.trap != nil {
		st.trap(e)
	}
	return false
}

// setAside quarantines an event the rollups could not take, and passes over
// it from now on.
func (st *Stage) setAside(ctx context.Context, p *poisoned) error {
	e := p.event
	err := st.db.QuarantineEvent(ctx, store.Quarantined{Stage: store.StageSignals, Seq: e.Seq, Tx: e.Tx,
		MessageID: identity.Storable(e.MessageID), UserID: identity.Storable(e.UserID), AccountID: identity.Storable(e.GroupID),
		Error: identity.Storable(p.cause.Error()), LastAt: st.clock()})
	if err != nil {
		return fmt.Errorf("quarantining %v: %w", p, err)
	}
	if st.skip == nil {
		st.skip = map[int64]bool{}
	}
	st.skip[e.Seq] = true
	st.quarantined.Add(1)
	st.log.Warn("signals quarantined an event they could not take; `beacon quarantine list` shows it", "seq", e.Seq, "err", p.cause)
	return nil
}

// ReadSkipped reads the events set aside and not resolved since, once and
// again whenever asked (after `beacon quarantine retry`). If one passed
// over before is no longer among them, the rollups are emptied to take
// it: the next TakeIn replays the stream.
func (st *Stage) ReadSkipped(ctx context.Context, again bool) error {
	if st.skip != nil && !again {
		return nil
	}
	open, err := st.db.QuarantinedList(ctx, store.QuarantineQuery{Open: true, Stage: store.StageSignals, Limit: 1 << 30})
	if err != nil {
		return err
	}
	skip := make(map[int64]bool, len(open))
	for _, q := range open {
		skip[q.Seq] = true
	}
	retried := false
	for seq := range st.skip {
		retried = retried || !skip[seq]
	}
	st.skip = skip
	if retried {
		st.Reset(st.set)
	}
	return nil
}

// The signal stage: the rollups kept current as identity resolves events,
// rebuilt from the event log when they hold nothing.

package signal

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/beaconplg/beacon/internal/event"
	"github.com/beaconplg/beacon/internal/identity"
	"github.com/beaconplg/beacon/internal/store"
)

// Store is what the signal stage reads and writes: the event log (to
// replay it), the aliases, and the events it sets aside.
type Store interface {
	Cursor(ctx context.Context, name string) (store.Cursor, error)
	ScanLean(ctx context.Context, after, upTo store.Cursor, batch int, bodies store.Bodies, fn func([]event.Event, store.Cursor) error) error
	Split(after, upTo store.Cursor, n int, least int64) []store.Cursor
	PackedTo(ctx context.Context, bodies store.Bodies) (from store.Cursor, keep store.Bodies, err error)
	PackFrom(ctx context.Context, from, upTo store.Cursor, keep store.Bodies, each func([]event.Event) error) (packed int, err, writeErr error)
	Recycle(evs []event.Event)
	AllAliases(ctx context.Context, asOf time.Time) (map[string]string, error)
	QuarantinedList(ctx context.Context, q store.QuarantineQuery) ([]store.Quarantined, error)
	QuarantineEvent(ctx context.Context, q store.Quarantined) error
}

// Marks hears what the stage's input moved, for its reader (scoring) to
// rescore.
type Marks interface {
	// Everyone: the rollups were rebuilt.
	Everyone()
	// Changed: identity changed these users and accounts (links, traits).
	Changed(users, accounts []string)
	// Moved: an event of user's, in group, moved user's rollup by m.
	Moved(user, group string, m Moved)
	// Merged: what a visitor did now counts for user.
	Merged(user string)
}

// VisitorDays is how long the rollups keep a visitor never identified after
// their last visit. One who signs up later than that starts afresh.
const VisitorDays = 30

// Stage keeps every user's rollup current. Identity hands it each commit's
// resolved events (Resolved); its reader takes them in (TakeIn), in stream
// order, hearing who moved. The log is read only to replay it, into
// rollups that hold nothing: at a start, after new signals, and when
// identity resolved a stretch it did not hand on (another process did). An
// event the rollups cannot take is set aside and passed over from then on.
//
// Resolved and Room may be called from any goroutine; every other method
// from one at a time (the reader's).
type Stage struct {
	db    Store
	log   *slog.Logger
	clock func() time.Time

	set     *Set
	current atomic.Pointer[Set] // set, for Reads outside the reader's calls
	roll    *Rollups
	// fresh: the rollups hold nothing yet, and the next TakeIn replays the
	// stream up to where identity stands; cursor is how far they hold it.
	fresh  bool
	cursor store.Cursor

	// What identity handed on and no TakeIn has taken yet; they have a lock
	// of their own so that identity never waits for the reader.
	pendingMu    sync.Mutex
	handed       []identity.Resolved
	handedEvents int
	wake         func()
	// behind is since when identity's cursor has stood at behindAt, ahead
	// of what it handed on; grace is how long that may last (missed).
	behind   time.Time
	behindAt store.Cursor
	grace    time.Duration
	// partEvents is the least a part of the stream read apart holds.
	partEvents int64
	oneShot    bool
	asOf       time.Time
	// skip are the events set aside: every replay passes over them. nil
	// until read from the quarantine.
	skip        map[int64]bool
	quarantined atomic.Uint64
	trap        func(*event.Event)
	// watch hears every event the rollups take; passed is its batch's
	// events passed over.
	watch  Watcher
	passed []int
}

// Watcher hears every event the rollups take, in the stage's goroutine:
// users[i] is event i's user ("" for a visitor), passed the indexes of
// events passed over, merges the anonymous ids tied to a user. Reset
// says the stage is about to replay the stream. Names are the track
// events whose properties it reads.
type Watcher interface {
	Names() []string
	Reset()
	Took(evs []event.Event, users []string, passed []int, merges map[string]string)
}

// Watch has w hear every event from now on, beside the watchers it
// already has; call it before the first TakeIn.
func (st *Stage) Watch(w Watcher) {
	w.Reset()
	switch ws := st.watch.(type) {
	case nil:
		st.watch = w
	case watchers:
		st.watch = append(ws, w)
	default:
		st.watch = watchers{ws, w}
	}
}

// watchers hands what the stage takes to each of several watchers, in
// turn: the metrics' book and calibration's, say.
type watchers []Watcher

func (ws watchers) Names() []string {
	var out []string
	for _, w := range ws {
		out = append(out, w.Names()...)
	}
	return out
}

func (ws watchers) Reset() {
	for _, w := range ws {
		w.Reset()
	}
}

func (ws watchers) Took(evs []event.Event, users []string, passed []int, merges map[string]string) {
	for _, w := range ws {
		w.Took(evs, users, passed, merges)
	}
}

// NewStage returns a stage over set's signals, empty: its first TakeIn
// replays the stream. wake is called when identity hands something on.
func NewStage(db Store, set *Set, log *slog.Logger, clock func() time.Time, wake func()) *Stage {
	st := &Stage{db: db, log: log, clock: clock, wake: wake, grace: handOffGrace, partEvents: partEvents}
	st.Reset(set)
	return st
}

// Reset empties the rollups, for set's signals: the next TakeIn replays
// the stream.
func (st *Stage) Reset(set *Set) {
	st.set, st.roll, st.cursor, st.fresh = set, NewRollups(set), store.Cursor{}, true
	st.current.Store(set)
	if st.watch != nil {
		st.watch.Reset()
	}
}

// OneShot readies the stage for one replay of the stream with nothing after
// it (`beacon score --all`): it then keeps no visitor, since a replay that
// reads every alias first has already tied every visitor who became a user.
func (st *Stage) OneShot() { st.oneShot = true }

// AsOf leaves out of the rollups every event whose timestamp is after t,
// and the anonymous ids tied after it: a store that also holds later
// events gives the rollups of then.
func (st *Stage) AsOf(t time.Time) { st.asOf = t }

// Fresh reports whether the next TakeIn replays the stream.
func (st *Stage) Fresh() bool { return st.fresh }

// Actor is user's rollup; nil if the user has done nothing the signals read.
func (st *Stage) Actor(user string) *Actor { return st.roll.Actor(user) }

// Held is how many users and visitors the rollups hold.
func (st *Stage) Held() int { return st.roll.Len() }

// Turn slides the rollups to day today, and forgets the visitors quiet
// since VisitorDays before it beside the caller: done is closed when
// that is over, and no other call may come before.
func (st *Stage) Turn(today int32) (done <-chan struct{}) {
	st.roll.Prune(today)
	swept := make(chan struct{})
	go func() { defer close(swept); st.roll.DropVisitors(today - VisitorDays) }()
	return swept
}

// Taken is what a TakeIn did.
type Taken struct {
	Events int // events added to the rollups
	Packed int // events packed into stream blocks for later replays
	// Replayed: the rollups were rebuilt from the log.
	Replayed bool
}

// TakeIn brings the rollups up to where identity stands: a replay if they
// hold nothing, then what identity handed on, telling m who moved. A
// stretch missing from what was handed on (set aside, read for other
// signals, resolved elsewhere) empties them, and they are replayed at
// once, up to where identity stands then; if even that leaves a stretch
// missing, the next TakeIn goes on.
func (st *Stage) TakeIn(ctx context.Context, m Marks) (Taken, error) {
	var t Taken
	upTo, err := st.db.Cursor(ctx, identity.CursorName)
	if err != nil {
		return t, err
	}
	for tries := 0; ; tries++ {
		if st.fresh {
			if err := st.replay(ctx, upTo, m, &t); err != nil {
				return t, err
			}
		}
		whole, err := st.takeHanded(ctx, m, &t)
		if err != nil {
			return t, err
		}
		if whole && !st.missed(upTo) {
			return t, nil
		}
		if tries == 1 {
			st.wake()
			return t, errors.New("signals: identity's stretches still do not follow after a replay; trying again")
		}
		if upTo, err = st.db.Cursor(ctx, identity.CursorName); err != nil {
			return t, err
		}
	}
}

// replay rebuilds the rollups from the stream up to upTo; everyone moved.
func (st *Stage) replay(ctx context.Context, upTo store.Cursor, m Marks, t *Taken) error {
	m.Everyone()
	t.Replayed = true
	return st.catchUp(ctx, upTo, m, t)
}

// apply adds a batch, its users known, to the rollups, then merges into
// their users the visitors it tied to one: what a visitor did before
// counts for the user it turned out to be.
func (st *Stage) apply(b batch, m Marks) (err error) {
	cur := -1 // the event being taken, for a panic to name
	defer func() {
		if v := recover(); v != nil {
			if cur < 0 {
				err = fmt.Errorf("merging visitors: panic: %v", v)
				return
			}
			err = &poisoned{event: b.evs[cur], cause: fmt.Errorf("panic: %v", v)}
		}
	}()
	st.passed = st.passed[:0]
	for i := range b.evs {
		e := &b.evs[i]
		cur = i
		if st.passOver(e) {
			st.passed = append(st.passed, i)
			continue
		}
		switch uid := b.users[i]; {
		case uid != "":
			m.Moved(uid, e.GroupID, st.roll.AddMatched(uid, b.matches, i))
		case e.AnonymousID != "" && !st.oneShot:
			st.roll.AddVisitorMatched(e.AnonymousID, b.matches, i)
		}
	}
	cur = -1
	if st.watch != nil {
		st.watch.Took(b.evs, b.users, st.passed, b.merges)
	}
	for anon, uid := range b.merges {
		if st.roll.Visiting(anon) {
			st.roll.Merge(uid, anon)
			m.Merged(uid)
		}
	}
	return nil
}

// later reports whether e happened after the instant the rollups stand at.
func (st *Stage) later(e *event.Event) bool { return !st.asOf.IsZero() && e.Timestamp.After(st.asOf) }

// ReadInParts has a replay read a stream of more than 2×least events in
// parts at once (partEvents otherwise): tests on small worlds take the
// path long replays take with it.
func (st *Stage) ReadInParts(least int64) { st.partEvents = least }

// HandOffGrace sets how long identity's cursor may stand ahead of what it
// handed on before the stage replays the stream (handOffGrace otherwise).
func (st *Stage) HandOffGrace(d time.Duration) { st.grace = d }

// The replay: rebuilding the rollups from the event log, at a start, after
// new signals, for score --all (as of an instant, if asked), and when
// identity resolved a stretch it could not hand on.

package signal

import (
	"context"
	"errors"
	"slices"
	"sync"

	"github.com/beaconplg/beacon/internal/event"
	"github.com/beaconplg/beacon/internal/projection"
	"github.com/beaconplg/beacon/internal/store"
)

// batch is a read of the stream, or the error that ended it.
type batch struct {
	evs     []event.Event
	matches *Matches
	// users is each event's user: "" for a visitor not (yet) tied to one.
	users []string
	// merges are anonymous ids tied to a user as the batch was resolved.
	merges map[string]string
	err    error
}

// readers is how many parts of a long stream are read at once, each of at
// least partEvents: replaying millions of events is mostly reading them.
const (
	readers    = 2
	partEvents = 100_000
	batchSize  = 5000
)

// catchUp replays the stream up to upTo into the rollups, which hold
// nothing yet. Parts of a long stream are read at once and their batches
// applied as they come: the rollups do not depend on the order of events.
// A failure part way leaves the rollups empty for the next TakeIn.
func (st *Stage) catchUp(ctx context.Context, upTo store.Cursor, m Marks, t *Taken) (err error) {
	defer func() {
		if err != nil {
			st.Reset(st.set)
		}
	}()
	// A replay packs the stream first: it and the next replays read
	// blocks. Without them it only reads rows.
	n, err := st.db.Pack(ctx, upTo, bodiesOf(st.set))
	if err != nil && ctx.Err() == nil {
		st.log.Warn("packing the event stream failed; replaying its rows", "err", err)
	}
	t.Packed += n
	known := st.readAliases(ctx)
	defer func() { <-known.done }() // a failed replay leaves no read behind
	readCtx, stopReading := context.WithCancel(ctx)
	defer stopReading()
	for b := range st.read(readCtx, st.db.Split(store.Cursor{}, upTo, readers, st.partEvents), known) {
		err := b.err
		if err == nil {
			err = st.apply(b, m)
			st.db.Recycle(b.evs)
			st.set.Recycle(b.matches)
			known.recycle(b.users)
		}
		var bad *poisoned
		if errors.As(err, &bad) {
			// The rollups hold part of the stream: rebuild them,
			// passing over the event from now on.
			if err := st.setAside(ctx, bad); err != nil {
				return err
			}
			stopReading()
			<-known.done
			st.Reset(st.set)
			return st.catchUp(ctx, upTo, m, t)
		}
		if err != nil {
			return err
		}
		t.Events += len(b.evs)
	}
	if err := ctx.Err(); err != nil {
		return err // the readers stopped early and quietly: not everything is in
	}
	st.cursor, st.fresh = upTo, false
	return nil
}

// scanSafely runs a reader, a panic (a bug an event triggers while it is
// matched) its error: in a goroutine of its own, nothing else could
// recover it, and the process would end.
func scanSafely(scan func() error) (err error) {
	defer projection.Catch(&err)
	return scan()
}

// aliases is every alias, for a replay of the whole stream, read beside
// its first blocks.
type aliases struct {
	done  chan struct{}
	known map[string]string
	err   error
	rooms sync.Pool // of *[]string, spent by usersOf's callers
}

func (st *Stage) readAliases(ctx context.Context) *aliases {
	a := &aliases{done: make(chan struct{})}
	go func() {
		defer close(a.done)
		a.known, a.err = st.db.AllAliases(ctx, st.asOf)
	}()
	return a
}

// usersOf returns each event's user, once every alias is read.
func (a *aliases) usersOf(evs []event.Event) ([]string, error) {
	<-a.done
	if a.err != nil {
		return nil, a.err
	}
	users, _ := a.rooms.Get().(*[]string)
	if users == nil {
		users = new([]string)
	}
	return usersOf(evs, a.known, *users), nil
}

// recycle takes back what usersOf returned, once applied.
func (a *aliases) recycle(users []string) {
	if users != nil {
		clear(users) // they hold on to the batch's strings
		a.rooms.Put(&users)
	}
}

// read streams the events of each part, reading and matching the next
// batches while the caller applies the last. known is every alias: the
// readers find each event's user. The caller cancels ctx if it stops
// early.
func (st *Stage) read(ctx context.Context, parts []store.Cursor, known *aliases) <-chan batch {
	// Taken here, by the reader's call: a failed replay may reset the
	// signals while the readers still run.
	r := reading{bodies: bodiesOf(st.set), set: st.set, known: known, oneShot: st.oneShot}
	out := make(chan batch, len(parts))
	var wg sync.WaitGroup
	for i := 0; i+1 < len(parts); i++ {
		wg.Add(1)
		go func(after, upTo store.Cursor) {
			defer wg.Done()
			err := scanSafely(func() error { return st.readPart(ctx, after, upTo, r, out) })
			if err != nil && ctx.Err() == nil {
				select {
				case out <- batch{err: err}:
				case <-ctx.Done():
				}
			}
		}(parts[i], parts[i+1])
	}
	go func() { wg.Wait(); close(out) }()
	return out
}

// reading is what readers share: the bodies to read, the signals to match
// and every alias.
type reading struct {
	bodies  store.Bodies
	set     *Set
	known   *aliases
	oneShot bool
}

// readPart sends out the batches of the events after after up to upTo,
// matched.
func (st *Stage) readPart(ctx context.Context, after, upTo store.Cursor, r reading, out chan<- batch) error {
	return st.db.ScanLean(ctx, after, upTo, batchSize, r.bodies, func(evs []event.Event, _ store.Cursor) error {
		b := batch{evs: evs}
		if !r.oneShot {
			// Matched before waiting for the aliases, which are read
			// beside the first blocks.
			b.matches = r.set.Match(evs)
		}
		var err error
		if b.users, err = r.known.usersOf(evs); err != nil {
			return err
		}
		if r.oneShot {
			b.matches = r.set.MatchUsers(evs, b.users) // it keeps no visitor
		}
		select {
		case out <- b:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
}

// bodiesOf is whose bodies set's signals read.
func bodiesOf(set *Set) store.Bodies {
	var b store.Bodies
	b.All, b.Names = set.Bodies()
	return b
}

// usersOf returns each event's user given every alias, in room if it is
// large enough. An anonymous event whose id no alias names is a visitor's.
func usersOf(evs []event.Event, known map[string]string, room []string) []string {
	out := slices.Grow(room[:0], len(evs))[:len(evs)]
	for i := range evs {
		if out[i] = evs[i].UserID; out[i] == "" && evs[i].AnonymousID != "" {
			out[i] = known[evs[i].AnonymousID]
		}
	}
	return out
}

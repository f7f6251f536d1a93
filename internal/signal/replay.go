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
	// packing: its events are being packed too (see store.DB.PackFrom).
	packing bool
	err     error
}

// readers is how many parts of a long stream are read at once, each of at
// least partEvents: replaying millions of events is mostly reading them.
const (
	readers    = 2
	partEvents = 100_000
	batchSize  = 5000
)

// catchUp replays the stream up to upTo into the rollups, which hold
// nothing yet. An event they cannot take is set aside and the replay
// begins again, passing over it. A failure part way leaves the rollups
// empty for the next TakeIn.
func (st *Stage) catchUp(ctx context.Context, upTo store.Cursor, m Marks, t *Taken) error {
	for {
		again, err := st.replayOnce(ctx, upTo, m, t)
		if err != nil || again {
			st.Reset(st.set)
		}
		if err != nil || !again {
			return err
		}
	}
}

// replayOnce reads the stream up to upTo into the rollups: what is packed
// already in parts at once, what is not as it is packed, each batch
// applied as it comes (the rollups do not depend on the order of events).
// again says an event was set aside, and the rollups hold part of the
// stream.
func (st *Stage) replayOnce(ctx context.Context, upTo store.Cursor, m Marks, t *Taken) (again bool, err error) {
	known := st.readAliases(ctx)
	defer func() { <-known.done }() // a failed replay leaves no read behind
	readCtx, stopReading := context.WithCancel(ctx)
	batches, packing := st.read(readCtx, upTo, known)
	defer func() {
		// No reader, and no packing, outlives the replay.
		stopReading()
		for range batches {
		}
	}()
	for b := range batches {
		err := b.err
		if err == nil {
			err = st.apply(b, m)
			if !b.packing {
				st.db.Recycle(b.evs)
			}
			st.set.Recycle(b.matches)
			known.recycle(b.users)
		}
		var bad *poisoned
		if errors.As(err, &bad) {
			return true, st.setAside(ctx, bad)
		}
		if err != nil {
			return false, err
		}
		t.Events += len(b.evs)
	}
	if err := ctx.Err(); err != nil {
		return false, err // the readers stopped early and quietly: not everything is in
	}
	t.Packed += packing.packed
	if packing.err != nil {
		st.log.Warn("packing the event stream failed; the next replay reads its rows", "err", packing.err)
	}
	st.cursor, st.fresh = upTo, false
	return false, nil
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

// packed is what packing the stream did in a replay, known once its
// batches are all out.
type packed struct {
	packed int
	err    error // writing blocks failed: the events were still read
}

// read streams the events up to upTo in batches, matched, each with its
// users, reading and matching the next while the caller applies the last:
// what is packed already in parts at once, and what is not as it is
// packed. known is every alias. The caller cancels ctx if it stops early,
// and drains the channel.
func (st *Stage) read(ctx context.Context, upTo store.Cursor, known *aliases) (<-chan batch, *packed) {
	// Taken here, by the reader's call: a failed replay may reset the
	// signals while the readers still run.
	r := reading{bodies: st.bodies(st.set), set: st.set, known: known, oneShot: st.oneShot}
	from, keep, err := st.db.PackedTo(ctx, r.bodies)
	blocks, packing := upTo, err == nil && from.Before(upTo) // without packing, everything is read as it is stored
	if err != nil && ctx.Err() == nil {
		st.log.Warn("packing the event stream failed; replaying its rows", "err", err)
	}
	if packing {
		blocks = from
	}
	parts := st.db.Split(store.Cursor{}, blocks, readers, st.partEvents)
	out := make(chan batch, len(parts)+1)
	var wg sync.WaitGroup
	send := func(read func() error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := scanSafely(read); err != nil && ctx.Err() == nil {
				select {
				case out <- batch{err: err}:
				case <-ctx.Done():
				}
			}
		}()
	}
	for i := 0; i+1 < len(parts); i++ {
		after, to := parts[i], parts[i+1]
		send(func() error {
			return st.db.ScanLean(ctx, after, to, batchSize, r.bodies, func(evs []event.Event, _ store.Cursor) error {
				return r.handOut(ctx, evs, false, out)
			})
		})
	}
	var p packed
	if packing {
		st.pack(ctx, from, upTo, keep, r, out, send, &p)
	}
	go func() { wg.Wait(); close(out) }()
	return out, &p
}

// pack packs the stream after from up to upTo and sends out its events as
// they are read, matched on a goroutine of their own (reading the rows is
// the longest part of a first replay). send starts a reader; p is what the
// packing did, once the readers are done.
func (st *Stage) pack(ctx context.Context, from, upTo store.Cursor, keep store.Bodies, r reading, out chan<- batch,
	send func(func() error), p *packed) {
	read := make(chan []event.Event, 2)
	send(func() error {
		for evs := range read {
			if err := r.handOut(ctx, evs, true, out); err != nil {
				for range read {
				}
				return err
			}
		}
		return nil
	})
	send(func() error {
		defer close(read)
		n, err, werr := st.db.PackFrom(ctx, from, upTo, keep, func(evs []event.Event) error {
			select {
			case read <- evs:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
		p.packed, p.err = n, werr
		return err
	})
}

// reading is what readers share: the bodies to read, the signals to match
// and every alias.
type reading struct {
	bodies  store.Bodies
	set     *Set
	known   *aliases
	oneShot bool
}

// handOut sends out a batch of events read, matched and with their users.
// packing: the events are being packed too, and must not be recycled.
func (r reading) handOut(ctx context.Context, evs []event.Event, packing bool, out chan<- batch) error {
	b := batch{evs: evs, packing: packing}
	if !r.oneShot {
		// Matched before waiting for the aliases, which are read beside
		// the first blocks.
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
}

// bodies is whose bodies set's signals, and the watcher, read.
func (st *Stage) bodies(set *Set) store.Bodies {
	var b store.Bodies
	b.All, b.Names = set.Bodies()
	if st.watch != nil && !b.All {
		for _, n := range st.watch.Names() {
			if !slices.Contains(b.Names, n) {
				b.Names = append(b.Names, n)
			}
		}
		slices.Sort(b.Names)
	}
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

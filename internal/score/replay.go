// The replay: rebuilding the rollups from the event log, at a start, after
// new rules, for score --all (as of an instant, if asked), and when
// identity resolved a stretch it could not hand on.

package score

import (
	"context"
	"errors"
	"slices"
	"sync"

	"github.com/beaconplg/beacon/internal/event"
	"github.com/beaconplg/beacon/internal/projection"
	"github.com/beaconplg/beacon/internal/signal"
	"github.com/beaconplg/beacon/internal/store"
)

// replayAll rebuilds the rollups from the stream up to upTo, reading
// beside it what flush will need.
func (s *Service) replayAll(ctx context.Context, upTo store.Cursor, rep *Report) error {
	ahead := s.readAhead(ctx)
	if err := s.catchUp(ctx, upTo, rep); err != nil {
		if ahead != nil {
			<-ahead
		}
		return err
	}
	return s.takeAhead(ahead)
}

// readAhead starts reading what flush will need, if nothing of it is in
// memory; nil otherwise.
func (s *Service) readAhead(ctx context.Context) <-chan ahead {
	if !s.written.empty() {
		return nil
	}
	out := make(chan ahead, 1)
	needDir, cards := s.stale.everyone || s.dir == nil, s.rules.Cards
	go func() {
		var a ahead
		if needDir {
			a.dir, a.err = readDirectory(ctx, s.db, s.asOf)
		}
		if a.err == nil {
			a.scores, a.err = readWritten(ctx, s.db, cards)
		}
		out <- a
	}()
	return out
}

// ahead is what a full replay reads beside the stream: the directory and
// every stored score, which it would otherwise read once the replay is
// done.
type ahead struct {
	dir    *directory
	scores map[string]map[string]held
	err    error
}

// takeAhead waits for what readAhead started, and keeps it.
func (s *Service) takeAhead(c <-chan ahead) error {
	if c == nil {
		return nil
	}
	a := <-c
	if a.err != nil {
		return a.err
	}
	if a.dir != nil {
		s.dir = a.dir
		s.stale.everyone = false
	}
	s.written.whole(a.scores)
	return nil
}

// scanSafely runs a reader, a panic (a bug an event triggers while it is
// matched) its error: in a goroutine of its own, nothing else could
// recover it, and the process would end.
func scanSafely(scan func() error) (err error) {
	defer projection.Catch(&err)
	return scan()
}

// batch is a read of the stream, or the error that ended it.
type batch struct {
	evs     []event.Event
	matches *signal.Matches
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
)

// catchUp replays the stream up to upTo into the rollups, which hold
// nothing yet. Parts of a long stream are read at once and their batches
// applied as they come: the rollups do not depend on the order of events.
// A failure part way leaves the rollups empty for the next sync.
func (s *Service) catchUp(ctx context.Context, upTo store.Cursor, rep *Report) (err error) {
	defer func() {
		if err != nil {
			s.setRules(s.rules)
		}
	}()
	// A replay packs the stream first: it and the next replays read
	// blocks. Without them it only reads rows.
	n, err := s.db.Pack(ctx, upTo, s.bodies())
	if err != nil && ctx.Err() == nil {
		s.log.Warn("packing the event stream failed; replaying its rows", "err", err)
	}
	rep.Packed += n
	known := s.readAliases(ctx)
	defer func() { <-known.done }() // a failed replay leaves no read behind
	readCtx, stopReading := context.WithCancel(ctx)
	defer stopReading()
	for b := range s.read(readCtx, s.db.Split(store.Cursor{}, upTo, readers, s.partEvents), known) {
		err := b.err
		if err == nil {
			err = s.apply(b)
			s.db.Recycle(b.evs)
			s.rules.Signals.Recycle(b.matches)
			known.recycle(b.users)
		}
		var bad *poisoned
		if errors.As(err, &bad) {
			// The rollups hold part of the stream: rebuild them,
			// passing over the event from now on.
			if err := s.setAside(ctx, bad); err != nil {
				return err
			}
			stopReading()
			<-known.done
			s.setRules(s.rules)
			return s.catchUp(ctx, upTo, rep)
		}
		if err != nil {
			return err
		}
		rep.Events += len(b.evs)
	}
	if err := ctx.Err(); err != nil {
		return err // the readers stopped early and quietly: not everything is in
	}
	s.cursor, s.fresh = upTo, false
	return nil
}

// aliases is every alias, for a replay of the whole stream, read beside
// its first blocks.
type aliases struct {
	done  chan struct{}
	known map[string]string
	err   error
	rooms sync.Pool // of *[]string, spent by usersOf's callers
}

func (s *Service) readAliases(ctx context.Context) *aliases {
	a := &aliases{done: make(chan struct{})}
	go func() {
		defer close(a.done)
		a.known, a.err = s.db.AllAliases(ctx, s.asOf)
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
// batches while the caller applies the last. known, in a replay of the
// whole stream, is every alias: the readers then find each event's user.
// The caller cancels ctx if it stops early.
func (s *Service) read(ctx context.Context, parts []store.Cursor, known *aliases) <-chan batch {
	// Taken here, under the sync's lock: a failed sync may replace the
	// rules while the readers still run.
	r := reading{bodies: s.bodies(), set: s.rules.Signals, known: known}
	out := make(chan batch, len(parts))
	var wg sync.WaitGroup
	for i := 0; i+1 < len(parts); i++ {
		wg.Add(1)
		go func(after, upTo store.Cursor) {
			defer wg.Done()
			err := scanSafely(func() error { return s.readPart(ctx, after, upTo, r, out) })
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
// and, in a replay of the whole stream, every alias.
type reading struct {
	bodies store.Bodies
	set    *signal.Set
	known  *aliases
}

// readPart sends out the batches of the events after after up to upTo,
// matched.
func (s *Service) readPart(ctx context.Context, after, upTo store.Cursor, r reading, out chan<- batch) error {
	set := r.set
	return s.db.ScanLean(ctx, after, upTo, batchSize, r.bodies, func(evs []event.Event, _ store.Cursor) error {
		b := batch{evs: evs}
		if !s.oneShot {
			// Matched before waiting for the aliases, which are read
			// beside the first blocks.
			b.matches = set.Match(evs)
		}
		var err error
		if b.users, err = r.known.usersOf(evs); err != nil {
			return err
		}
		if s.oneShot {
			b.matches = set.MatchUsers(evs, b.users) // it keeps no visitor
		}
		select {
		case out <- b:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
}

// bodies is whose bodies the rules in force read.
func (s *Service) bodies() store.Bodies { return bodiesOf(s.rules) }

// bodiesOf is whose bodies r reads.
func bodiesOf(r *Rules) store.Bodies {
	var b store.Bodies
	b.All, b.Names = r.Signals.Bodies()
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

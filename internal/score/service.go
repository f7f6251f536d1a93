package score

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/beaconplg/beacon/internal/event"
	"github.com/beaconplg/beacon/internal/identity"
	"github.com/beaconplg/beacon/internal/projection"
	"github.com/beaconplg/beacon/internal/signal"
	"github.com/beaconplg/beacon/internal/store"
)

// Store is what scoring reads and writes.
type Store interface {
	Cursor(ctx context.Context, name string) (store.Cursor, error)
	ScanLean(ctx context.Context, after, upTo store.Cursor, batch int, bodies store.Bodies, fn func([]event.Event, store.Cursor) error) error
	Split(after, upTo store.Cursor, n int, least int64) []store.Cursor
	Pack(ctx context.Context, upTo store.Cursor, bodies store.Bodies) (int, error)
	Recycle(evs []event.Event)
	AllAliases(ctx context.Context, asOf time.Time) (map[string]string, error)
	MembershipsIn(ctx context.Context, userIDs []string) ([]store.Membership, error)
	MembershipsOfAccounts(ctx context.Context, accountIDs []string) ([]store.Membership, error)
	AllMemberships(ctx context.Context) ([]store.Membership, error)
	UsersIn(ctx context.Context, ids []string) ([]store.User, error)
	AccountsIn(ctx context.Context, ids []string) ([]store.Account, error)
	AllAccounts(ctx context.Context) ([]store.Account, error)
	EmailDomains(ctx context.Context) (map[string]string, error)
	ScoreStatesIn(ctx context.Context, scorecard string, subjects []string) ([]store.ScoreState, error)
	AllScoreStates(ctx context.Context) ([]store.ScoreState, error)
	SaveScores(ctx context.Context, b store.ScoreBatch) error
	QuarantinedList(ctx context.Context, q store.QuarantineQuery) ([]store.Quarantined, error)
	QuarantineEvent(ctx context.Context, q store.Quarantined) error
}

const batchSize = 5000

// VisitorDays is how long the rollups keep a visitor never identified after
// their last visit. One who signs up later than that starts afresh.
const VisitorDays = 30

// Service keeps every score current. It follows the event stream behind the
// identity projection, so each event's user and account are known, keeps
// the rollups in memory, and rescores only the subjects an event, a change
// of identity or the turn of a day touched. A restart replays the stream
// into fresh rollups; only scores that changed are written.
type Service struct {
	db    Store
	log   *slog.Logger
	clock func() time.Time

	mu    sync.Mutex // held by a sync: one at a time
	rules *Rules
	// current is rules for readers outside a sync (the API), who must not
	// wait for one to end.
	current atomic.Pointer[Rules]
	roll    *signal.Rollups
	// fresh: the rollups hold nothing yet, and the next sync replays the
	// stream up to cursor, where identity stands.
	fresh  bool
	cursor store.Cursor
	epoch  int64
	day    int32 // the day the last flush scored for
	// pending is what identity reported changed and no sync has taken
	// yet, handed what it resolved; they have a lock of their own so that
	// identity never waits for a sync.
	pendingMu    sync.Mutex
	pending      dirty
	handed       []identity.Resolved
	handedEvents int
	// behind is since when identity's cursor has stood at behindAt, ahead
	// of what it handed on; grace is how long that may last (missed).
	behind   time.Time
	behindAt store.Cursor
	grace    time.Duration
	stale    dirty // what the directory must read again
	dirty    dirty // what must be rescored
	dir      *directory

	loop *projection.Loop
	// partEvents is the least a part of the stream read apart holds.
	partEvents int64
	// alerted hears that a pass wrote alerts with deliveries.
	alerted func()
	// written is what the store holds of each score.
	written *written
	// oneShot: no event follows the first sync (see OneShot).
	oneShot bool
	// asOf, if not zero, leaves out of the rollups every event after it
	// (see AsOf).
	asOf time.Time
	// encoders are the spent encoders of scoring workers.
	encoders sync.Pool
	// failing are the subjects quarantined and not scored since;
	// quarantined counts those this process set aside, events included.
	failing     map[string]bool
	quarantined atomic.Uint64
	// skip are the events the signal stage set aside: every replay passes
	// over them. nil until read from the quarantine.
	skip map[int64]bool
	// trap, set only by tests (export_test.go), sees each event before the
	// rollups take it: a bug one event triggers, to show it set aside.
	trap func(*event.Event)
}

// OnAlerts sets what to call once a pass has written alerts to deliver (the
// dispatcher's Notify). Call it before Run.
func (s *Service) OnAlerts(fn func()) { s.alerted = fn }

// OneShot readies s for one replay of the stream with nothing after it, as
// `beacon score --all` runs. It then keeps no visitor: no score reads one,
// and a visitor's events would count only once a later alias made it a
// user, which a replay that reads every alias first has already seen.
// Call it before the first Sync.
func (s *Service) OneShot() { s.oneShot = true }

// AsOf readies s to score as things stood at t: events whose timestamp is
// after t are left out of the rollups, and links to accounts made after t
// out of the accounts' members, so that a store that also holds later
// events gives the scores of then, as `beacon score --all --at` and
// backtests need. Traits (an account's size, a user's email) are as the
// store holds them now. Call it before the first Sync; the clock should
// say t.
func (s *Service) AsOf(t time.Time) { s.asOf = t }

// later reports whether e happened after the instant s scores as of.
func (s *Service) later(e *event.Event) bool { return !s.asOf.IsZero() && e.Timestamp.After(s.asOf) }

// dirty is what needs rescoring: users, accounts, and the accounts of
// members (users whose events moved what only accounts read); everyone wins
// over the lists.
type dirty struct {
	everyone                 bool
	users, accounts, members map[string]bool
}

func (d *dirty) reset() {
	*d = dirty{users: map[string]bool{}, accounts: map[string]bool{}, members: map[string]bool{}}
}

// user notes a user whose scores and whose accounts' may have moved.
func (d *dirty) user(id string) { d.users[id], d.members[id] = true, true }

func (d *dirty) merge(o dirty) {
	d.everyone = d.everyone || o.everyone
	for _, m := range []struct{ to, from map[string]bool }{{d.users, o.users}, {d.accounts, o.accounts}, {d.members, o.members}} {
		for k := range m.from {
			m.to[k] = true
		}
	}
}

func (d *dirty) none() bool {
	return !d.everyone && len(d.users) == 0 && len(d.accounts) == 0 && len(d.members) == 0
}

// New returns a service scoring with rules; clock is the time windows end at.
func New(db Store, rules *Rules, log *slog.Logger, clock func() time.Time) *Service {
	s := &Service{db: db, log: log, clock: clock, loop: projection.New(time.Minute, settle), partEvents: partEvents,
		written: newWritten(), grace: handOffGrace}
	s.pending.reset()
	s.stale.reset()
	s.stale.everyone = true
	s.setRules(rules)
	return s
}

func (s *Service) setRules(r *Rules) {
	s.rules, s.roll, s.cursor, s.epoch, s.fresh = r, signal.NewRollups(r.Signals), store.Cursor{}, -1, true
	s.current.Store(r)
	s.dirty.reset()
	s.dirty.everyone = true
}

// SetRules replaces the rules; the rollups are rebuilt from the stored events
// and everyone is rescored at the next sync.
func (s *Service) SetRules(r *Rules) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.setRules(r)
	s.Notify()
}

// Rules returns the rules in force.
func (s *Service) Rules() *Rules { return s.current.Load() }

// Lag is how long the oldest change identity reported and scoring has not
// yet scored has waited.
func (s *Service) Lag() time.Duration { return s.loop.Lag(time.Now()) }

// Notify wakes Run.
func (s *Service) Notify() { s.loop.Notify() }

// Health reports whether scoring's passes have been failing for longer
// than identity.FailGrace.
func (s *Service) Health() error { return s.loop.Health(time.Now(), identity.FailGrace) }

// settle is the least time between two syncs under load: a subject touched
// by many events in that time is rescored and written once, not once per
// commit, while an event still moves its score well within a second.
const settle = 200 * time.Millisecond

// Run scores as identity commits, and at least once a minute so that windows
// slide at the turn of the day, until ctx ends.
func (s *Service) Run(ctx context.Context) {
	s.loop.Run(ctx, func(ctx context.Context) (int, error) {
		rep, err := s.Sync(ctx)
		return rep.Events, err
	}, func(err error) { s.log.Error("scoring failed; retrying", "err", err) })
}

// Report says what a sync did.
type Report struct {
	Events  int // events taken in
	Scored  int // subjects evaluated
	Written int // scores written or cleared
	Packed  int // events packed into stream blocks for later replays
	// Evaluating and Writing are how long the pass took to score its
	// subjects and to write what changed (waiting for the writer included).
	Evaluating, Writing time.Duration
}

// Sync takes in what identity handed on since the last sync and rescores
// what it and identity's changes touched. Rollups that hold nothing yet (a
// start, new rules, a stretch identity did not hand on) are first rebuilt
// by a replay of the stream up to where identity stands.
func (s *Service) Sync(ctx context.Context) (Report, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	defer func() {
		if v := recover(); v != nil {
			s.setRules(s.rules) // the rollups may hold half a batch: replay them
			panic(v)
		}
	}()
	var rep Report
	upTo, err := s.db.Cursor(ctx, identity.CursorName)
	if err != nil {
		return rep, err
	}
	if err := s.checkEpoch(ctx); err != nil {
		return rep, err
	}
	s.pendingMu.Lock()
	s.dirty.merge(s.pending)
	s.stale.merge(s.pending)
	s.pending.reset()
	s.pendingMu.Unlock()
	began := time.Now()
	if s.fresh {
		if err := s.replayAll(ctx, upTo, &rep); err != nil {
			return rep, err
		}
	}
	read := time.Since(began)
	if whole, err := s.takeHanded(ctx, &rep); err != nil || !whole || s.missed(upTo) {
		s.Notify() // the next sync replays
		return rep, err
	}
	err = s.score(ctx, &rep)
	if rep.Events > 0 || rep.Scored > 0 {
		s.log.Debug("scoring pass", "events", rep.Events, "packed", rep.Packed, "read", read,
			"scored", rep.Scored, "evaluating", rep.Evaluating, "written", rep.Written, "writing", rep.Writing,
			"took", time.Since(began))
	}
	return rep, err
}

// checkEpoch notices identity writes outside the stream (a CRM import may
// have moved anyone) and retries of events the signal stage set aside.
func (s *Service) checkEpoch(ctx context.Context) error {
	epoch, err := s.db.Cursor(ctx, identity.EpochName)
	if err != nil {
		return err
	}
	if epoch.Seq == s.epoch && s.skip != nil {
		return nil
	}
	retried, err := s.loadSkipped(ctx)
	if err != nil {
		return err
	}
	if retried {
		s.setRules(s.rules)
	}
	s.dirty.everyone, s.stale.everyone, s.epoch = true, true, epoch.Seq
	return nil
}

// score slides the windows at the turn of the day and rescores what is
// dirty.
func (s *Service) score(ctx context.Context, rep *Report) error {
	now := s.clock()
	today := signal.Day(now)
	swept := make(chan struct{})
	if today != s.day {
		s.dirty.everyone = true // windows slid
		s.roll.Prune(today)
		// Scoring reads no visitor: forgetting the quiet ones, which
		// copies all the others, runs beside it.
		go func() { defer close(swept); s.roll.DropVisitors(today - VisitorDays) }()
	} else {
		close(swept)
	}
	err := s.flush(ctx, now, rep)
	<-swept
	if err == nil {
		s.day = today
	}
	return err
}

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

// Reads says whose properties the rules read: identity reads them with the
// events it hands on.
func (s *Service) Reads() store.Bodies {
	var b store.Bodies
	b.All, b.Names = s.current.Load().Signals.Bodies()
	return b
}

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

// bodies is whose bodies the rules read.
func (s *Service) bodies() store.Bodies {
	var b store.Bodies
	b.All, b.Names = s.rules.Signals.Bodies()
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

// apply adds a batch, its users known, to the rollups, then merges into
// their users the visitors it tied to one: what a visitor did before
// counts for the user it turned out to be.
func (s *Service) apply(b batch) (err error) {
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
	for i := range b.evs {
		e := &b.evs[i]
		cur = i
		if s.passOver(e) {
			continue
		}
		switch uid := b.users[i]; {
		case uid != "":
			s.moved(uid, e.GroupID, s.roll.AddMatched(uid, b.matches, i))
		case e.AnonymousID != "" && !s.oneShot:
			s.roll.AddVisitorMatched(e.AnonymousID, b.matches, i)
		}
	}
	cur = -1
	for anon, uid := range b.merges {
		if s.roll.Visiting(anon) {
			s.roll.Merge(uid, anon)
			s.dirty.user(uid)
		}
	}
	return nil
}

// moved notes the scores a user's event may have moved: the user's, if
// what moved reaches the signals users are scored on, and its accounts'
// (the event's group among them), if it reaches the accounts' or moves
// the hour the user was last active in, which their activity shows.
func (s *Service) moved(uid, group string, m signal.Moved) {
	if s.dirty.everyone {
		return // no list to keep
	}
	if m.Reaches(s.rules.reads[OfUser]) {
		s.dirty.users[uid] = true
	}
	if m.Reaches(s.rules.reads[OfAccount]) || m.LaterHour() {
		s.dirty.members[uid] = true
		if group != "" {
			s.dirty.accounts[group] = true
		}
	}
}

// Subject names a scored account or user.
func Subject(kind, id string) string { return kind + ":" + id }

// flush rescores what is dirty and writes the scores that changed.
func (s *Service) flush(ctx context.Context, now time.Time, rep *Report) error {
	if err := s.loadFailing(ctx); err != nil {
		return err
	}
	if err := s.freshen(ctx); err != nil {
		return err
	}
	if s.dirty.none() {
		return nil
	}
	began := time.Now()
	results, err := s.evaluate(now)
	if err != nil {
		return err
	}
	batch, err := s.changes(ctx, results, now)
	s.quarantine(&batch, results, now)
	if err != nil {
		// What it noted as about to be written never was: taken at the
		// next commit, it would pass for stored.
		s.written.discard()
		return err
	}
	rep.Evaluating = time.Since(began)
	defer func() { rep.Writing = time.Since(began) - rep.Evaluating }()
	if err := s.db.SaveScores(ctx, batch); err != nil {
		s.written.forget() // what it holds may not be what the store does
		return err
	}
	s.written.commit()
	s.committedQuarantine(batch)
	if len(batch.Alerts) > 0 && s.alerted != nil {
		s.alerted()
	}
	rep.Scored, rep.Written = len(results), len(batch.Scores)+len(batch.Refreshed)+len(batch.Cleared)
	s.dirty.reset()
	return nil
}

// freshen brings the directory up to date with what identity changed, and
// reads the subjects about to be scored that it has never seen.
func (s *Service) freshen(ctx context.Context) error {
	if s.stale.everyone || s.dir == nil {
		d, err := readDirectory(ctx, s.db, s.asOf)
		if err != nil {
			return err
		}
		s.dir = d
		s.stale.reset()
	}
	users, accounts := s.stale.users, s.stale.accounts
	for _, dirty := range []map[string]bool{s.dirty.users, s.dirty.members} {
		for u := range dirty {
			if s.dir.users[u] == nil {
				users[u] = true
			}
		}
	}
	for a := range s.dirty.accounts {
		if s.dir.accounts[a] == nil {
			accounts[a] = true
		}
	}
	if err := s.refresh(ctx, sortedKeys(users), sortedKeys(accounts)); err != nil {
		return err
	}
	s.stale.reset()
	return nil
}

// scored is one subject's results on the cards of its kind.
type scored struct {
	subject string
	results []Result
	enc     []encoded // per result, its reasons and signals as stored
	same    []bool    // per result, whether the store holds it already
	active  int32     // the latest day any of its users was active; 0 if none
	// An account's activity, kept with each of its scores (see Activity).
	activity    []byte
	momentum    float64
	activeUsers int
	lastActive  time.Time
	// failed is why the rules could not score the subject; nil if they did.
	failed error
}

// subjects lists what to rescore: the dirty users and accounts and the
// accounts of those users, or everyone.
func (s *Service) subjects() (users, accounts []string) {
	if s.dirty.everyone {
		return sortedKeys(s.dir.users), sortedKeys(s.dir.accounts)
	}
	acc := map[string]bool{}
	for a := range s.dirty.accounts {
		acc[a] = true
	}
	for u := range s.dirty.members {
		if p := s.dir.users[u]; p != nil {
			for _, m := range p.links {
				acc[m.AccountID] = true
			}
		}
	}
	return sortedKeys(s.dirty.users), sortedKeys(acc)
}

// evaluate scores the subjects to rescore. Each is scored apart from the
// others over rollups, a directory and written scores nothing changes
// meanwhile, so they are shared out over the cores: under load a pass is
// mostly this.
func (s *Service) evaluate(now time.Time) ([]scored, error) {
	users, accounts := s.subjects()
	today := signal.Day(now)
	out := make([]scored, len(accounts)+len(users))
	err := eachParallel(len(out), func(i int) error {
		if i < len(accounts) {
			out[i] = guarded(Subject(OfAccount, accounts[i]), func() (scored, error) { return s.scoreAccount(accounts[i], today) })
		} else {
			u := users[i-len(accounts)]
			out[i] = guarded(Subject(OfUser, u), func() (scored, error) { return s.scoreUser(u, today) })
		}
		enc, _ := s.encoders.Get().(*encoder)
		if enc == nil {
			enc = &encoder{}
		}
		out[i].enc = enc.encode(out[i].results, out[i].digested()...)
		out[i].withActivity()
		s.settle(&out[i], now)
		s.encoders.Put(enc)
		return nil
	})
	return out, err
}

// digested is what of an account's activity its digests stand for: its
// activity, and the hour it was last active in. Kept to the hour, a score
// is written again for its last activity at most once an hour however busy
// the account, and a replay gives what was held live.
func (sc *scored) digested() [][]byte {
	if sc.activity == nil {
		return nil
	}
	return [][]byte{sc.activity, binary.LittleEndian.AppendUint64(nil, uint64(sc.lastActive.UnixMilli()))}
}

// withActivity gives each of an account's encoded results its activity,
// which their digests already stand for.
func (sc *scored) withActivity() {
	if sc.activity == nil {
		return
	}
	for j := range sc.enc {
		e := &sc.enc[j]
		e.activity, e.momentum, e.activeUsers, e.lastActive = sc.activity, sc.momentum, sc.activeUsers, sc.lastActive
	}
}

// settle marks the results a pass will not write, those the store already
// holds, and lets go of their reasons and signals: in a replay, that is
// nearly every result, and holding them all until the pass ends was most of
// its memory.
func (s *Service) settle(sc *scored, now time.Time) {
	sc.same = make([]bool, len(sc.results))
	for j, res := range sc.results {
		prev, known := s.written.peek(res.Card, sc.subject)
		if known && unchanged(res, s.draft(res, sc.enc[j], prev, now), prev) {
			sc.same[j] = true
			sc.results[j], sc.enc[j] = Result{Card: res.Card, Score: res.Score, Tier: res.Tier}, encoded{}
		} else {
			// To be written, in short: only an alert needs its maps
			// (alert fills them), and few results make one.
			sc.enc[j] = sc.enc[j].own()
		}
	}
}

func (s *Service) scoreAccount(id string, today int32) (scored, error) {
	c := s.dir.accounts[id]
	if c == nil || len(c.members) == 0 {
		// Only accounts with users are scored: a CRM record alone is not a
		// lead.
		return scored{subject: Subject(OfAccount, id), results: s.nothing(OfAccount)}, nil
	}
	actors := make([]*signal.Actor, len(c.members))
	business := false
	var active int32
	for i, u := range c.members {
		actors[i] = s.roll.Actor(u)
		business = business || (s.dir.users[u] != nil && s.dir.users[u].business)
		if d, ok := actors[i].LastDay(); ok {
			active = max(active, d)
		}
	}
	res, err := s.rules.evaluate(OfAccount, actors, today, Facts{Account: c.info, BusinessEmail: business, Members: len(c.members)})
	if err != nil {
		return scored{}, fmt.Errorf("account %s: %w", id, err)
	}
	sc := scored{subject: Subject(OfAccount, id), results: res, active: active}
	sc.momentum, sc.activeUsers, sc.lastActive, sc.activity = activityOf(c.members, actors, today)
	sc.lastActive = sc.lastActive.Truncate(time.Hour)
	return sc, nil
}

func (s *Service) scoreUser(id string, today int32) (scored, error) {
	f := Facts{Members: 1}
	if p := s.dir.users[id]; p != nil {
		f.BusinessEmail = p.business
	}
	if c := s.dir.accounts[s.dir.primary(id)]; c != nil {
		f.Account = c.info
	}
	res, err := s.rules.evaluate(OfUser, []*signal.Actor{s.roll.Actor(id)}, today, f)
	if err != nil {
		return scored{}, fmt.Errorf("user %s: %w", id, err)
	}
	return scored{subject: Subject(OfUser, id), results: res}, nil
}

// eachParallel calls fn for 0 ≤ i < n from one goroutine per core, a run
// of indexes at a time, and returns what failed; after a failure, the rest
// is left undone.
func eachParallel(n int, fn func(i int) error) error {
	const run = 64
	workers := min(runtime.GOMAXPROCS(0), (n+run-1)/run)
	if workers <= 1 {
		for i := range n {
			if err := fn(i); err != nil {
				return err
			}
		}
		return nil
	}
	var next atomic.Int64
	var failed atomic.Bool
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !failed.Load() {
				from := int(next.Add(run)) - run
				if from >= n {
					return
				}
				for i := from; i < min(from+run, n); i++ {
					if err := fn(i); err != nil {
						errs[w] = err
						failed.Store(true)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// changes compares results with what the store holds and returns the
// writes: scores that differ, and a history row for each change of score or
// tier.
func (s *Service) changes(ctx context.Context, all []scored, now time.Time) (store.ScoreBatch, error) {
	var b store.ScoreBatch
	var drafts []draft
	for _, card := range s.rules.Cards {
		// Only what may change: in a replay, nearly nothing.
		type change struct {
			sc *scored
			j  int
		}
		var subjects []string
		var changes []change
		for i := range all {
			for j, res := range all[i].results {
				if res.Card == card.Name && !all[i].same[j] {
					subjects = append(subjects, all[i].subject)
					changes = append(changes, change{&all[i], j})
				}
			}
		}
		old, err := s.written.of(ctx, s.db, card.Name, subjects)
		if err != nil {
			return b, err
		}
		for _, c := range changes {
			sc, res := c.sc, c.sc.results[c.j]
			if prev, moved := s.change(&b, card, sc.subject, res, sc.enc[c.j], old[sc.subject], now); moved {
				s.alert(&b, &drafts, card, *sc, res, prev, now)
			}
		}
	}
	return b, s.people(ctx, &b, drafts)
}

// nothing is the result of a subject that is not scored.
func (s *Service) nothing(kind string) []Result {
	var out []Result
	for _, c := range s.rules.Cards {
		if c.Of == kind {
			out = append(out, Result{Card: c.Name})
		}
	}
	return out
}

// change adds what differs from the stored score to b. moved says the tier
// changed; prev is the tier before.
func (s *Service) change(b *store.ScoreBatch, card *Card, subject string, res Result, enc encoded, prev held, now time.Time) (prevTier string, moved bool) {
	h := s.draft(res, enc, prev, now)
	if unchanged(res, h, prev) {
		return "", false
	}
	reasons, signals := enc.reasons, enc.signals
	next := store.Score{Scorecard: card.Name, Subject: subject, Score: res.Score, Tier: res.Tier, Reasons: reasons,
		Signals: signals, RulesVersion: s.rules.Version, UpdatedAt: now, TierSince: h.since, Digest: enc.digest,
		Momentum: enc.momentum, ActiveUsers: enc.activeUsers, LastActive: enc.lastActive, Activity: enc.activity}
	kept := prev.present && prev.score == next.Score && prev.tier == next.Tier
	switch {
	case res.Score == 0 && res.Tier == "":
		b.Cleared = append(b.Cleared, next)
		h.present = false
	case kept:
		b.Refreshed = append(b.Refreshed, next)
	default:
		b.Scores = append(b.Scores, next)
	}
	s.written.pending(card.Name, subject, h)
	if card.higher(next.Tier, prev.tier) {
		b.Risen = append(b.Risen, next) // a snooze or disqualification ends
	}
	if !kept {
		b.History = append(b.History, store.ScoreEvent{Scorecard: card.Name, Subject: subject, At: now, Score: next.Score,
			Tier: next.Tier, PreviousTier: prev.tier, RulesVersion: next.RulesVersion, Reasons: reasons})
	}
	return prev.tier, prev.tier != next.Tier
}

func nonNil(r []Reason) []Reason {
	if r == nil {
		return []Reason{}
	}
	return r
}

package score

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
	if err := s.takeIn(ctx, upTo, &rep); err != nil {
		return rep, err
	}
	read := time.Since(began)
	err = s.score(ctx, &rep)
	if rep.Events > 0 || rep.Scored > 0 {
		s.log.Debug("scoring pass", "events", rep.Events, "packed", rep.Packed, "read", read,
			"scored", rep.Scored, "evaluating", rep.Evaluating, "written", rep.Written, "writing", rep.Writing,
			"took", time.Since(began))
	}
	return rep, err
}

// takeIn brings the rollups up to where identity stands: a replay up to
// upTo if they hold nothing, then what identity handed on. A stretch
// missing from what was handed on (set aside, read for older rules,
// resolved elsewhere) empties them, and they are replayed at once, up to
// where identity stands then; if even that leaves a stretch missing, the
// next sync goes on.
func (s *Service) takeIn(ctx context.Context, upTo store.Cursor, rep *Report) error {
	for tries := 0; ; tries++ {
		if s.fresh {
			if err := s.replayAll(ctx, upTo, rep); err != nil {
				return err
			}
		}
		whole, err := s.takeHanded(ctx, rep)
		if err != nil {
			return err
		}
		if whole && !s.missed(upTo) {
			return nil
		}
		if tries == 1 {
			s.Notify()
			return errors.New("scoring: identity's stretches still do not follow after a replay; trying again")
		}
		if upTo, err = s.db.Cursor(ctx, identity.CursorName); err != nil {
			return err
		}
	}
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

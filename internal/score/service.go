package score

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/beaconplg/beacon/internal/identity"
	"github.com/beaconplg/beacon/internal/projection"
	"github.com/beaconplg/beacon/internal/signal"
	"github.com/beaconplg/beacon/internal/store"
)

// Store is what scoring reads and writes, and what its signal stage does.
type Store interface {
	signal.Store
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
}

// Service keeps every score current. Its signal stage takes in what
// identity resolves, commit by commit, and marks who moved; each pass
// rescores what is marked, and the subjects a change of identity or the
// turn of a day touched. A restart replays the stream into fresh rollups;
// only scores that changed are written.
type Service struct {
	db    Store
	log   *slog.Logger
	clock func() time.Time

	mu    sync.Mutex // held by a sync: one at a time
	rules *Rules
	// current is rules for readers outside a sync (the API), who must not
	// wait for one to end.
	current atomic.Pointer[Rules]
	signals *signal.Stage
	epoch   int64
	day     int32 // the day the last flush scored for
	stale   dirty // what the directory must read again
	dirty   dirty // what must be rescored
	dir     *directory

	loop *projection.Loop
	// alerted hears that a pass wrote alerts with deliveries; replayed,
	// that a pass rebuilt the rollups.
	alerted, replayed func()
	// written is what the store holds of each score.
	written *written
	// asOf, if not zero, is the instant scored as of (see AsOf).
	asOf time.Time
	// encoders are the spent encoders of scoring workers.
	encoders sync.Pool
	// failing are the subjects quarantined and not scored since;
	// quarantined counts those this process set aside.
	failing     map[string]bool
	quarantined atomic.Uint64
}

// OnAlerts sets what to call once a pass has written alerts to deliver (the
// dispatcher's Notify). Call it before Run.
func (s *Service) OnAlerts(fn func()) { s.alerted = fn }

// OnReplayed sets what Run calls after a pass that rebuilt the rollups
// from the log: the heaviest work a process does, whose garbage it may
// want to give back. Call it before Run.
func (s *Service) OnReplayed(fn func()) { s.replayed = fn }

// OneShot readies s for one replay of the stream with nothing after it, as
// `beacon score --all` runs. It then keeps no visitor: no score reads one,
// and a visitor's events would count only once a later alias made it a
// user, which a replay that reads every alias first has already seen.
// Call it before the first Sync.
func (s *Service) OneShot() { s.signals.OneShot() }

// AsOf readies s to score as things stood at t: events whose timestamp is
// after t are left out of the rollups, and links to accounts made after t
// out of the accounts' members, so that a store that also holds later
// events gives the scores of then, as `beacon score --all --at` and
// backtests need. Traits (an account's size, a user's email) are as the
// store holds them now. Call it before the first Sync; the clock should
// say t.
func (s *Service) AsOf(t time.Time) { s.asOf = t; s.signals.AsOf(t) }

// Signals is the stage that keeps the rollups: identity hands it what it
// resolves.
func (s *Service) Signals() *signal.Stage { return s.signals }

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

// marks is how the signal stage tells scoring who moved.
type marks struct{ s *Service }

func (m marks) Everyone() { m.s.dirty.everyone = true }

func (m marks) Changed(users, accounts []string) {
	for _, d := range []*dirty{&m.s.dirty, &m.s.stale} {
		for _, u := range users {
			d.user(u)
		}
		for _, a := range accounts {
			d.accounts[a] = true
		}
	}
}

func (m marks) Merged(user string) { m.s.dirty.user(user) }

// Moved notes the scores a user's event may have moved: the user's, if
// what moved reaches the signals users are scored on, and its accounts'
// (the event's group among them), if it reaches the accounts' or moves
// the hour the user was last active in, which their activity shows.
func (m marks) Moved(uid, group string, mv signal.Moved) {
	d, reads := &m.s.dirty, m.s.rules.reads
	if d.everyone {
		return // no list to keep
	}
	if mv.Reaches(reads[OfUser]) {
		d.users[uid] = true
	}
	if mv.Reaches(reads[OfAccount]) || mv.LaterHour() {
		d.members[uid] = true
		if group != "" {
			d.accounts[group] = true
		}
	}
}

func (d *dirty) none() bool {
	return !d.everyone && len(d.users) == 0 && len(d.accounts) == 0 && len(d.members) == 0
}

// New returns a service scoring with rules; clock is the time windows end at.
func New(db Store, rules *Rules, log *slog.Logger, clock func() time.Time) *Service {
	s := &Service{db: db, log: log, clock: clock, loop: projection.New(time.Minute, settle), written: newWritten()}
	s.signals = signal.NewStage(db, rules.Signals, log, clock, s.Notify)
	s.dirty.reset()
	s.stale.reset()
	s.stale.everyone = true
	s.setRules(rules)
	return s
}

func (s *Service) setRules(r *Rules) {
	s.rules, s.epoch = r, -1
	s.current.Store(r)
	s.signals.Reset(r.Signals)
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
		if err == nil && rep.Replayed && s.replayed != nil {
			s.replayed()
		}
		return rep.Events, err
	}, func(err error) { s.log.Error("scoring failed; retrying", "err", err) })
}

// Report says what a sync did.
type Report struct {
	Events  int // events taken in
	Scored  int // subjects evaluated
	Written int // scores written or cleared
	Packed  int // events packed into stream blocks for later replays
	// Replayed: the rollups were rebuilt from the log.
	Replayed bool
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
	if err := s.checkEpoch(ctx); err != nil {
		return rep, err
	}
	began := time.Now()
	ahead := s.readAhead(ctx)
	taken, err := s.signals.TakeIn(ctx, marks{s})
	rep.Events, rep.Packed, rep.Replayed = taken.Events, taken.Packed, taken.Replayed
	if aerr := s.takeAhead(ahead); err == nil {
		err = aerr
	}
	if err != nil {
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

// checkEpoch notices identity writes outside the stream (a CRM import may
// have moved anyone) and retries of events the signal stage set aside.
func (s *Service) checkEpoch(ctx context.Context) error {
	epoch, err := s.db.Cursor(ctx, identity.EpochName)
	if err != nil {
		return err
	}
	moved := epoch.Seq != s.epoch
	if err := s.signals.ReadSkipped(ctx, moved); err != nil {
		return err
	}
	if moved {
		s.dirty.everyone, s.stale.everyone, s.epoch = true, true, epoch.Seq
	}
	return nil
}

// score slides the windows at the turn of the day and rescores what is
// dirty.
func (s *Service) score(ctx context.Context, rep *Report) error {
	now := s.clock()
	today := signal.Day(now)
	var swept <-chan struct{}
	if today != s.day {
		s.dirty.everyone = true // windows slid
		// Scoring reads no visitor: forgetting the quiet ones, which
		// copies all the others, runs beside it.
		swept = s.signals.Turn(today)
	}
	err := s.flush(ctx, now, rep)
	if swept != nil {
		<-swept
	}
	if err == nil {
		s.day = today
	}
	return err
}

// Subject names a scored account or user.
func Subject(kind, id string) string { return kind + ":" + id }

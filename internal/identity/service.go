package identity

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/beaconplg/beacon/internal/event"
	"github.com/beaconplg/beacon/internal/projection"
	"github.com/beaconplg/beacon/internal/store"
)

// Store is what identity needs from storage. Its reads outside Project go
// to the read side: a pass reads its events and what they need before it
// takes the writer, and holds the writer only to write.
type Store interface {
	IdentityEventsAfter(ctx context.Context, c store.Cursor, limit int, bodies store.Bodies) ([]event.Event, store.Cursor, error)
	Project(ctx context.Context, fn func(store.IdentityTx) error) error
	CRMAccounts(ctx context.Context) ([]store.Account, error)
	Cursor(ctx context.Context, name string) (store.Cursor, error)
	batchReader
	quarantineStore
}

// batchReader reads many users, aliases and links at once.
type batchReader interface {
	UsersIn(ctx context.Context, ids []string) ([]store.User, error)
	AliasesIn(ctx context.Context, anonymousIDs []string) (map[string]string, error)
	MembershipsIn(ctx context.Context, userIDs []string) ([]store.Membership, error)
	FirstEventTimes(ctx context.Context, keys []string) (map[string]time.Time, error)
}

// errMoved: the stream's position or the identity epoch moved between a
// pass's reads and its write (another node, a CRM import); the pass is
// dropped and the next one reads again.
var errMoved = errors.New("identity moved on while the pass read; reading again")

// Confidence of each kind of link.
const (
	confidenceGroup      = 1.0
	confidenceDomain     = 0.9 // a business address at a domain an account owns
	confidenceNewDomain  = 0.8 // the first user seen at a business domain
	confidenceIndividual = 1.0
)

const (
	// CursorName is the projection's position in the event stream: what is
	// behind it has been resolved.
	CursorName = "identity"
	// EpochName counts identity writes made outside the projection (CRM
	// imports), so whoever caches what identity wrote knows when it no
	// longer holds.
	EpochName = "identity-epoch"
	// batchSize is the most events a pass takes. Passes take what came
	// since the last, so only a pass behind takes this many: one
	// transaction for them writes each page of users and timelines once
	// and commits once, where four passes of 5,000 each did (docs/benchmarks.md).
	batchSize = 20000
	// settle is the least time between two passes under load.
	settle = 100 * time.Millisecond
	// LinksName records the version of the rules that linked workspaces to
	// the CRM; a store linked by older ones is relinked once (relinkIfOld).
	LinksName = "identity-links"
	// linkRules is that version: 2 since a linked workspace inherits its
	// record's owner and a name match yields to disjoint domains.
	linkRules = 2
	// crmRefresh bounds how stale another node's CRM import can look here.
	crmRefresh = 30 * time.Second
)

// Service projects the event stream into users, accounts and memberships.
// Its position in the stream commits with what it wrote, so a crash replays
// nothing twice and skips nothing.
type Service struct {
	db  Store
	log *slog.Logger

	mu    sync.Mutex // one projection at a time in this process
	crm   *crmIndex
	crmAt time.Time
	cache *cache
	loop  *projection.Loop
	// linksChecked: the store's links are known to follow linkRules.
	linksChecked bool
	// next takes, after each commit, what the commit resolved.
	next Next
	// quarantined counts the events this process set aside.
	quarantined atomic.Uint64
	// batch is the most events a pass takes (batchSize, bulkBatch after
	// Bulk, other sizes in tests).
	batch int
}

// bulkBatch is the most events a pass takes in a bulk load: each pass
// writes every user it met once, so fewer, larger passes write less (an
// import of 2.2 million events: 13 % faster than at batchSize).
const bulkBatch = 100_000

// Bulk readies s to take a long stretch with nothing waiting on it, as
// `beacon import` does: larger passes, each holding more events in memory
// and keeping the writer longer.
func (s *Service) Bulk() *Service {
	s.batch = bulkBatch
	return s
}

// New returns a Service over db that hands what each commit resolved to
// next, if not nil.
func New(db Store, log *slog.Logger, next Next) *Service {
	if next == nil {
		next = nowhere{}
	}
	// Under load, a pass every settle takes many events in one write
	// transaction, sharing the writer with ingest, with warm caches.
	return &Service{db: db, log: log, cache: newCache(), loop: projection.New(time.Second, settle), next: next, batch: batchSize}
}

// FailGrace is how long a projection's passes may fail, without one
// succeeding, before it reports itself failing (Health): long enough for a
// store to restart.
const FailGrace = 30 * time.Second

// Health reports whether the projection's passes have been failing for
// longer than FailGrace.
func (s *Service) Health() error { return s.loop.Health(time.Now(), FailGrace) }

// Lag is how long the oldest commit notified and not yet projected has
// waited.
func (s *Service) Lag() time.Duration { return s.loop.Lag(time.Now()) }

// Notify tells the service that new events were committed.
func (s *Service) Notify() { s.loop.Notify() }

// Run projects new events as they are notified (and at least every second,
// since PostgreSQL may hold events back until older transactions end) until
// ctx ends.
// Each pass takes one batch: a pass that ran until the stream was drained
// never ended under sustained load, and its lag (beacon_stage_lag_seconds,
// /readyz) grew from the first event on. A full batch asks for the next
// pass at once, so that a backlog is taken without waiting for a tick.
func (s *Service) Run(ctx context.Context) {
	s.loop.Run(ctx, func(ctx context.Context) (int, error) {
		n, err := s.step(ctx)
		if n >= s.batch {
			s.loop.Notify()
		}
		return n, err
	}, func(err error) { s.log.Error("identity projection failed; retrying", "err", err) })
}

// Sync projects every event committed so far and returns how many it took.
func (s *Service) Sync(ctx context.Context) (int, error) {
	total := 0
	for {
		n, err := s.step(ctx)
		total += n
		if err != nil || n == 0 {
			return total, err
		}
	}
}

// SyncAtLeast projects until it has taken at least n events. On
// PostgreSQL the stream holds events back while an older transaction
// anywhere on the server is open, so a Sync may take none of them: it
// waits for that transaction to end, or for ctx.
func (s *Service) SyncAtLeast(ctx context.Context, n int) error {
	for taken := 0; ; {
		got, err := s.Sync(ctx)
		if taken += got; err != nil || taken >= n {
			return err
		}
		if got == 0 {
			select {
			case <-ctx.Done():
				return fmt.Errorf("identity took %d of %d events: %w", taken, n, ctx.Err())
			case <-time.After(heldBackPoll):
			}
		}
	}
}

// heldBackPoll is how often SyncAtLeast looks again for events held back.
const heldBackPoll = 20 * time.Millisecond

func (s *Service) step(ctx context.Context) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	defer func() {
		if v := recover(); v != nil {
			s.cache.valid = false // it may hold what was never written
			panic(v)
		}
	}()
	if !s.next.Room() {
		return 0, nil // the next stage takes what it has first; a later notice or tick resumes
	}
	if err := s.relinkIfOld(ctx); err != nil {
		return 0, err
	}
	crm, err := s.crmIndex(ctx)
	if err != nil {
		return 0, err
	}
	c, err := s.db.Cursor(ctx, CursorName)
	if err != nil {
		return 0, err
	}
	epoch, err := s.db.Cursor(ctx, EpochName)
	if err != nil {
		return 0, err
	}
	bodies := s.next.Reads()
	evs, next, err := s.db.IdentityEventsAfter(ctx, c, s.batch, bodies)
	if err != nil || len(evs) == 0 {
		return 0, err
	}
	r := run{crm: crm, epoch: epoch.Seq, bodies: bodies}
	err = s.commit(ctx, r, c, evs, next)
	switch {
	case err == nil:
		return len(evs), nil
	case errors.Is(err, errMoved):
		return 0, nil
	case ctx.Err() != nil:
		return 0, err
	}
	return s.isolate(ctx, r, c, evs, next, err)
}

// run is what the commits of one step share.
type run struct {
	crm    *crmIndex
	epoch  int64
	bodies store.Bodies // what the events hold for the next stage
}

// commit projects evs, which follow from, moves the cursor to to, in one
// transaction, and hands what it resolved to the next stage.
func (s *Service) commit(ctx context.Context, r run, from store.Cursor, evs []event.Event, to store.Cursor) error {
	res, err := s.project(ctx, r, from, evs, to, nil)
	if err == nil {
		s.next.Resolved(res)
	}
	return err
}

// project projects evs, which follow from, and moves the cursor to to, in
// one transaction; with quarantine, it projects nothing and sets that event
// aside instead. A panic while applying is an error like any other.
func (s *Service) project(ctx context.Context, r run, from store.Cursor, evs []event.Event, to store.Cursor, quarantine *store.Quarantined) (Resolved, error) {
	if !s.cache.usable(from, r.epoch) {
		s.cache.reset(r.epoch)
	}
	began := time.Now()
	p := newPass(ctx, nil, r.crm, s.cache)
	if err := p.prefetch(s.db, evs); err != nil {
		s.cache.valid = false
		return Resolved{}, err
	}
	read := time.Since(began)
	err := s.db.Project(ctx, func(tx store.IdentityTx) (err error) {
		defer projection.Catch(&err)
		// Taken again under the writer's lock: what was read still holds
		// only if nobody moved them meanwhile.
		now, err := tx.Cursor(ctx, CursorName)
		if err != nil {
			return err
		}
		nowEpoch, err := tx.Cursor(ctx, EpochName)
		if err != nil {
			return err
		}
		if now != from || nowEpoch.Seq != r.epoch {
			return errMoved
		}
		p.tx = tx
		if err := p.applyAll(evs); err != nil {
			return err
		}
		if quarantine != nil {
			if err := tx.Quarantine(ctx, *quarantine); err != nil {
				return err
			}
		}
		return tx.SetCursor(ctx, CursorName, to)
	})
	if err != nil {
		s.cache.valid = false // it may hold what was rolled back
		return Resolved{}, err
	}
	s.cache.committed(to)
	s.log.Debug("identity pass", "events", len(evs), "read", read, "writing", time.Since(began)-read)
	return p.resolved(from, to, evs, r.bodies), nil
}

// isolate projects evs, which failed together with cause, in halves, until
// what fails is one event: that one is quarantined and the rest projected.
// If even setting it aside fails, the store is what fails (it is down, or
// full), not the event, and the error ends the step for a later retry.
func (s *Service) isolate(ctx context.Context, r run, from store.Cursor, evs []event.Event, to store.Cursor, cause error) (int, error) {
	if len(evs) == 1 {
		e := evs[0]
		q := store.Quarantined{Stage: store.StageIdentity, Seq: e.Seq, Tx: e.Tx, MessageID: Storable(e.MessageID),
			UserID: Storable(e.UserID), AccountID: Storable(e.GroupID), Error: Storable(cause.Error()), LastAt: time.Now()}
		if err := s.setAside(ctx, r, from, e, to, q); err != nil {
			return 0, err
		}
		s.quarantined.Add(1)
		s.log.Warn("identity quarantined an event it could not project; `beacon quarantine list` shows it",
			"seq", e.Seq, "err", cause)
		return 1, nil
	}
	mid := len(evs) / 2
	parts := []struct {
		evs []event.Event
		to  store.Cursor
	}{{evs[:mid], store.Cursor{Tx: evs[mid-1].Tx, Seq: evs[mid-1].Seq}}, {evs[mid:], to}}
	done := 0
	for _, part := range parts {
		err := s.commit(ctx, r, from, part.evs, part.to)
		n := len(part.evs)
		if err != nil && !errors.Is(err, errMoved) && ctx.Err() == nil {
			n, err = s.isolate(ctx, r, from, part.evs, part.to, err)
		}
		done += n
		if errors.Is(err, errMoved) {
			return done, nil
		}
		if err != nil {
			return done, err
		}
		from = part.to
	}
	return done, nil
}

// setAside commits the quarantine of e, which follows from, and hands it
// on with its user as the stream's aliases give it: identity could not
// project it, but it still happened.
func (s *Service) setAside(ctx context.Context, r run, from store.Cursor, e event.Event, to store.Cursor, q store.Quarantined) error {
	uid := e.UserID
	if uid == "" && e.AnonymousID != "" {
		known, err := s.db.AliasesIn(ctx, []string{e.AnonymousID})
		if err != nil {
			return err
		}
		uid = known[e.AnonymousID]
	}
	res, err := s.project(ctx, r, from, nil, to, &q)
	if err == nil {
		res.Events, res.Users = []event.Event{e}, []string{uid}
		s.next.Resolved(res)
	}
	return err
}

func (s *Service) crmIndex(ctx context.Context) (*crmIndex, error) {
	if s.crm != nil && time.Since(s.crmAt) < crmRefresh {
		return s.crm, nil
	}
	accounts, err := s.db.CRMAccounts(ctx)
	if err != nil {
		return nil, err
	}
	entries := make([]crmEntry, len(accounts))
	for i, a := range accounts {
		entries[i] = crmEntry{id: a.ID, name: a.Name}
	}
	s.crm, s.crmAt = newCRMIndex(entries), time.Now()
	return s.crm, nil
}

// CRMAccount is one row of a CRM export.
type CRMAccount struct {
	ID              string
	Name            string
	Domains         []string
	Owner           string
	Employees       int
	Industry        string
	OpenOpportunity bool
	Named           bool
}

// CRMAccountID is the Beacon account id of a CRM record.
func CRMAccountID(crmID string) string { return crmPrefix + crmID }

const crmPrefix = "crm:"

// RecordID is the CRM's own id of a CRM account, or of the record a
// workspace is linked to: what a CRM destination finds the record by. ""
// when there is none.
func RecordID(a store.Account) string {
	if a.Kind == store.KindCRM {
		return a.CRMID
	}
	id, ok := strings.CutPrefix(a.CRMID, crmPrefix)
	if !ok {
		return ""
	}
	return id
}

// ImportCRM creates or updates CRM accounts, gives them their domains, links
// product workspaces to them and re-resolves the users they may now claim.
func (s *Service) ImportCRM(ctx context.Context, rows []CRMAccount) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.relink(ctx, rows)
}

// relink writes rows (if any), then links every workspace to the CRM again
// and re-resolves every user without an explicit group, in one
// transaction that bumps the epoch, so that every cache and every score
// downstream reads identity again.
func (s *Service) relink(ctx context.Context, rows []CRMAccount) error {
	err := s.db.Project(ctx, func(tx store.IdentityTx) error {
		existing, err := tx.AccountsOfKind(ctx, store.KindCRM)
		if err != nil {
			return err
		}
		entries := make([]crmEntry, 0, len(existing)+len(rows))
		for _, a := range existing {
			entries = append(entries, crmEntry{id: a.ID, name: a.Name})
		}
		epoch, err := tx.Cursor(ctx, EpochName)
		if err != nil {
			return err
		}
		if err := tx.SetCursor(ctx, EpochName, store.Cursor{Seq: epoch.Seq + 1}); err != nil {
			return err
		}
		p := newPass(ctx, tx, nil, newCache())
		for _, r := range rows {
			if err := p.putCRM(r); err != nil {
				return fmt.Errorf("crm account %s: %w", r.ID, err)
			}
			entries = append(entries, crmEntry{id: CRMAccountID(r.ID), name: r.Name})
		}
		p.crm = newCRMIndex(entries)
		if err := p.relinkAll(); err != nil {
			return err
		}
		return tx.SetCursor(ctx, LinksName, store.Cursor{Seq: linkRules})
	})
	s.cache.valid = false
	if err != nil {
		return err
	}
	s.crm, s.crmAt = nil, time.Time{} // reload on the next pass
	return nil
}

// relinkIfOld relinks a store whose links were made by older rules, once:
// links a name alone made against the evidence of domains go, and linked
// workspaces take their CRM record's owner, opportunity and named flag.
func (s *Service) relinkIfOld(ctx context.Context) error {
	if s.linksChecked {
		return nil
	}
	v, err := s.db.Cursor(ctx, LinksName)
	if err != nil {
		return err
	}
	if v.Seq < linkRules {
		if err := s.relink(ctx, nil); err != nil {
			return fmt.Errorf("relinking workspaces to the CRM: %w", err)
		}
	}
	s.linksChecked = true
	return nil
}

// Quarantined counts the events this process has set aside since it
// started, for the beacon_quarantined_total metric.
func (s *Service) Quarantined() uint64 { return s.quarantined.Load() }

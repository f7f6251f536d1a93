// A scoring pass: rescoring the subjects marked dirty and writing, in one
// transaction, the scores that changed with their history and alerts.

package score

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/beaconplg/beacon/internal/signal"
	"github.com/beaconplg/beacon/internal/store"
)

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
		actors[i] = s.signals.Actor(u)
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
	res, err := s.rules.evaluate(OfUser, []*signal.Actor{s.signals.Actor(id)}, today, f)
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

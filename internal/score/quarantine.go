package score

import (
	"context"
	"fmt"

	"github.com/beaconplg/beacon/internal/event"
	"strings"
	"time"

	"github.com/beaconplg/beacon/internal/identity"
	"github.com/beaconplg/beacon/internal/projection"
	"github.com/beaconplg/beacon/internal/store"
)

// A subject the rules cannot score (a rule that fails at run time on its
// values: a trait of an unexpected type, say) does not stop scoring: it is
// quarantined, keeps the scores it had, and the rest are scored. It is
// scored again whenever it is dirty, and its quarantine resolves itself the
// first time it scores; `beacon quarantine retry` rescores everyone.

// guarded scores one subject; if that fails, or panics, the result says
// why in failed, and holds nothing else.
func guarded(subject string, score func() (scored, error)) scored {
	sc, err := func() (sc scored, err error) {
		defer projection.Catch(&err)
		return score()
	}()
	if err != nil {
		return scored{subject: subject, failed: err}
	}
	return sc
}

// quarantine adds to b the subjects of this pass that failed, and the
// resolution of those that failed before and scored now.
func (s *Service) quarantine(b *store.ScoreBatch, all []scored, now time.Time) {
	for _, sc := range all {
		q := quarantined(sc.subject, now)
		switch {
		case sc.failed != nil:
			q.Error = identity.Storable(sc.failed.Error())
			b.Quarantined = append(b.Quarantined, q)
		case s.failing[sc.subject]:
			b.Recovered = append(b.Recovered, q)
		}
	}
}

// quarantined is a scoring quarantine row for subject.
func quarantined(subject string, at time.Time) store.Quarantined {
	q := store.Quarantined{Stage: store.StageScoring, LastAt: at}
	kind, id, _ := strings.Cut(subject, ":")
	if kind == OfAccount {
		q.AccountID = id
	} else {
		q.UserID = id
	}
	return q
}

// committed notes what a written batch quarantined and resolved.
func (s *Service) committedQuarantine(b store.ScoreBatch) {
	for _, q := range b.Quarantined {
		subject := subjectOf(q)
		if !s.failing[subject] {
			s.failing[subject] = true
			s.quarantined.Add(1)
			s.log.Warn("scoring quarantined a subject its rules could not score; `beacon quarantine list` shows it",
				"subject", subject, "err", q.Error)
		}
	}
	for _, q := range b.Recovered {
		delete(s.failing, subjectOf(q))
	}
}

func subjectOf(q store.Quarantined) string {
	if q.AccountID != "" {
		return Subject(OfAccount, q.AccountID)
	}
	return Subject(OfUser, q.UserID)
}

// loadFailing reads, once, the subjects quarantined before this process
// started, so that they resolve when they score.
func (s *Service) loadFailing(ctx context.Context) error {
	if s.failing != nil {
		return nil
	}
	open, err := s.db.QuarantinedList(ctx, store.QuarantineQuery{Open: true, Stage: store.StageScoring, Limit: 1 << 30})
	if err != nil {
		return err
	}
	s.failing = map[string]bool{}
	for _, q := range open {
		s.failing[subjectOf(q)] = true
	}
	return nil
}

// Quarantined counts the subjects this process has set aside since it
// started, for the beacon_quarantined_total metric.
func (s *Service) Quarantined() uint64 { return s.quarantined.Load() }

// poisoned is an event the rollups could not take (a bug it triggers).
type poisoned struct {
	event event.Event
	cause error
}

func (p *poisoned) Error() string {
	return fmt.Sprintf("event %s (seq %d): %v", p.event.MessageID, p.event.Seq, p.cause)
}

// passOver reports whether the rollups leave e out: an event set aside, or
// one after the instant scored as of. It lets the tests' trap see e first.
func (s *Service) passOver(e *event.Event) bool {
	if (len(s.skip) > 0 && s.skip[e.Seq]) || s.later(e) {
		return true
	}
	if s.trap != nil {
		s.trap(e)
	}
	return false
}

// setAside quarantines an event the signal stage could not take, and passes
// over it from now on.
func (s *Service) setAside(ctx context.Context, p *poisoned) error {
	e := p.event
	err := s.db.QuarantineEvent(ctx, store.Quarantined{Stage: store.StageSignals, Seq: e.Seq, Tx: e.Tx,
		MessageID: identity.Storable(e.MessageID), UserID: identity.Storable(e.UserID), AccountID: identity.Storable(e.GroupID),
		Error: identity.Storable(p.cause.Error()), LastAt: s.clock()})
	if err != nil {
		return fmt.Errorf("quarantining %v: %w", p, err)
	}
	if s.skip == nil {
		s.skip = map[int64]bool{}
	}
	s.skip[e.Seq] = true
	s.quarantined.Add(1)
	s.log.Warn("signals quarantined an event they could not take; `beacon quarantine list` shows it", "seq", e.Seq, "err", p.cause)
	return nil
}

// loadSkipped reads the events the signal stage set aside and not resolved
// since; it reports whether any it passed over before is no longer among
// them (retried), which the rollups must then take.
func (s *Service) loadSkipped(ctx context.Context) (bool, error) {
	open, err := s.db.QuarantinedList(ctx, store.QuarantineQuery{Open: true, Stage: store.StageSignals, Limit: 1 << 30})
	if err != nil {
		return false, err
	}
	skip := make(map[int64]bool, len(open))
	for _, q := range open {
		skip[q.Seq] = true
	}
	retried := false
	for seq := range s.skip {
		retried = retried || !skip[seq]
	}
	s.skip = skip
	return retried, nil
}

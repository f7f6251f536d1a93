package score

import (
	"context"

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

// Quarantined counts the subjects and the events this process's scoring
// and signal stage have set aside since it started, for the
// beacon_quarantined_total metric.
func (s *Service) Quarantined() uint64 { return s.quarantined.Load() + s.signals.Quarantined() }

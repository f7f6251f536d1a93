package identity

import (
	"context"
	"fmt"
	"time"

	"github.com/beaconplg/beacon/internal/projection"
	"github.com/beaconplg/beacon/internal/store"
)

// quarantineStore is what a retry needs beside a pass's reads and writes.
type quarantineStore interface {
	QuarantinedList(ctx context.Context, q store.QuarantineQuery) ([]store.Quarantined, error)
	RetryFailed(ctx context.Context, id int64, reason string, at time.Time) error
}

// Retried says what a retry did.
type Retried struct {
	Applied, Failed int
}

// Retry projects again the events identity set aside (all open ones, or
// those of ids), oldest first, each in a transaction of its own that bumps
// the epoch: every cache and score downstream, in this process or another,
// reads identity again. An event that still fails stays, with its new error
// and one more attempt. An event retried after later ones were projected
// counts as seen then: its traits merge by their timestamps, as any late
// event's do.
func (s *Service) Retry(ctx context.Context, ids ...int64) (Retried, error) {
	var out Retried
	open, err := s.db.QuarantinedList(ctx, store.QuarantineQuery{Open: true, Stage: store.StageIdentity, Limit: 1 << 30})
	if err != nil {
		return out, err
	}
	want := map[int64]bool{}
	for _, id := range ids {
		want[id] = true
	}
	for i := len(open) - 1; i >= 0; i-- { // the list is newest first
		q := open[i]
		if len(ids) > 0 && !want[q.ID] {
			continue
		}
		err := s.retryOne(ctx, q)
		if ctx.Err() != nil {
			return out, ctx.Err()
		}
		if err == nil {
			out.Applied++
			continue
		}
		out.Failed++
		if err := s.db.RetryFailed(ctx, q.ID, Storable(err.Error()), time.Now()); err != nil {
			return out, err
		}
	}
	return out, nil
}

func (s *Service) retryOne(ctx context.Context, q store.Quarantined) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	before := q.Cursor()
	before.Seq--
	evs, _, err := s.db.IdentityEventsAfter(ctx, before, 1, store.Bodies{})
	if err != nil {
		return err
	}
	if len(evs) == 0 || evs[0].Seq != q.Seq {
		return fmt.Errorf("event seq %d is no longer in the stream", q.Seq)
	}
	crm, err := s.crmIndex(ctx)
	if err != nil {
		return err
	}
	var changed Resolved
	err = s.db.Project(ctx, func(tx store.IdentityTx) (err error) {
		defer projection.Catch(&err)
		epoch, err := tx.Cursor(ctx, EpochName)
		if err != nil {
			return err
		}
		if err := tx.SetCursor(ctx, EpochName, store.Cursor{Seq: epoch.Seq + 1}); err != nil {
			return err
		}
		p := newPass(ctx, tx, crm, newCache())
		if err := p.applyAll(evs); err != nil {
			return err
		}
		// The event went on when it was set aside: what follows now is
		// what projecting it changed.
		changed = p.resolved(store.Cursor{}, store.Cursor{}, nil, store.Bodies{})
		return tx.ResolveQuarantined(ctx, q.ID, time.Now())
	})
	s.cache.valid = false
	if err == nil {
		s.next.Resolved(changed)
	}
	return err
}

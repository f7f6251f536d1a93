package route

import (
	"context"
	"sync"
	"time"

	"github.com/beaconplg/beacon/internal/store"
)

// described is what a CRM says of the object a destination writes (its
// fields or properties, and what the mapping lacks among them), read at
// most once an hour.
type described[T any] struct {
	mu sync.Mutex
	v  T
	at time.Time // zero: not read, or to read again
}

// get returns what was read, reading it again when it is older than
// schemaTTL.
func (d *described[T]) get(now time.Time, read func() (T, error)) (T, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.at.IsZero() && now.Sub(d.at) < schemaTTL {
		return d.v, nil
	}
	v, err := read()
	if err != nil {
		return v, err
	}
	d.v, d.at = v, now
	return v, nil
}

// sendMapped sends ds with write, once the mapping is known to work: while
// it cannot (a field to create), every delivery waits mappingWait with the
// problem as its error, rather than die.
func sendMapped[T interface{ mappingProblem() error }](ctx context.Context, sp Spec, ds []store.Delivery, size int, v T, err error,
	write func(context.Context, T, []record) []error) []error {
	if err == nil {
		if problem := v.mappingProblem(); problem != nil {
			err = &SendError{RetryAfter: mappingWait, Err: problem}
		}
	}
	if err != nil {
		return all(len(ds), err)
	}
	return sendRecords(ctx, sp, ds, size, func(ctx context.Context, recs []record) []error { return write(ctx, v, recs) })
}

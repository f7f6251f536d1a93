package route

import (
	"context"
	"sync"
	"time"

	"github.com/beaconplg/beacon/internal/store"
)

// described is what a CRM says of the object a destination writes (its
// fields or properties, and what the mapping lacks among them), read at
// most once an hour while the mapping works, and at every send while it
// lacks something, so that deliveries go as soon as it is made.
type described[T mapped] struct {
	mu sync.Mutex
	v  T
	at time.Time // zero: not read, or to read again
}

// mapped is what a CRM says of an object: whether the mapping works with it.
type mapped interface{ mappingProblem() error }

// get returns what was read, reading it again when it is older than
// schemaTTL or the mapping lacked something.
func (d *described[T]) get(now time.Time, read func() (T, error)) (T, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.at.IsZero() && now.Sub(d.at) < schemaTTL && d.v.mappingProblem() == nil {
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
func sendMapped[T mapped](ctx context.Context, sp Spec, ds []store.Delivery, size int, v T, err error,
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

// Package projection owns how Beacon's projections of the event stream
// (identity resolution, scoring) follow it: a pass when a commit is
// notified, at least one every tick, and, under load, a pause between passes
// so that each takes many events in one transaction.
package projection

import (
	"context"
	"time"
)

// Loop drives one projection's passes.
type Loop struct {
	tick, settle time.Duration
	wake         chan struct{}
}

// New returns a loop that runs a pass at least every tick and leaves at
// least settle between the starts of two passes that found work.
func New(tick, settle time.Duration) *Loop {
	return &Loop{tick: tick, settle: settle, wake: make(chan struct{}, 1)}
}

// Notify asks for a pass; notifications while one is pending merge.
func (l *Loop) Notify() {
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// Run calls pass until ctx ends. pass returns how many events it took;
// failed is told of errors, and the next pass retries.
func (l *Loop) Run(ctx context.Context, pass func(context.Context) (int, error), failed func(error)) {
	tick := time.NewTicker(l.tick)
	defer tick.Stop()
	for {
		started := time.Now()
		n, err := pass(ctx)
		if err != nil && ctx.Err() == nil {
			failed(err)
		}
		if n > 0 {
			select {
			case <-ctx.Done():
				return
			case <-time.After(l.settle - time.Since(started)):
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-l.wake:
		case <-tick.C:
		}
	}
}

// Package projection owns how Beacon's projections of the event stream
// (identity resolution, scoring) follow it: a pass when a commit is
// notified, at least one every tick, and, under load, a pause between passes
// so that each takes many events in one transaction.
package projection

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
	"time"
)

// Loop drives one projection's passes, and knows whether they are
// failing.
type Loop struct {
	tick, settle time.Duration
	wake         chan struct{}

	mu      sync.Mutex
	failing time.Time // when the passes began to fail; zero while they succeed
	// notified is the oldest notification no pass has started on since;
	// taken is the oldest one the running (or last failed) pass took.
	// Zero when there is none: what was notified has been projected.
	notified, taken time.Time
}

// ErrFailing says a projection's passes have failed for longer than a
// health check allows.
var ErrFailing = errors.New("failing")

// Health reports whether the passes have been failing, without one
// succeeding, for longer than grace at now: a pass that fails now and then
// (a store restarting) is retried and is not yet a failing stage.
func (l *Loop) Health(now time.Time, grace time.Duration) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.failing.IsZero() && now.Sub(l.failing) > grace {
		return ErrFailing
	}
	return nil
}

// Lag is how long the oldest notification not yet projected has waited at
// now: 0 when every commit notified has been projected. A pass that fails
// leaves what it took waiting.
func (l *Loop) Lag(now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	oldest := l.taken
	if oldest.IsZero() || (!l.notified.IsZero() && l.notified.Before(oldest)) {
		oldest = l.notified
	}
	if oldest.IsZero() || now.Before(oldest) {
		return 0
	}
	return now.Sub(oldest)
}

// take notes that a pass starts on what was notified so far.
func (l *Loop) take() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.taken.IsZero() || (!l.notified.IsZero() && l.notified.Before(l.taken)) {
		l.taken = l.notified
	}
	l.notified = time.Time{}
}

// record notes a pass's outcome.
func (l *Loop) record(err error, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case err == nil:
		l.failing, l.taken = time.Time{}, time.Time{}
	case l.failing.IsZero():
		l.failing = now
	}
}

// New returns a loop that runs a pass at least every tick and leaves at
// least settle between the starts of two passes that found work.
func New(tick, settle time.Duration) *Loop {
	return &Loop{tick: tick, settle: settle, wake: make(chan struct{}, 1)}
}

// ErrPanic is the error Catch makes of a panic.
var ErrPanic = errors.New("panic")

// Catch, deferred, turns a panic into *err, wrapping ErrPanic: a bug that
// one message triggers is set aside with it, as any other reason it cannot
// be applied, and never ends the process.
func Catch(err *error) {
	if v := recover(); v != nil {
		*err = fmt.Errorf("%w: %v", ErrPanic, v)
	}
}

// safely runs pass, a panic included in its error with where it happened.
func safely(ctx context.Context, pass func(context.Context) (int, error)) (n int, err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("panic: %v\n%s", v, debug.Stack())
		}
	}()
	return pass(ctx)
}

// Notify asks for a pass; notifications while one is pending merge.
func (l *Loop) Notify() {
	l.mu.Lock()
	if l.notified.IsZero() {
		l.notified = time.Now()
	}
	l.mu.Unlock()
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// Run calls pass until ctx ends. pass returns how many events it took;
// failed is told of errors, and the next pass retries. A pass that panics
// (a bug) fails like any other: the process, and the collector in it, go
// on, and the stage reports itself failing.
func (l *Loop) Run(ctx context.Context, pass func(context.Context) (int, error), failed func(error)) {
	tick := time.NewTicker(l.tick)
	defer tick.Stop()
	for {
		started := time.Now()
		l.take()
		n, err := safely(ctx, pass)
		if ctx.Err() == nil {
			l.record(err, time.Now())
		}
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

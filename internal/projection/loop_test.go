package projection

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// A pass runs at start and on notification; notifications that arrive while
// a pass runs merge into one pass after it; errors are reported and the next
// pass retries.
func TestLoop(t *testing.T) {
	l := New(time.Hour, 0)
	started := make(chan int)
	release := make(chan error)
	var failures []error
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		n := 0
		l.Run(ctx, func(context.Context) (int, error) {
			n++
			started <- n
			return 0, <-release
		}, func(err error) { failures = append(failures, err) })
	}()
	if n := <-started; n != 1 {
		t.Fatalf("first pass %d", n)
	}
	l.Notify() // while pass 1 runs
	l.Notify()
	l.Notify()
	release <- errors.New("store away")
	if n := <-started; n != 2 {
		t.Fatalf("second pass %d", n)
	}
	// The three notifications were one request, which pass 2 took: none is
	// left to make a third pass.
	if len(l.wake) != 0 {
		t.Fatal("three notifications during one pass asked for two passes")
	}
	release <- nil
	l.Notify()
	if n := <-started; n != 3 {
		t.Fatalf("third pass %d", n)
	}
	release <- nil
	cancel()
	<-done
	if len(failures) != 1 {
		t.Fatalf("failures %v", failures)
	}
}

// A projection whose passes keep failing is unhealthy once the grace is
// over; one success makes it healthy again.
func TestLoopHealth(t *testing.T) {
	l := New(time.Hour, 0)
	t0 := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	grace := 10 * time.Second
	if err := l.Health(t0, grace); err != nil {
		t.Fatalf("a new loop: %v", err)
	}
	l.record(errors.New("store away"), t0)
	l.record(errors.New("store away"), t0.Add(5*time.Second))
	if err := l.Health(t0.Add(9*time.Second), grace); err != nil {
		t.Fatalf("failing within the grace: %v", err)
	}
	if err := l.Health(t0.Add(11*time.Second), grace); !errors.Is(err, ErrFailing) {
		t.Fatalf("failing past the grace: %v", err)
	}
	l.record(nil, t0.Add(12*time.Second))
	if err := l.Health(t0.Add(time.Minute), grace); err != nil {
		t.Fatalf("after a success: %v", err)
	}
}

// Lag is how long the oldest notified commit has waited for a pass that
// succeeds: it grows while a pass runs or fails, and is 0 once one
// succeeds with nothing notified since.
func TestLoopLag(t *testing.T) {
	l := New(time.Hour, 0)
	started := make(chan struct{})
	release := make(chan error)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		l.Run(ctx, func(context.Context) (int, error) {
			started <- struct{}{}
			return 0, <-release
		}, func(error) {})
	}()
	<-started
	release <- nil // the pass at start
	later := func() time.Time { return time.Now().Add(time.Hour) }
	if lag := l.Lag(later()); lag != 0 {
		t.Fatalf("nothing notified: lag %v", lag)
	}
	l.Notify()
	<-started
	if lag := l.Lag(later()); lag < time.Hour {
		t.Fatalf("while the pass runs: lag %v, want at least an hour an hour later", lag)
	}
	release <- errors.New("store away")
	l.Notify() // the next pass, which also takes what the failed one did not do
	<-started
	if lag := l.Lag(later()); lag < time.Hour {
		t.Fatalf("after a failed pass: lag %v", lag)
	}
	release <- nil
	// The pass records its success after it returns: wait for it.
	for deadline := time.Now().Add(2 * time.Minute); l.Lag(later()) != 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("after a pass that succeeded with nothing notified since: lag %v", l.Lag(later()))
		}
	}
	cancel()
	<-done
}

// A pass that panics fails like any other: Run goes on, is told of it with
// where it happened, and the next pass runs.
func TestLoopSurvivesAPanic(t *testing.T) {
	l := New(time.Hour, 0)
	passes := make(chan int, 2)
	failures := make(chan error, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	n := 0
	go l.Run(ctx, func(context.Context) (int, error) {
		n++
		passes <- n
		if n == 1 {
			var m map[string]int
			m["boom"]++ // a bug
		}
		return 0, nil
	}, func(err error) { failures <- err })
	<-passes
	if err := <-failures; err == nil || !strings.Contains(err.Error(), "panic: assignment to entry in nil map") ||
		!strings.Contains(err.Error(), "loop_test.go") {
		t.Fatalf("the panic as reported: %v", err)
	}
	l.Notify()
	if got := <-passes; got != 2 {
		t.Fatalf("pass %d after the panic", got)
	}
}

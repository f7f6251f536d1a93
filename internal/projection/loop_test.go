package projection

import (
	"context"
	"errors"
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

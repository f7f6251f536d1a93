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

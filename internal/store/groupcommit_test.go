package store

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"
)

// groups records the sizes of the groups a queue commits; the first commit
// waits for release, so that requests queue behind it.
type groups struct {
	mu      sync.Mutex
	sizes   []int
	release chan struct{}
}

func (g *groups) write(_ context.Context, batches [][]eventRow) ([]int, error) {
	g.mu.Lock()
	first := len(g.sizes) == 0
	g.sizes = append(g.sizes, len(batches))
	g.mu.Unlock()
	if first {
		<-g.release
	}
	counts := make([]int, len(batches))
	for i, b := range batches {
		counts[i] = len(b)
	}
	return counts, nil
}

func (g *groups) seen() []int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return slices.Clone(g.sizes)
}

// appendWithin fails the test if an append is not answered in time: a
// queue lingering where it should not never answers here.
func appendWithin(t *testing.T, q *appendQueue, rows int) {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		_, err := q.append(context.Background(), make([]eventRow, rows))
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(hangGuard):
		t.Fatal("append not answered: the queue lingered for a lone caller")
	}
}

// One request at a time is committed at once, however long the queue
// would linger; once a commit held several, the next group waits for more
// (here until it holds maxGroupRows, the linger being an hour).
func TestGroupCommitLingersOnlyUnderLoad(t *testing.T) {
	g := &groups{release: make(chan struct{})}
	close(g.release)
	q := newAppendQueue(g.write, time.Hour)
	defer q.close()
	for range 5 {
		appendWithin(t, q, 1)
	}
	if got := g.seen(); !slices.Equal(got, []int{1, 1, 1, 1, 1}) {
		t.Fatalf("sequential appends committed in groups of %v, want one each", got)
	}

	// Two requests queued behind a held commit make a group of two; a
	// sender may be late to queue, so try again until they do.
	var g2 *groups
	var q2 *appendQueue
	began := time.Now()
	for try := 0; ; try++ {
		g2 = &groups{release: make(chan struct{})}
		q2 = newAppendQueue(g2.write, time.Hour)
		var wg sync.WaitGroup
		send := func(rows int) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, _ = q2.append(context.Background(), make([]eventRow, rows))
			}()
		}
		send(1)
		for len(g2.seen()) == 0 {
			time.Sleep(time.Millisecond)
		}
		send(1)
		send(1)
		time.Sleep(20 * time.Millisecond)
		close(g2.release)
		wg.Wait()
		if slices.Equal(g2.seen(), []int{1, 2}) {
			break
		}
		q2.close()
		if time.Since(began) > hangGuard {
			t.Fatalf("two requests never queued behind a commit in %d tries: groups of %v", try, g2.seen())
		}
	}
	defer q2.close()
	var wg sync.WaitGroup
	for _, rows := range []int{10, maxGroupRows - 10} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _ = q2.append(context.Background(), make([]eventRow, rows))
		}()
	}
	wg.Wait()
	if got := g2.seen(); !slices.Equal(got, []int{1, 2, 2}) {
		t.Fatalf("groups of %v, want 1, 2 and then 2 gathered while lingering", got)
	}
}

// hangGuard is storetest.HangGuard, which this package's own tests cannot
// import.
const hangGuard = 2 * time.Minute

package store

import (
	"context"
	"errors"
	"sync"
	"time"
)

// appendQueue is group commit for a single-writer engine: requests that arrive
// while a transaction is committing wait together and share the next one, so
// a durable commit (one fsync) serves many requests instead of one.
type appendQueue struct {
	in     chan appendReq
	write  func(ctx context.Context, batches [][]eventRow) ([]int, error)
	done   chan struct{}
	linger time.Duration
	closed sync.Once
	wg     sync.WaitGroup
}

type appendReq struct {
	ctx   context.Context
	rows  []eventRow
	reply chan appendResult
}

type appendResult struct {
	n   int
	err error
}

const maxGroupRows = 5000

// linger is how long a group waits for more requests when the last one
// committed held several: requests come many at a time then, and a commit
// costs the writer much the same for one as for ten (docs/benchmarks.md).
// A caller that sends one request at a time never waits for it.
const linger = 5 * time.Millisecond

var errClosed = errors.New("store is closed")

func newAppendQueue(write func(context.Context, [][]eventRow) ([]int, error), linger time.Duration) *appendQueue {
	q := &appendQueue{in: make(chan appendReq), write: write, done: make(chan struct{}), linger: linger}
	q.wg.Add(1)
	go q.run()
	return q
}

func (q *appendQueue) append(ctx context.Context, rows []eventRow) (int, error) {
	req := appendReq{ctx: ctx, rows: rows, reply: make(chan appendResult, 1)}
	select {
	case q.in <- req:
	case <-q.done:
		return 0, errClosed
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	// Once queued, wait for the outcome even if ctx ends: the rows may already
	// be committed, and the caller must not report a failure that did not happen.
	r := <-req.reply
	return r.n, r.err
}

func (q *appendQueue) run() {
	defer q.wg.Done()
	wait := time.NewTimer(q.linger)
	wait.Stop()
	busy := false
	for {
		var group []appendReq
		select {
		case req := <-q.in:
			group = append(group, req)
		case <-q.done:
			return
		}
		rows := len(group[0].rows)
		// A nil channel never delivers: without lingering, take only what
		// is queued.
		var until <-chan time.Time
		if busy {
			wait.Reset(q.linger)
			until = wait.C
		}
	gather:
		for rows < maxGroupRows {
			var req appendReq
			if until == nil {
				select {
				case req = <-q.in:
				default:
					break gather
				}
			} else {
				select {
				case req = <-q.in:
				case <-until:
					break gather
				}
			}
			group = append(group, req)
			rows += len(req.rows)
		}
		wait.Stop()
		busy = len(group) > 1
		q.commit(group)
	}
}

func (q *appendQueue) commit(group []appendReq) {
	batches := make([][]eventRow, len(group))
	for i, r := range group {
		batches[i] = r.rows
	}
	counts, err := q.write(context.Background(), batches)
	if err != nil && len(group) > 1 {
		// Retry each alone so one request's failure is not every request's.
		for _, r := range group {
			c, err := q.write(r.ctx, [][]eventRow{r.rows})
			n := 0
			if err == nil {
				n = c[0]
			}
			r.reply <- appendResult{n: n, err: err}
		}
		return
	}
	for i, r := range group {
		if err != nil {
			r.reply <- appendResult{err: err}
			continue
		}
		r.reply <- appendResult{n: counts[i]}
	}
}

func (q *appendQueue) close() {
	q.closed.Do(func() {
		close(q.done)
		q.wg.Wait()
	})
}

package store

import (
	"context"
	"database/sql"
	"sync"
	"time"
)

// SQLite in WAL mode copies committed pages back into the database file in a
// checkpoint, by default inside whichever commit makes the log pass 1,000
// pages. That commit holds the one writer meanwhile, and collector, identity
// and scoring all wait on it: under load a fifth of the writer's time went to
// checkpoints (docs/benchmarks.md). The checkpointer runs them on a
// connection of its own instead, in PASSIVE mode, which never blocks writers;
// the writer's own automatic checkpoint stays as a backstop at a larger size.
const (
	checkpointEvery = 250 * time.Millisecond
	// walBackstop is where the writer checkpoints by itself, reached only
	// if the checkpointer falls behind: 80 MB of log, in pages of the
	// file's size (openWriter).
	walBackstop = 80 << 20
)

// checkpointer runs passive checkpoints until stopped.
type checkpointer struct {
	db   *sql.DB
	stop context.CancelFunc
	done sync.WaitGroup
}

func startCheckpointer(path string) (*checkpointer, error) {
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	ctx, stop := context.WithCancel(context.Background())
	c := &checkpointer{db: db, stop: stop}
	c.done.Add(1)
	go func() {
		defer c.done.Done()
		t := time.NewTicker(checkpointEvery)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				// A failed passive checkpoint leaves the log longer, never
				// wrong; the next tick or the backstop catches up.
				_, _ = c.db.ExecContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`)
			}
		}
	}()
	return c, nil
}

// close stops the loop and closes its connection.
func (c *checkpointer) close() {
	c.stop()
	c.done.Wait()
	c.db.Close()
}

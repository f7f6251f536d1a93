package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"

	"modernc.org/sqlite"
)

// SQLite allows one writer per file. With the event log in the main file, the
// collector's commits queued behind identity's and scoring's, and under load
// those took most of the writer's time (docs/benchmarks.md). So the log has a
// file of its own beside the main one, with its own writer and checkpointer:
// taking events in never waits for what is derived from them. Readers attach
// the log under eventlog, and queries name its tables as if they were in the
// main file. No transaction writes both files.

// eventLogPath is where the event log of the main file at path lives: beside
// it, so that beacon.db* names every file of a store.
func eventLogPath(path string) string { return path + "-events" }

// eventLogSchema is what readers call the attached log.
const eventLogSchema = "eventlog"

// ErrEventLogMissing: the main file says its events were moved to the event
// log file, and that file is not there.
var ErrEventLogMissing = errors.New("event log file missing")

// attaching opens reader connections with the event log attached.
type attaching struct {
	driver.Connector
	log string // the log's file: URI
}

func (a attaching) Connect(ctx context.Context) (driver.Conn, error) {
	c, err := a.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	ex, ok := c.(driver.ExecerContext)
	if !ok {
		c.Close()
		return nil, fmt.Errorf("sqlite: connection cannot attach the event log")
	}
	_, err = ex.ExecContext(ctx, `ATTACH DATABASE ? AS `+eventLogSchema, []driver.NamedValue{{Ordinal: 1, Value: a.log}})
	if err == nil {
		_, err = ex.ExecContext(ctx, `PRAGMA `+eventLogSchema+`.mmap_size = `+readerMmap, nil)
	}
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("sqlite: attach event log: %w", err)
	}
	return c, nil
}

// openReaders opens the pool of read-only connections over both files.
func openReaders(path, dsn string) (*sql.DB, error) {
	c, err := sqlite.NewConnector(dsn)
	if err != nil {
		return nil, err
	}
	return sql.OpenDB(attaching{Connector: c, log: "file:" + eventLogPath(path)}), nil
}

// migrateEventLog readies the event log file before the main migrations:
// its own migrations, then, for a store from before the split, a copy of the
// events the main file holds, committed before migration 0009 drops them. A
// main file whose events were moved and a log that never had a migration is
// a log lost: it is refused, on every try, rather than started empty.
func (db *DB) migrateEventLog(ctx context.Context, path string) error {
	moved, err := hasMigration(ctx, db.w, 9)
	if err != nil {
		return err
	}
	if moved {
		kept, err := hasTable(ctx, db.lw, "schema_migrations")
		if err != nil {
			return err
		}
		if !kept {
			return fmt.Errorf("%w: %s holds no events of %s; restore it beside that file", ErrEventLogMissing, eventLogPath(path), path)
		}
	}
	if err := db.migrateDir(ctx, db.lw, "migrations/sqlite-events"); err != nil {
		return fmt.Errorf("event log: %w", err)
	}
	inMain, err := hasTable(ctx, db.w, "events")
	if err != nil {
		return err
	}
	if inMain {
		if err := db.copyEvents(ctx, path); err != nil {
			return err
		}
	}
	return db.runEventRows(ctx)
}

// copyEvents copies the main file's events into the log. Run again after a
// crash, it copies only what is missing: what the log holds as rows or has
// put in runs since.
func (db *DB) copyEvents(ctx context.Context, path string) error {
	conn, err := db.lw.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `ATTACH DATABASE ? AS old`, "file:"+path+"?mode=ro"); err != nil {
		return fmt.Errorf("event log: attach %s: %w", path, err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), `DETACH DATABASE old`)
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, q := range []string{
		`INSERT OR IGNORE INTO main.events SELECT ` + eventColumnsStored + ` FROM old.events
			WHERE seq > (SELECT coalesce(max(last_seq), 0) FROM main.event_runs)`,
		`INSERT OR IGNORE INTO main.event_ids SELECT seq, h1, h2 FROM old.event_ids`,
	} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("event log: copy: %w", err)
		}
	}
	return tx.Commit()
}

// rowsPerMove is how many events kept a row each one transaction moves into
// runs.
const rowsPerMove = 1 << 16

// runEventRows moves the events the log keeps a row each, as it did before
// its migration 0003, into runs: rowsPerMove of them a transaction, which
// puts them in runs and deletes their rows, so that a crash leaves each event
// in one place or the other, and the next start moves the rest. Then it
// vacuums the log, which runs leave about a fifth full.
func (db *DB) runEventRows(ctx context.Context) error {
	total := 0
	for {
		moved := 0
		err := txOn(ctx, db.lw, func(tx *sql.Tx) error {
			var err error
			moved, err = moveEventRows(ctx, tx, rowsPerMove)
			return err
		})
		if err != nil {
			return fmt.Errorf("event log: events into runs: %w", err)
		}
		if moved == 0 {
			break
		}
		total += moved
	}
	if total == 0 {
		return nil
	}
	if _, err := db.lw.ExecContext(ctx, `VACUUM`); err != nil {
		return fmt.Errorf("event log: vacuum after moving events into runs: %w", err)
	}
	return nil
}

// moveEventRows moves the oldest limit rows into runs of consecutive seqs
// and returns how many it moved.
func moveEventRows(ctx context.Context, tx *sql.Tx, limit int) (int, error) {
	rows, err := tx.QueryContext(ctx, `SELECT `+eventColumnsStored+` FROM events ORDER BY seq LIMIT $1`, limit)
	if err != nil {
		return 0, err
	}
	var seqs []int64
	var evs []eventRow
	for rows.Next() {
		var seq int64
		var r eventRow
		if err := rows.Scan(&seq, &r.messageID, &r.typ, &r.name, &r.userID, &r.anonymousID, &r.groupID, &r.previousID,
			&r.ts, &r.originalTS, &r.sentAt, &r.receivedAt, &r.body); err != nil {
			rows.Close()
			return 0, err
		}
		seqs, evs = append(seqs, seq), append(evs, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(evs) == 0 {
		return 0, err
	}
	insert, err := tx.PrepareContext(ctx, `INSERT INTO event_runs (last_seq, n, data) VALUES ($1, $2, $3)`)
	if err != nil {
		return 0, err
	}
	defer insert.Close()
	for start := 0; start < len(evs); {
		end := start + 1
		for end < len(evs) && seqs[end] == seqs[end-1]+1 {
			end++
		}
		last := seqs[start] - 1
		if err := insertRuns(ctx, insert, evs[start:end], &last); err != nil {
			return 0, err
		}
		start = end
	}
	_, err = tx.ExecContext(ctx, `DELETE FROM events WHERE seq <= $1`, seqs[len(seqs)-1])
	return len(evs), err
}

// eventColumnsStored are the columns of the events table, in their order.
const eventColumnsStored = `seq, message_id, type, name, user_id, anonymous_id, group_id, previous_id,
	ts, original_ts, sent_at, received_at, body`

func hasTable(ctx context.Context, q queryer, name string) (bool, error) {
	var n int
	err := q.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = $1`, name).Scan(&n)
	return n > 0, err
}

func hasMigration(ctx context.Context, q queryer, version int) (bool, error) {
	ok, err := hasTable(ctx, q, "schema_migrations")
	if err != nil || !ok {
		return false, err
	}
	var n int
	err = q.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE version = $1`, version).Scan(&n)
	return n > 0, err
}

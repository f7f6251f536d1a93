package store

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"strings"
	"sync"

	_ "modernc.org/sqlite" // the pure-Go SQLite driver, registered as "sqlite"
)

type sqliteDialect struct{}

func (sqliteDialect) name() string { return "sqlite" }

// SQLite's writer lock (BEGIN IMMEDIATE) already serialises migrators.
func (sqliteDialect) lockMigrations(context.Context, *sql.Tx) error { return nil }

func (sqliteDialect) forUpdate() string { return "" }

func (sqliteDialect) cursorArgs(c Cursor) []any { return []any{c.Seq} }

// With one writer connection, sequence order is commit order.
func (sqliteDialect) eventsAfterSQL() string {
	return `SELECT ` + eventColumns + `, 0 FROM events WHERE seq > $1 ORDER BY seq LIMIT $2`
}

const sqliteChunk = 100 // rows per INSERT statement: 1,300 parameters

func (sqliteDialect) appendEvents(ctx context.Context, tx *sql.Tx, rows []eventRow) (int, error) {
	var n int64
	for len(rows) > 0 {
		chunk := rows[:min(len(rows), sqliteChunk)]
		rows = rows[len(chunk):]
		args := make([]any, 0, len(chunk)*12)
		for _, r := range chunk {
			args = append(args, r.messageID, r.typ, r.name, r.userID, r.anonymousID, r.groupID,
				r.previousID, r.ts, r.originalTS, r.sentAt, r.receivedAt, r.body)
		}
		res, err := tx.ExecContext(ctx, insertEventsSQL(len(chunk)), args...)
		if err != nil {
			return 0, err
		}
		k, err := res.RowsAffected()
		if err != nil {
			return 0, err
		}
		n += k
	}
	return int(n), nil
}

var insertSQLCache sync.Map // rows → statement text

func insertEventsSQL(rows int) string {
	if s, ok := insertSQLCache.Load(rows); ok {
		return s.(string)
	}
	var b strings.Builder
	b.WriteString(`INSERT INTO events (message_id, type, name, user_id, anonymous_id, group_id, previous_id, ts, original_ts, sent_at, received_at, body) VALUES `)
	for i := range rows {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('(')
		for j := range 12 {
			if j > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, "$%d", i*12+j+1)
		}
		b.WriteByte(')')
	}
	b.WriteString(` ON CONFLICT (message_id) DO NOTHING`)
	insertSQLCache.Store(rows, b.String())
	return b.String()
}

// openSQLite opens a SQLite file in WAL mode with one writer connection (SQLite
// allows one writer; a pool would only queue on its lock) and a pool of
// read-only readers. synchronous=FULL makes each commit durable before Beacon
// answers; group commit (appendQueue) keeps that affordable.
func openSQLite(ctx context.Context, path string) (*DB, error) {
	if path == "" {
		return nil, fmt.Errorf("sqlite: empty path")
	}
	pragmas := url.Values{}
	for _, p := range []string{"journal_mode(WAL)", "busy_timeout(10000)", "synchronous(FULL)", "foreign_keys(ON)"} {
		pragmas.Add("_pragma", p)
	}
	wq := pragmas
	wq.Set("_txlock", "immediate")
	w, err := sql.Open("sqlite", "file:"+path+"?"+wq.Encode())
	if err != nil {
		return nil, err
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite %s: %w", path, err)
	}
	rq := url.Values{}
	for _, p := range []string{"busy_timeout(10000)", "query_only(1)"} {
		rq.Add("_pragma", p)
	}
	r, err := sql.Open("sqlite", "file:"+path+"?"+rq.Encode())
	if err != nil {
		w.Close()
		return nil, err
	}
	r.SetMaxOpenConns(8)
	db := &DB{w: w, r: r, d: sqliteDialect{}}
	q := newAppendQueue(db.appendInTxRows)
	db.appends, db.stop = q.append, q.close
	return db, nil
}

func (db *DB) appendInTxRows(ctx context.Context, batches [][]eventRow) ([]int, error) {
	counts := make([]int, len(batches))
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		for i, rows := range batches {
			n, err := db.d.appendEvents(ctx, tx, rows)
			if err != nil {
				return err
			}
			counts[i] = n
		}
		return nil
	})
	return counts, err
}

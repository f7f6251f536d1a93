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

// sqliteDialect keeps the insert statements prepared on the one writer
// connection: parsing a 1,200-parameter statement costs more than running it.
type sqliteDialect struct {
	w     *sql.DB
	stmts sync.Map // rows → *sql.Stmt
}

func (*sqliteDialect) name() string { return "sqlite" }

// SQLite's writer lock (BEGIN IMMEDIATE) already serialises migrators.
func (*sqliteDialect) lockMigrations(context.Context, *sql.Tx) error { return nil }

func (*sqliteDialect) forUpdate() string { return "" }

func (*sqliteDialect) cursorArgs(c Cursor) []any { return []any{c.Seq} }

// With one writer connection, sequence order is commit order.
func (*sqliteDialect) eventsAfterSQL() string {
	return `SELECT ` + eventColumns + `, 0 FROM events WHERE seq > $1 ORDER BY seq LIMIT $2`
}

const sqliteChunk = 100 // rows per INSERT statement: 1,300 parameters

func (d *sqliteDialect) appendEvents(ctx context.Context, tx *sql.Tx, rows []eventRow) (int, error) {
	var n int64
	for len(rows) > 0 {
		chunk := rows[:min(len(rows), sqliteChunk)]
		rows = rows[len(chunk):]
		args := make([]any, 0, len(chunk)*12)
		for _, r := range chunk {
			args = append(args, r.messageID, r.typ, r.name, r.userID, r.anonymousID, r.groupID,
				r.previousID, r.ts, r.originalTS, r.sentAt, r.receivedAt, r.body)
		}
		stmt, ok := d.stmts.Load(len(chunk))
		if !ok {
			return 0, fmt.Errorf("no insert statement prepared for %d rows", len(chunk))
		}
		res, err := tx.StmtContext(ctx, stmt.(*sql.Stmt)).ExecContext(ctx, args...)
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

// prepare makes sure the insert statements for these batches exist. It must
// run outside a transaction: the writer pool has a single connection.
func (d *sqliteDialect) prepare(ctx context.Context, batches [][]eventRow) error {
	for _, rows := range batches {
		for _, n := range []int{min(len(rows), sqliteChunk), len(rows) % sqliteChunk} {
			if n == 0 {
				continue
			}
			if _, ok := d.stmts.Load(n); ok {
				continue
			}
			if _, err := d.insertStmt(ctx, n); err != nil {
				return err
			}
		}
	}
	return nil
}

func (d *sqliteDialect) insertStmt(ctx context.Context, rows int) (*sql.Stmt, error) {
	var b strings.Builder
	b.WriteString(`INSERT INTO events (message_id, type, name, user_id, anonymous_id, group_id, previous_id, ts, original_ts, sent_at, received_at, body) VALUES `)
	row := "(" + strings.TrimSuffix(strings.Repeat("?,", 12), ",") + ")"
	for i := range rows {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(row)
	}
	b.WriteString(` ON CONFLICT (message_id) DO NOTHING`)
	stmt, err := d.w.PrepareContext(ctx, b.String())
	if err != nil {
		return nil, err
	}
	if prev, loaded := d.stmts.LoadOrStore(rows, stmt); loaded {
		stmt.Close()
		return prev.(*sql.Stmt), nil
	}
	return stmt, nil
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
	for _, p := range []string{"journal_mode(WAL)", "busy_timeout(10000)", "synchronous(FULL)", "foreign_keys(ON)", "cache_size(-65536)"} {
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
	db := &DB{w: w, r: r, d: &sqliteDialect{w: w}}
	q := newAppendQueue(db.appendInTxRows)
	db.appends, db.stop = q.append, q.close
	return db, nil
}

func (db *DB) appendInTxRows(ctx context.Context, batches [][]eventRow) ([]int, error) {
	if err := db.d.(*sqliteDialect).prepare(ctx, batches); err != nil {
		return nil, err
	}
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

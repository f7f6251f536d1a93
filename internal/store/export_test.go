package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// StreamPlans returns the engine's plans for reading the stream: after a
// cursor (identity) and over a range (scoring's replay). On PostgreSQL the
// planner is told to avoid sorting, so a plan sorts only if no index gives
// the order: an empty table would otherwise be sorted, rightly.
func (db *DB) StreamPlans(ctx context.Context) ([]string, error) {
	tx, err := db.r.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	if db.d.name() == "postgres" {
		if _, err := tx.ExecContext(ctx, `SET LOCAL enable_sort = off`); err != nil {
			return nil, err
		}
	}
	var queries map[string][]any
	switch l := db.log.(type) {
	case rowLog:
		c := l.cursorArgs(Cursor{})
		queries = map[string][]any{
			l.afterSQL(identityColumns + "body"): append(c, 5000),
			l.rangeSQL("seq, type, name"):        append(append(c, l.cursorArgs(Cursor{Tx: 1 << 62, Seq: 1 << 62})...), 5000),
		}
	case *runLog:
		queries = map[string][]any{runsAfterSQL: {0}, runAtSQL: {0}}
	}
	var plans []string
	for q, args := range queries {
		explain := `EXPLAIN `
		if db.d.name() == "sqlite" {
			explain = `EXPLAIN QUERY PLAN `
		}
		rows, err := tx.QueryContext(ctx, explain+q, args...)
		if err != nil {
			return nil, err
		}
		cols, _ := rows.Columns()
		var lines []string
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				rows.Close()
				return nil, err
			}
			lines = append(lines, fmt.Sprint(vals[len(vals)-1])) // the plan's text
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
		plans = append(plans, strings.Join(lines, "\n"))
	}
	return plans, nil
}

// AgeBlocks makes the stored blocks look as blocks of the first format
// did: bodies kept, no format named.
func (db *DB) AgeBlocks(ctx context.Context) error {
	_, err := db.w.ExecContext(ctx, `UPDATE stream_blocks SET bodies = '{"All":false,"Names":["A","B"]}'`)
	return err
}

// HoldReaders takes n read connections at once and hands them back, and
// returns the reader pool's statistics then.
func (db *DB) HoldReaders(ctx context.Context, n int) (sql.DBStats, error) {
	var conns []*sql.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range n {
		c, err := db.r.Conn(ctx)
		if err != nil {
			return sql.DBStats{}, err
		}
		conns = append(conns, c)
	}
	for _, c := range conns {
		c.Close()
	}
	conns = nil
	return db.r.Stats(), nil
}

// MessageDigest is the digest the log keeps of a messageId, as event_ids
// held it.
func MessageDigest(id string) (h1, h2 int64) {
	d := digestOf(id)
	return int64(d[0]), int64(d[1])
}

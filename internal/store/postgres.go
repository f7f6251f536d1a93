package store

import (
	"context"
	"database/sql"
	"fmt"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
)

type postgresDialect struct{}

func (postgresDialect) name() string { return "postgres" }

// seqOrdered: several writers commit out of sequence order; the stream is
// read by (tx, seq).
func (postgresDialect) seqOrdered() bool { return false }

func (postgresDialect) lockMigrations(ctx context.Context, tx *sql.Tx) error {
	_, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(7362001)`)
	return err
}

func (postgresDialect) forUpdate() string { return " FOR UPDATE" }

func (postgresDialect) skipLocked() string { return " FOR UPDATE SKIP LOCKED" }

func (postgresDialect) optimizeSQL() string { return `ANALYZE` }

func (postgresDialect) insertEventUsers(ctx context.Context, q queryer, refs []EventRef) error {
	keys, ts, seqs := make([]string, len(refs)), make([]int64, len(refs)), make([]int64, len(refs))
	for i, r := range refs {
		keys[i], ts[i], seqs[i] = r.Key, ms(r.TS), r.Seq
	}
	_, err := q.ExecContext(ctx, `INSERT INTO event_users (key, ts, seq)
		SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[]) ON CONFLICT DO NOTHING`, keys, ts, seqs)
	return err
}

func (postgresDialect) upsertUsers(ctx context.Context, q queryer, rows []userRow) error {
	n := len(rows)
	ids, emails, domains, companies, traits := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	traitsAt, first, last := make([]int64, n), make([]int64, n), make([]int64, n)
	for i, r := range rows {
		ids[i], emails[i], domains[i], companies[i], traits[i] = r.id, r.email, r.domain, r.company, r.traits
		traitsAt[i], first[i], last[i] = r.traitsAt, r.firstSeen, r.lastSeen
	}
	_, err := q.ExecContext(ctx, `INSERT INTO users (`+userColumns+`)
		SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::bigint[], $8::bigint[])`+userUpsert,
		ids, emails, domains, companies, traits, traitsAt, first, last)
	return err
}

func (postgresDialect) values(rows, width int) string { return valuesList(rows, width, numbered) }

func (postgresDialect) inList(param string) string {
	return `SELECT unnest(` + param + `::text[]) AS value`
}

func (postgresDialect) listArg(ids []string) (any, error) { return ids, nil }

// appendEvents sends a request's rows as arrays in one statement: one round trip.
func appendPostgres(ctx context.Context, tx *sql.Tx, rows []eventRow) (int, error) {
	n := len(rows)
	var (
		mid, typ, name, uid, aid, gid, pid, body = make([]string, n), make([]string, n), make([]string, n),
			make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		ts, recv   = make([]int64, n), make([]int64, n)
		orig, sent = make([]*int64, n), make([]*int64, n)
	)
	for i, r := range rows {
		mid[i], typ[i], name[i], uid[i], aid[i], gid[i], pid[i], body[i] =
			r.messageID, r.typ, r.name, r.userID, r.anonymousID, r.groupID, r.previousID, r.body
		ts[i], recv[i] = r.ts, r.receivedAt
		if r.originalTS.Valid {
			orig[i] = &rows[i].originalTS.Int64
		}
		if r.sentAt.Valid {
			sent[i] = &rows[i].sentAt.Int64
		}
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO events
		(message_id, type, name, user_id, anonymous_id, group_id, previous_id, ts, original_ts, sent_at, received_at, body)
		SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
			$8::bigint[], $9::bigint[], $10::bigint[], $11::bigint[], $12::text[])
		ON CONFLICT (message_id) DO NOTHING`,
		mid, typ, name, uid, aid, gid, pid, ts, orig, sent, recv, body)
	if err != nil {
		return 0, err
	}
	k, err := res.RowsAffected()
	return int(k), err
}

// openPostgres opens a pool; PostgreSQL takes concurrent writers, so appends
// run in their own transactions and the server's own group commit applies.
func openPostgres(ctx context.Context, dsn string) (*DB, error) {
	p, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, err
	}
	p.SetMaxOpenConns(16)
	p.SetMaxIdleConns(16)
	if err := p.PingContext(ctx); err != nil {
		p.Close()
		return nil, fmt.Errorf("postgres: %w", err)
	}
	db := &DB{w: p, r: p, d: postgresDialect{}, log: rowLog{r: p}}
	db.appends = func(ctx context.Context, rows []eventRow) (n int, err error) {
		err = db.inTx(ctx, func(tx *sql.Tx) error {
			n, err = appendPostgres(ctx, tx, rows)
			return err
		})
		return n, err
	}
	return db, nil
}

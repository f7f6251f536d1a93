package store

import (
	"context"
	"database/sql"
	"strings"
	"time"
)

// CreateKey stores a key's hash and returns it with its id.
func (db *DB) CreateKey(ctx context.Context, k Key) (Key, error) {
	if k.CreatedAt.IsZero() {
		k.CreatedAt = time.Now().UTC()
	}
	err := db.w.QueryRowContext(ctx,
		`INSERT INTO keys (kind, name, hash, prefix, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
		k.Kind, k.Name, k.Hash, k.Prefix, ms(k.CreatedAt)).Scan(&k.ID)
	if isUniqueViolation(err) {
		return Key{}, ErrConflict
	}
	k.CreatedAt = fromMS(ms(k.CreatedAt)) // as stored: to the millisecond
	return k, err
}

// isUniqueViolation: both engines say "unique" in the message of a
// duplicate key (SQLite: UNIQUE constraint failed; PostgreSQL: 23505,
// duplicate key value violates unique constraint).
func isUniqueViolation(err error) bool {
	return err != nil && strings.Contains(strings.ToLower(err.Error()), "unique")
}

const keyColumns = `id, kind, name, hash, prefix, created_at, revoked_at, last_used_at`

func scanKey(row interface{ Scan(...any) error }) (Key, error) {
	var k Key
	var created, revoked, used int64
	err := row.Scan(&k.ID, &k.Kind, &k.Name, &k.Hash, &k.Prefix, &created, &revoked, &used)
	k.CreatedAt, k.RevokedAt, k.LastUsedAt = fromMS(created), fromMS(revoked), fromMS(used)
	return k, err
}

// KeyByHash finds a key by the hash of its secret, revoked or not.
func (db *DB) KeyByHash(ctx context.Context, hash []byte) (Key, error) {
	k, err := scanKey(db.r.QueryRowContext(ctx, `SELECT `+keyColumns+` FROM keys WHERE hash = $1`, hash))
	return k, notFound(err, "key")
}

// Keys lists every key, oldest first, revoked ones included.
func (db *DB) Keys(ctx context.Context) ([]Key, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT `+keyColumns+` FROM keys ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Key
	for rows.Next() {
		k, err := scanKey(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// RevokeKey makes a key stop working at: now, or later for a rotation's
// grace. A key revoked already keeps the earlier end. ErrNotFound if there
// is no such key.
func (db *DB) RevokeKey(ctx context.Context, id int64, at time.Time) (Key, error) {
	var k Key
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE keys SET revoked_at = $2 WHERE id = $1 AND (revoked_at = 0 OR revoked_at > $2)`,
			id, ms(at)); err != nil {
			return err
		}
		var err error
		k, err = scanKey(tx.QueryRowContext(ctx, `SELECT `+keyColumns+` FROM keys WHERE id = $1`, id))
		return notFound(err, "key")
	})
	return k, err
}

// TouchKey records that a key let a request in at.
func (db *DB) TouchKey(ctx context.Context, id int64, at time.Time) error {
	_, err := db.w.ExecContext(ctx, `UPDATE keys SET last_used_at = $2 WHERE id = $1 AND last_used_at < $2`, id, ms(at))
	return err
}

package store

import (
	"context"
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
	return k, err
}

// isUniqueViolation: both engines say "unique" in the message of a
// duplicate key (SQLite: UNIQUE constraint failed; PostgreSQL: 23505,
// duplicate key value violates unique constraint).
func isUniqueViolation(err error) bool {
	return err != nil && strings.Contains(strings.ToLower(err.Error()), "unique")
}

// KeyByHash finds a key by the hash of its secret.
func (db *DB) KeyByHash(ctx context.Context, hash []byte) (Key, error) {
	var k Key
	var created int64
	err := db.r.QueryRowContext(ctx, `SELECT id, kind, name, hash, prefix, created_at FROM keys WHERE hash = $1`, hash).
		Scan(&k.ID, &k.Kind, &k.Name, &k.Hash, &k.Prefix, &created)
	k.CreatedAt = fromMS(created)
	return k, notFound(err, "key")
}

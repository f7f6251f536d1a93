package store

import (
	"context"
)

// CRMAccounts returns every account imported from the CRM.
func (db *DB) CRMAccounts(ctx context.Context) ([]Account, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT `+accountColumns+` FROM accounts WHERE kind = 'crm' ORDER BY id`)
	if err != nil {
		return nil, err
	}
	return scanAccounts(rows)
}

// Account returns one account.
func (db *DB) Account(ctx context.Context, id string) (Account, error) {
	return getAccount(ctx, db.r, id)
}

// AccountUsers returns the memberships of an account's users.
func (db *DB) AccountUsers(ctx context.Context, id string) ([]Membership, error) {
	return memberships(ctx, db.r, `WHERE account_id = $1`, id)
}

// User returns one user.
func (db *DB) User(ctx context.Context, id string) (User, error) { return getUser(ctx, db.r, id) }

// UserAccounts returns a user's memberships.
func (db *DB) UserAccounts(ctx context.Context, id string) ([]Membership, error) {
	return memberships(ctx, db.r, `WHERE user_id = $1`, id)
}

// Stats counts events, users and accounts, and users by how they were matched.
func (db *DB) Stats(ctx context.Context) (Stats, error) {
	s := Stats{Accounts: map[string]int64{}, UsersByMethod: map[string]int64{}}
	err := db.r.QueryRowContext(ctx, `SELECT
		(SELECT count(*) FROM events), (SELECT count(*) FROM users),
		(SELECT count(*) FROM users u WHERE NOT EXISTS (SELECT 1 FROM memberships m WHERE m.user_id = u.id)),
		(SELECT count(DISTINCT m.user_id) FROM memberships m JOIN accounts a ON a.id = m.account_id
			WHERE a.kind = 'crm' OR a.crm_id <> '')`).Scan(&s.Events, &s.Users, &s.Unresolved, &s.CRMMatched)
	if err != nil {
		return Stats{}, err
	}
	if err := countInto(ctx, db, `SELECT kind, count(*) FROM accounts GROUP BY kind`, s.Accounts); err != nil {
		return Stats{}, err
	}
	// A user counts once, under the strongest method that links it.
	err = countInto(ctx, db, `SELECT CASE rank WHEN 1 THEN 'group' WHEN 2 THEN 'domain' WHEN 3 THEN 'name' ELSE 'individual' END,
		count(*) FROM (
		SELECT user_id, min(CASE method WHEN 'group' THEN 1 WHEN 'domain' THEN 2 WHEN 'name' THEN 3 ELSE 4 END) AS rank
		FROM memberships GROUP BY user_id) best GROUP BY rank`, s.UsersByMethod)
	return s, err
}

func countInto(ctx context.Context, db *DB, q string, into map[string]int64) error {
	rows, err := db.r.QueryContext(ctx, q)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var k string
		var n int64
		if err := rows.Scan(&k, &n); err != nil {
			return err
		}
		into[k] = n
	}
	return rows.Err()
}

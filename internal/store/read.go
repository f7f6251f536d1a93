package store

import (
	"context"
	"database/sql"
	"errors"
	"github.com/beaconplg/beacon/internal/event"
	"maps"
	"math"
	"time"
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

// LinkedAccounts returns the workspaces linked to a CRM account (its Beacon
// id, crm:…).
func (db *DB) LinkedAccounts(ctx context.Context, crmAccountID string) ([]Account, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT `+accountColumns+` FROM accounts
		WHERE crm_id = $1 AND crm_id <> '' AND kind = 'group' ORDER BY name, id`, crmAccountID)
	if err != nil {
		return nil, err
	}
	return scanAccounts(rows)
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
	events, err := db.log.count(ctx)
	if err != nil {
		return Stats{}, err
	}
	s.Events = events
	err = db.r.QueryRowContext(ctx, `SELECT
		(SELECT count(*) FROM users),
		(SELECT count(*) FROM users u WHERE NOT EXISTS (SELECT 1 FROM memberships m WHERE m.user_id = u.id)),
		(SELECT count(DISTINCT m.user_id) FROM memberships m JOIN accounts a ON a.id = m.account_id
			WHERE a.kind = 'crm' OR a.crm_id <> '')`).Scan(&s.Users, &s.Unresolved, &s.CRMMatched)
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

// UsersIn returns the users among ids; unknown ids are absent.
func (db *DB) UsersIn(ctx context.Context, ids []string) ([]User, error) {
	return usersIn(ctx, db.r, db.d, ids)
}

// AliasesIn maps those of anonymousIDs that belong to a user to that user.
func (db *DB) AliasesIn(ctx context.Context, anonymousIDs []string) (map[string]string, error) {
	return aliasesIn(ctx, db.r, db.d, anonymousIDs)
}

// AllAliases returns every alias, anonymous id → user id: a replay of the
// whole stream reads them once instead of a batch's at a time. With asOf
// not zero, it leaves out the ties made after it.
func (db *DB) AllAliases(ctx context.Context, asOf time.Time) (map[string]string, error) {
	until := int64(math.MaxInt64)
	if !asOf.IsZero() {
		until = ms(asOf)
	}
	rows, err := db.r.QueryContext(ctx, `SELECT anonymous_id, user_id FROM aliases WHERE tied_at <= $1`, until)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	return out, addPairs(rows, out)
}

// MembershipsIn returns the memberships of the given users.
func (db *DB) MembershipsIn(ctx context.Context, userIDs []string) ([]Membership, error) {
	return membershipsIn(ctx, db.r, db.d, "user_id", userIDs)
}

// MembershipsOfAccounts returns the memberships of the given accounts.
func (db *DB) MembershipsOfAccounts(ctx context.Context, accountIDs []string) ([]Membership, error) {
	return membershipsIn(ctx, db.r, db.d, "account_id", accountIDs)
}

// AllMemberships returns every membership, in no order: sorted, the
// primary key's index would be walked, with a table lookup per row.
func (db *DB) AllMemberships(ctx context.Context) ([]Membership, error) {
	return wholeTable(ctx, db, "memberships", membershipColumns, scanMemberships)
}

// wholeTable reads every row of a table, in the table's order, with scan
// appending to a slice sized by a count first: grown row by row, a large
// table's slice was copied a dozen times.
func wholeTable[T any](ctx context.Context, db *DB, table, columns string, scan func(*sql.Rows, []T) ([]T, error)) ([]T, error) {
	var n int
	if err := db.r.QueryRowContext(ctx, `SELECT count(*) FROM `+table).Scan(&n); err != nil {
		return nil, err
	}
	rows, err := db.r.QueryContext(ctx, `SELECT `+columns+` FROM `+table)
	if err != nil {
		return nil, err
	}
	return scan(rows, make([]T, 0, n))
}

// AllAccounts returns every account.
func (db *DB) AllAccounts(ctx context.Context) ([]Account, error) {
	return wholeTable(ctx, db, "accounts", accountColumns, scanAccountsInto)
}

// EmailDomains returns the email domain of every user who has one. It reads
// the table in order: filtered in SQL, the partial index on email_domain
// would be walked instead, with a table lookup per user.
func (db *DB) EmailDomains(ctx context.Context) (map[string]string, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT id, email_domain FROM users`)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	if err := addPairs(rows, out); err != nil {
		return nil, err
	}
	maps.DeleteFunc(out, func(_, domain string) bool { return domain == "" })
	return out, nil
}

// AccountsIn returns the accounts among ids; unknown ids are absent.
func (db *DB) AccountsIn(ctx context.Context, ids []string) ([]Account, error) {
	return collectIn(db.d, ids, func(arg any) ([]Account, error) {
		rows, err := db.r.QueryContext(ctx, `SELECT `+accountColumns+` FROM accounts WHERE id IN (`+db.d.inList("$1")+`)`, arg)
		if err != nil {
			return nil, err
		}
		return scanAccounts(rows)
	})
}

// Cursor reads a projection's position; one never written is the start.
func (db *DB) Cursor(ctx context.Context, name string) (Cursor, error) {
	var c Cursor
	var tx int64
	err := db.r.QueryRowContext(ctx, `SELECT tx, seq FROM cursors WHERE name = $1`, name).Scan(&tx, &c.Seq)
	if errors.Is(err, sql.ErrNoRows) {
		return Cursor{}, nil
	}
	c.Tx = uint64(tx)
	return c, err
}

// AllAccountsLean returns every account with only its id, kind, domains,
// employees, open opportunity and CRM id: what a pass over all of them
// needs (the metrics' segments and billing links), without decoding
// every account's traits.
func (db *DB) AllAccountsLean(ctx context.Context) ([]Account, error) {
	return wholeTable(ctx, db, "accounts", `id, kind, domains, employees, open_opportunity, crm_id`,
		func(rows *sql.Rows, as []Account) ([]Account, error) {
			defer rows.Close()
			for rows.Next() {
				var a Account
				var domains string
				if err := rows.Scan(&a.ID, &a.Kind, &domains, &a.Employees, &a.OpenOpportunity, &a.CRMID); err != nil {
					return nil, err
				}
				if domains != "[]" {
					if err := event.Unmarshal([]byte(domains), &a.Domains); err != nil {
						return nil, err
					}
				}
				as = append(as, a)
			}
			return as, rows.Err()
		})
}

// AllMembershipPairs returns every membership with only its user and
// account: what a pass over all of them needs to know who is in which
// account.
func (db *DB) AllMembershipPairs(ctx context.Context) ([]Membership, error) {
	return wholeTable(ctx, db, "memberships", `user_id, account_id`, func(rows *sql.Rows, ms []Membership) ([]Membership, error) {
		defer rows.Close()
		for rows.Next() {
			var m Membership
			if err := rows.Scan(&m.UserID, &m.AccountID); err != nil {
				return nil, err
			}
			ms = append(ms, m)
		}
		return ms, rows.Err()
	})
}

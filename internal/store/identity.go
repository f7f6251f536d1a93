package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"time"

	"github.com/beaconplg/beacon/internal/event"
)

// Project runs fn inside one write transaction. It retries nothing: the
// caller's cursor makes the work safe to run again.
func (db *DB) Project(ctx context.Context, fn func(IdentityTx) error) error {
	return db.inTx(ctx, func(tx *sql.Tx) error { return fn(db.prepared(tx)) })
}

// prepared wraps a write transaction so that each statement text is prepared
// once in it.
func (db *DB) prepared(tx *sql.Tx) *idTx {
	return &idTx{tx: tx, d: db.d, stmts: map[string]*sql.Stmt{}}
}

// queryer is what both a pool and a transaction offer.
type queryer interface {
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row
	ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error)
}

// idTx prepares each statement once per transaction: a projection pass runs
// the same few statements thousands of times, and parsing them is most of the
// cost of running them.
type idTx struct {
	tx    *sql.Tx
	d     dialect
	stmts map[string]*sql.Stmt
}

var (
	_ IdentityTx = (*idTx)(nil)
	_ queryer    = (*idTx)(nil)
)

func (t *idTx) stmt(ctx context.Context, q string) (*sql.Stmt, error) {
	if s, ok := t.stmts[q]; ok {
		return s, nil
	}
	s, err := t.tx.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	t.stmts[q] = s
	return s, nil
}

func (t *idTx) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	s, err := t.stmt(ctx, q)
	if err != nil {
		return nil, err
	}
	return s.QueryContext(ctx, args...)
}

func (t *idTx) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	s, err := t.stmt(ctx, q)
	if err != nil {
		return t.tx.QueryRowContext(ctx, q, args...) // reports the same error through Scan
	}
	return s.QueryRowContext(ctx, args...)
}

func (t *idTx) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	s, err := t.stmt(ctx, q)
	if err != nil {
		return nil, err
	}
	return s.ExecContext(ctx, args...)
}

func (t *idTx) Cursor(ctx context.Context, name string) (Cursor, error) {
	if _, err := t.ExecContext(ctx, `INSERT INTO cursors (name) VALUES ($1) ON CONFLICT (name) DO NOTHING`, name); err != nil {
		return Cursor{}, err
	}
	var c Cursor
	var tx int64
	err := t.QueryRowContext(ctx, `SELECT tx, seq FROM cursors WHERE name = $1`+t.d.forUpdate(), name).Scan(&tx, &c.Seq)
	c.Tx = uint64(tx)
	return c, err
}

// SetCursor stores a cursor, whether or not it was read in this
// transaction first: an update alone would drop one never stored.
func (t *idTx) SetCursor(ctx context.Context, name string, c Cursor) error {
	_, err := t.ExecContext(ctx, `INSERT INTO cursors (name, tx, seq) VALUES ($1, $2, $3)
		ON CONFLICT (name) DO UPDATE SET tx = excluded.tx, seq = excluded.seq`, name, int64(c.Tx), c.Seq)
	return err
}

const userColumns = `id, email, email_domain, company, traits, traits_at, first_seen, last_seen`

func (t *idTx) User(ctx context.Context, id string) (User, error) { return getUser(ctx, t, id) }

func getUser(ctx context.Context, q queryer, id string) (User, error) {
	var u User
	var traits string
	var traitsAt, first, last int64
	err := q.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE id = $1`, id).
		Scan(&u.ID, &u.Email, &u.EmailDomain, &u.Company, &traits, &traitsAt, &first, &last)
	if err != nil {
		return User{}, notFound(err, "user "+id)
	}
	u.TraitsAt, u.FirstSeen, u.LastSeen = fromMS(traitsAt), fromMS(first), fromMS(last)
	return u, decodeMap(new(event.ObjectDecoder), traits, &u.Traits)
}

// listChunk bounds the ids of one many-at-once read.
const listChunk = 1000

// inChunks runs fn over ids in slices of at most listChunk, with the list
// argument the dialect expects.
func inChunks(d dialect, ids []string, fn func(arg any) error) error {
	for len(ids) > 0 {
		n := min(len(ids), listChunk)
		arg, err := d.listArg(ids[:n])
		if err != nil {
			return err
		}
		if err := fn(arg); err != nil {
			return err
		}
		ids = ids[n:]
	}
	return nil
}

// collectIn gathers what fn reads for each chunk of ids.
func collectIn[T any](d dialect, ids []string, fn func(arg any) ([]T, error)) ([]T, error) {
	var out []T
	err := inChunks(d, ids, func(arg any) error {
		got, err := fn(arg)
		out = append(out, got...)
		return err
	})
	return out, err
}

func (t *idTx) UsersIn(ctx context.Context, ids []string) ([]User, error) {
	return usersIn(ctx, t, t.d, ids)
}

func usersIn(ctx context.Context, q queryer, d dialect, ids []string) ([]User, error) {
	var out []User
	err := inChunks(d, ids, func(arg any) error {
		rows, err := q.QueryContext(ctx, `SELECT `+userColumns+` FROM users WHERE id IN (`+d.inList("$1")+`)`, arg)
		if err != nil {
			return err
		}
		defer rows.Close()
		var dec event.ObjectDecoder
		for rows.Next() {
			var u User
			var traits string
			var traitsAt, first, last int64
			if err := rows.Scan(&u.ID, &u.Email, &u.EmailDomain, &u.Company, &traits, &traitsAt, &first, &last); err != nil {
				return err
			}
			u.TraitsAt, u.FirstSeen, u.LastSeen = fromMS(traitsAt), fromMS(first), fromMS(last)
			if err := decodeMap(&dec, traits, &u.Traits); err != nil {
				return err
			}
			out = append(out, u)
		}
		return rows.Err()
	})
	return out, err
}

func (t *idTx) AliasesIn(ctx context.Context, anonymousIDs []string) (map[string]string, error) {
	return aliasesIn(ctx, t, t.d, anonymousIDs)
}

func aliasesIn(ctx context.Context, q queryer, d dialect, anonymousIDs []string) (map[string]string, error) {
	out := map[string]string{}
	err := inChunks(d, anonymousIDs, func(arg any) error {
		rows, err := q.QueryContext(ctx, `SELECT anonymous_id, user_id FROM aliases WHERE anonymous_id IN (`+d.inList("$1")+`)`, arg)
		if err != nil {
			return err
		}
		return addPairs(rows, out)
	})
	return out, err
}

// addPairs adds rows of two strings, key and value, to out: an alias and
// its user, a user and their email domain.
func addPairs(rows *sql.Rows, out map[string]string) error {
	defer rows.Close()
	for rows.Next() {
		var anon, uid string
		if err := rows.Scan(&anon, &uid); err != nil {
			return err
		}
		out[anon] = uid
	}
	return rows.Err()
}

func (t *idTx) MembershipsIn(ctx context.Context, userIDs []string) ([]Membership, error) {
	return membershipsIn(ctx, t, t.d, "user_id", userIDs)
}

// membershipsIn reads the memberships whose column (user_id or account_id)
// is one of ids.
func membershipsIn(ctx context.Context, q queryer, d dialect, column string, ids []string) ([]Membership, error) {
	var out []Membership
	err := inChunks(d, ids, func(arg any) error {
		ms, err := memberships(ctx, q, `WHERE `+column+` IN (`+d.inList("$1")+`)`, arg)
		out = append(out, ms...)
		return err
	})
	return out, err
}

func (t *idTx) PutUser(ctx context.Context, u User) error { return t.PutUsers(ctx, []User{u}) }

// userRow is a user as its columns hold it, in userColumns order.
type userRow struct {
	id, email, domain, company, traits string
	traitsAt, firstSeen, lastSeen      int64
}

// userChunk users go in one statement: one round trip, one parse.
const userChunk = 100

const userUpsert = ` ON CONFLICT (id) DO UPDATE SET email = excluded.email, email_domain = excluded.email_domain,
	company = excluded.company, traits = excluded.traits, traits_at = excluded.traits_at,
	first_seen = excluded.first_seen, last_seen = excluded.last_seen`

// PutUsers creates or replaces users, many to a statement.
func (t *idTx) PutUsers(ctx context.Context, us []User) error {
	for len(us) > 0 {
		n := min(len(us), userChunk)
		rows := make([]userRow, n)
		for i, u := range us[:n] {
			traits, err := encodeMap(u.Traits)
			if err != nil {
				return err
			}
			rows[i] = userRow{id: u.ID, email: u.Email, domain: u.EmailDomain, company: u.Company, traits: traits,
				traitsAt: ms(u.TraitsAt), firstSeen: ms(u.FirstSeen), lastSeen: ms(u.LastSeen)}
		}
		if err := t.d.upsertUsers(ctx, t, rows); err != nil {
			return err
		}
		us = us[n:]
	}
	return nil
}

func (t *idTx) AliasOf(ctx context.Context, anonymousID string) (string, error) {
	var id string
	err := t.QueryRowContext(ctx, `SELECT user_id FROM aliases WHERE anonymous_id = $1`, anonymousID).Scan(&id)
	return id, notFound(err, "alias")
}

func (t *idTx) PutAlias(ctx context.Context, anonymousID, userID string) error {
	return t.PutAliases(ctx, map[string]Alias{anonymousID: {UserID: userID}})
}

// PutAliases ties anonymous ids to users, many to a statement: on PostgreSQL
// each statement is a round trip.
func (t *idTx) PutAliases(ctx context.Context, aliases map[string]Alias) error {
	anons := slices.Sorted(maps.Keys(aliases))
	return insertRows(ctx, t.d, t, `INSERT INTO aliases (anonymous_id, user_id, tied_at) VALUES `,
		` ON CONFLICT (anonymous_id) DO UPDATE SET user_id = excluded.user_id, tied_at = excluded.tied_at`, 3, len(anons),
		func(i int, args []any) []any {
			a := aliases[anons[i]]
			return append(args, anons[i], a.UserID, tiedAt(a.At))
		})
}

// tiedAt is an alias's time as stored: 0, before every instant replayed as
// of, for a tie without one.
func tiedAt(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return ms(t)
}

func (t *idTx) UsersWithEmailDomain(ctx context.Context, domain string) ([]string, error) {
	// The second condition lets the planner use the partial index on
	// email_domain: it cannot see that a bound domain is never ''. Without
	// it, every call scanned all users.
	return queryStrings(ctx, t, `SELECT id FROM users WHERE email_domain = $1 AND email_domain <> '' ORDER BY id`, domain)
}

func (t *idTx) UsersWithoutGroup(ctx context.Context) ([]string, error) {
	return queryStrings(ctx, t, `SELECT id FROM users u WHERE NOT EXISTS
		(SELECT 1 FROM memberships m WHERE m.user_id = u.id AND m.method = 'group') ORDER BY id`)
}

const accountColumns = `id, kind, name, domains, traits, traits_at, owner, employees, industry,
	open_opportunity, named, crm_id, crm_method, crm_confidence, created_at`

func (t *idTx) Account(ctx context.Context, id string) (Account, error) {
	return getAccount(ctx, t, id)
}

func getAccount(ctx context.Context, q queryer, id string) (Account, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+accountColumns+` FROM accounts WHERE id = $1`, id)
	if err != nil {
		return Account{}, err
	}
	as, err := scanAccounts(rows)
	if err != nil {
		return Account{}, err
	}
	if len(as) == 0 {
		return Account{}, notFound(sql.ErrNoRows, "account "+id)
	}
	return as[0], nil
}

func scanAccounts(rows *sql.Rows) ([]Account, error) {
	return scanAccountsInto(rows, nil)
}

// scanAccountsInto appends the accounts rows hold to as, sized by the caller
// when it knows how many to expect.
func scanAccountsInto(rows *sql.Rows, as []Account) ([]Account, error) {
	defer rows.Close()
	var dec event.ObjectDecoder
	for rows.Next() {
		var a Account
		var domains, traits string
		var traitsAt, created int64
		if err := rows.Scan(&a.ID, &a.Kind, &a.Name, &domains, &traits, &traitsAt, &a.Owner, &a.Employees,
			&a.Industry, &a.OpenOpportunity, &a.Named, &a.CRMID, &a.CRMMethod, &a.CRMConfidence, &created); err != nil {
			return nil, err
		}
		a.TraitsAt, a.CreatedAt = fromMS(traitsAt), fromMS(created)
		if err := errors.Join(event.Unmarshal([]byte(domains), &a.Domains), decodeMap(&dec, traits, &a.Traits)); err != nil {
			return nil, err
		}
		as = append(as, a)
	}
	return as, rows.Err()
}

func (t *idTx) PutAccount(ctx context.Context, a Account) error {
	traits, err := encodeMap(a.Traits)
	if err != nil {
		return err
	}
	if a.Domains == nil {
		a.Domains = []string{}
	}
	domains, err := json.Marshal(a.Domains)
	if err != nil {
		return err
	}
	_, err = t.ExecContext(ctx, `INSERT INTO accounts (`+accountColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
		ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, name = excluded.name, domains = excluded.domains,
			traits = excluded.traits, traits_at = excluded.traits_at, owner = excluded.owner,
			employees = excluded.employees, industry = excluded.industry,
			open_opportunity = excluded.open_opportunity, named = excluded.named, crm_id = excluded.crm_id,
			crm_method = excluded.crm_method, crm_confidence = excluded.crm_confidence`,
		a.ID, a.Kind, a.Name, string(domains), traits, ms(a.TraitsAt), a.Owner, a.Employees, a.Industry,
		a.OpenOpportunity, a.Named, a.CRMID, a.CRMMethod, a.CRMConfidence, ms(a.CreatedAt))
	return err
}

func (t *idTx) DeleteAccount(ctx context.Context, id string) error {
	_, err := t.ExecContext(ctx, `DELETE FROM accounts WHERE id = $1`, id)
	return err
}

func (t *idTx) DomainOwner(ctx context.Context, domain string) (string, error) {
	var id string
	err := t.QueryRowContext(ctx, `SELECT account_id FROM account_domains WHERE domain = $1`, domain).Scan(&id)
	return id, notFound(err, "domain "+domain)
}

func (t *idTx) SetDomainOwner(ctx context.Context, domain, accountID string) error {
	_, err := t.ExecContext(ctx, `INSERT INTO account_domains (domain, account_id) VALUES ($1, $2)
		ON CONFLICT (domain) DO UPDATE SET account_id = excluded.account_id`, domain, accountID)
	return err
}

func (t *idTx) AccountsOfKind(ctx context.Context, kind string) ([]Account, error) {
	rows, err := t.QueryContext(ctx, `SELECT `+accountColumns+` FROM accounts WHERE kind = $1 ORDER BY id`, kind)
	if err != nil {
		return nil, err
	}
	return scanAccounts(rows)
}

func (t *idTx) IndexEvents(ctx context.Context, refs []EventRef) error {
	if len(refs) == 0 {
		return nil
	}
	return t.d.insertEventUsers(ctx, t, refs)
}

const membershipColumns = `user_id, account_id, method, confidence, created_at`

func (t *idTx) Memberships(ctx context.Context, userID string) ([]Membership, error) {
	return memberships(ctx, t, `WHERE user_id = $1`, userID)
}

func memberships(ctx context.Context, q queryer, where string, args ...any) ([]Membership, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+membershipColumns+` FROM memberships `+where+` ORDER BY user_id, account_id`, args...)
	if err != nil {
		return nil, err
	}
	return scanMemberships(rows, nil)
}

func scanMemberships(rows *sql.Rows, ms []Membership) ([]Membership, error) {
	defer rows.Close()
	for rows.Next() {
		var m Membership
		var created int64
		if err := rows.Scan(&m.UserID, &m.AccountID, &m.Method, &m.Confidence, &created); err != nil {
			return nil, err
		}
		m.CreatedAt = fromMS(created)
		ms = append(ms, m)
	}
	return ms, rows.Err()
}

func (t *idTx) PutMembership(ctx context.Context, m Membership) error {
	return t.PutMemberships(ctx, []Membership{m})
}

// PutMemberships writes links, many to a statement. Each (user, account)
// appears at most once.
func (t *idTx) PutMemberships(ctx context.Context, links []Membership) error {
	return insertRows(ctx, t.d, t, `INSERT INTO memberships (`+membershipColumns+`) VALUES `,
		` ON CONFLICT (user_id, account_id) DO UPDATE SET method = excluded.method, confidence = excluded.confidence`, 5, len(links),
		func(i int, args []any) []any {
			m := links[i]
			return append(args, m.UserID, m.AccountID, m.Method, m.Confidence, ms(m.CreatedAt))
		})
}

func (t *idTx) DeleteMembership(ctx context.Context, userID, accountID string) error {
	_, err := t.ExecContext(ctx, `DELETE FROM memberships WHERE user_id = $1 AND account_id = $2`, userID, accountID)
	return err
}

func (t *idTx) MemberCount(ctx context.Context, accountID string) (int, error) {
	var n int
	err := t.QueryRowContext(ctx, `SELECT count(*) FROM memberships WHERE account_id = $1`, accountID).Scan(&n)
	return n, err
}

func (t *idTx) MemberEmailDomains(ctx context.Context, accountID string) ([]string, error) {
	return queryStrings(ctx, t, `SELECT DISTINCT u.email_domain FROM memberships m JOIN users u ON u.id = m.user_id
		WHERE m.account_id = $1 AND u.email_domain <> '' ORDER BY u.email_domain`, accountID)
}

func queryStrings(ctx context.Context, q queryer, query string, args ...any) ([]string, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

func encodeMap(m map[string]any) (string, error) {
	if len(m) == 0 {
		return "{}", nil
	}
	b, err := json.Marshal(m)
	return string(b), err
}

// decodeMap decodes stored traits; dec is the caller's, reused for a table's
// rows.
func decodeMap(dec *event.ObjectDecoder, s string, m *map[string]any) error {
	if s == "" {
		*m = map[string]any{}
		return nil
	}
	var err error
	*m, err = dec.Decode([]byte(s))
	return err
}

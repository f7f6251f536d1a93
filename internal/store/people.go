package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// Roles of people who sign in to the web app.
const (
	RoleAdmin  = "admin"
	RoleMember = "member"
)

// Person is someone who signs in to the web app.
type Person struct {
	ID           int64
	Email        string
	Name         string
	Role         string
	PasswordHash []byte
	CreatedAt    time.Time
}

// Session is a signed-in browser: kept as the hash of its cookie.
type Session struct {
	Hash      []byte
	PersonID  int64
	CSRF      string
	CreatedAt time.Time
	ExpiresAt time.Time
}

const personColumns = `id, email, name, role, password_hash, created_at`

// AddPerson creates a person; ErrConflict if the email is taken.
func (db *DB) AddPerson(ctx context.Context, p Person) (Person, error) {
	err := db.w.QueryRowContext(ctx, `INSERT INTO people (email, name, role, password_hash, created_at)
		VALUES ($1, $2, $3, $4, $5) RETURNING id`, strings.ToLower(p.Email), p.Name, p.Role, p.PasswordHash,
		ms(p.CreatedAt)).Scan(&p.ID)
	if isUniqueViolation(err) {
		return Person{}, fmt.Errorf("person %s: %w", p.Email, ErrConflict)
	}
	p.Email = strings.ToLower(p.Email)
	return p, err
}

// PersonByEmail finds a person by email, in any case.
func (db *DB) PersonByEmail(ctx context.Context, email string) (Person, error) {
	return db.person(ctx, `WHERE email = $1`, strings.ToLower(email))
}

// PersonByID finds a person by id.
func (db *DB) PersonByID(ctx context.Context, id int64) (Person, error) {
	return db.person(ctx, `WHERE id = $1`, id)
}

func (db *DB) person(ctx context.Context, where string, arg any) (Person, error) {
	var p Person
	var created int64
	err := db.r.QueryRowContext(ctx, `SELECT `+personColumns+` FROM people `+where, arg).Scan(&p.ID, &p.Email, &p.Name,
		&p.Role, &p.PasswordHash, &created)
	p.CreatedAt = fromMS(created)
	return p, notFound(err, "person")
}

// CountPeople says how many people can sign in.
func (db *DB) CountPeople(ctx context.Context) (int, error) {
	var n int
	err := db.r.QueryRowContext(ctx, `SELECT count(*) FROM people`).Scan(&n)
	return n, err
}

// AddSession stores a session, and drops the expired ones while at it.
func (db *DB) AddSession(ctx context.Context, s Session) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at <= $1`, ms(s.CreatedAt)); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO sessions (hash, person_id, csrf, created_at, expires_at)
			VALUES ($1, $2, $3, $4, $5)`, s.Hash, s.PersonID, s.CSRF, ms(s.CreatedAt), ms(s.ExpiresAt))
		return err
	})
}

// SessionByHash returns a session that has not expired at now.
func (db *DB) SessionByHash(ctx context.Context, hash []byte, now time.Time) (Session, error) {
	var s Session
	var created, expires int64
	err := db.r.QueryRowContext(ctx, `SELECT hash, person_id, csrf, created_at, expires_at FROM sessions
		WHERE hash = $1 AND expires_at > $2`, hash, ms(now)).Scan(&s.Hash, &s.PersonID, &s.CSRF, &created, &expires)
	s.CreatedAt, s.ExpiresAt = fromMS(created), fromMS(expires)
	return s, notFound(err, "session")
}

// DeleteSession ends a session; ending one that is gone is no error.
func (db *DB) DeleteSession(ctx context.Context, hash []byte) error {
	_, err := db.w.ExecContext(ctx, `DELETE FROM sessions WHERE hash = $1`, hash)
	return err
}

// ListPeople returns everyone who can sign in, by email.
func (db *DB) ListPeople(ctx context.Context) ([]Person, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT `+personColumns+` FROM people ORDER BY email`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Person
	for rows.Next() {
		var p Person
		var created int64
		if err := rows.Scan(&p.ID, &p.Email, &p.Name, &p.Role, &p.PasswordHash, &created); err != nil {
			return nil, err
		}
		p.CreatedAt = fromMS(created)
		out = append(out, p)
	}
	return out, rows.Err()
}

// SignedOnPerson records a person single sign-on vouched for: a new one
// with no password, or one known by email whose role becomes the one the
// provider's claims give (and whose name, if the provider sends one). The
// provider is the source of truth for roles of whoever signs in through it.
func (db *DB) SignedOnPerson(ctx context.Context, email, name, role string, at time.Time) (Person, error) {
	var p Person
	var created int64
	err := db.w.QueryRowContext(ctx, `INSERT INTO people (email, name, role, password_hash, created_at)
		VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (email) DO UPDATE SET role = excluded.role,
			name = CASE WHEN excluded.name <> '' THEN excluded.name ELSE people.name END
		RETURNING `+personColumns, strings.ToLower(email), name, role, []byte{}, ms(at)).
		Scan(&p.ID, &p.Email, &p.Name, &p.Role, &p.PasswordHash, &created)
	p.CreatedAt = fromMS(created)
	return p, err
}

package store

import (
	"context"
	"database/sql"
	"time"
)

// Note is something a person wrote on an account; holds write one too, so
// that the notes read as the account's log.
type Note struct {
	ID        int64
	AccountID string
	Author    string
	Body      string
	CreatedAt time.Time
}

// Hold kinds: an account snoozed until a date, or disqualified; either lasts
// only until the account's tier on the scorecard rises.
const (
	HoldSnooze     = "snooze"
	HoldDisqualify = "disqualify"
)

// Hold keeps an account out of one scorecard's queue.
type Hold struct {
	Scorecard string
	Subject   string // "account:<id>"
	Kind      string
	Reason    string
	Until     time.Time // zero: no date (a disqualification)
	Tier      string    // the tier it was held in
	By        string
	CreatedAt time.Time
}

// Active reports whether the hold still keeps its account out at now.
func (h Hold) Active(now time.Time) bool { return h.Until.IsZero() || h.Until.After(now) }

// AddNote writes a note and returns it with its id.
func (db *DB) AddNote(ctx context.Context, n Note) (Note, error) {
	err := db.inTx(ctx, func(tx *sql.Tx) error { return insertNote(ctx, tx, &n) })
	return n, err
}

func insertNote(ctx context.Context, tx *sql.Tx, n *Note) error {
	return tx.QueryRowContext(ctx, `INSERT INTO notes (account_id, author, body, created_at) VALUES ($1, $2, $3, $4)
		RETURNING id`, n.AccountID, n.Author, n.Body, ms(n.CreatedAt)).Scan(&n.ID)
}

// Notes returns an account's notes, newest first.
func (db *DB) Notes(ctx context.Context, accountID string, limit int) ([]Note, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT id, account_id, author, body, created_at FROM notes
		WHERE account_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2`, accountID, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Note
	for rows.Next() {
		var n Note
		var at int64
		if err := rows.Scan(&n.ID, &n.AccountID, &n.Author, &n.Body, &at); err != nil {
			return nil, err
		}
		n.CreatedAt = fromMS(at)
		out = append(out, n)
	}
	return out, rows.Err()
}

// PutHold holds an account out of a scorecard's queue (replacing any hold
// it had there) and writes note with it. A hold without a Tier takes the
// subject's current tier on that scorecard, read in the same statement so
// the tier a rise is judged against is the one the hold was made in. It
// returns the hold as stored.
func (db *DB) PutHold(ctx context.Context, h Hold, note Note) (Hold, error) {
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `INSERT INTO holds (scorecard, subject, kind, reason, ends_at, tier, by_whom, created_at)
			VALUES ($1, $2, $3, $4, $5,
				COALESCE(NULLIF($6, ''), (SELECT tier FROM scores WHERE scorecard = $1 AND subject = $2), ''), $7, $8)
			ON CONFLICT (scorecard, subject) DO UPDATE SET kind = excluded.kind, reason = excluded.reason,
				ends_at = excluded.ends_at, tier = excluded.tier, by_whom = excluded.by_whom, created_at = excluded.created_at
			RETURNING tier`,
			h.Scorecard, h.Subject, h.Kind, h.Reason, ms(h.Until), h.Tier, h.By, ms(h.CreatedAt)).Scan(&h.Tier)
		if err != nil {
			return err
		}
		return insertNote(ctx, tx, &note)
	})
	return h, err
}

// DeleteHold returns an account to a scorecard's queue and writes note with
// it; ErrNotFound if it was not held there.
func (db *DB) DeleteHold(ctx context.Context, scorecard, subject string, note Note) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM holds WHERE scorecard = $1 AND subject = $2`, scorecard, subject)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return notFound(orNoRows(err), "hold on "+subject)
		}
		return insertNote(ctx, tx, &note)
	})
}

// HoldsOf returns the holds on a subject, on every scorecard, expired ones
// included (see Hold.Active).
func (db *DB) HoldsOf(ctx context.Context, subject string) ([]Hold, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT scorecard, subject, kind, reason, ends_at, tier, by_whom, created_at
		FROM holds WHERE subject = $1 ORDER BY scorecard`, subject)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Hold
	for rows.Next() {
		var h Hold
		var until, at int64
		if err := rows.Scan(&h.Scorecard, &h.Subject, &h.Kind, &h.Reason, &until, &h.Tier, &h.By, &at); err != nil {
			return nil, err
		}
		h.Until, h.CreatedAt = fromMS(until), fromMS(at)
		out = append(out, h)
	}
	return out, rows.Err()
}

func orNoRows(err error) error {
	if err == nil {
		return sql.ErrNoRows
	}
	return err
}

package store

import (
	"context"
	"database/sql"
	"strconv"
	"time"
)

// Stages that quarantine what they cannot apply.
const (
	StageIdentity = "identity" // an event identity could not project
	StageScoring  = "scoring"  // a subject the rules could not score
	StageSignals  = "signals"  // an event the signal rollups could not take
)

// Quarantined is a message a stage could not apply and set aside, so that
// it went on with the rest. An identity row names an event by its place in
// the stream (Seq, Tx); a scoring row names a subject (Seq 0).
type Quarantined struct {
	ID        int64
	Stage     string
	Seq       int64
	Tx        uint64
	MessageID string
	// UserID and AccountID are whom the message concerns, for their pages.
	UserID, AccountID string
	Error             string
	// Attempts counts the tries: the first, then each retry.
	Attempts                  int
	FirstAt, LastAt, Resolved time.Time
}

// Cursor is the place in the stream of a quarantined event: reading after
// the one before it reads it.
func (q Quarantined) Cursor() Cursor { return Cursor{Tx: q.Tx, Seq: q.Seq} }

// QuarantineQuery selects quarantined messages, newest first.
type QuarantineQuery struct {
	Open      bool   // only those not yet resolved
	Stage     string // "" for every stage
	UserID    string // "" for anyone
	AccountID string // "" for any account
	Limit     int
}

const quarantineColumns = `id, stage, seq, tx, message_id, user_id, account_id, error, attempts, first_at, last_at, resolved_at`

// putQuarantined records q, or, if the same message is open already, its
// new error and one more attempt.
func putQuarantined(ctx context.Context, q queryer, r Quarantined) error {
	at := ms(r.LastAt)
	_, err := q.ExecContext(ctx, `INSERT INTO quarantine
		(stage, seq, tx, message_id, user_id, account_id, error, first_at, last_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)
		ON CONFLICT (stage, seq, tx, user_id, account_id) WHERE resolved_at = 0
		DO UPDATE SET error = excluded.error, last_at = excluded.last_at, attempts = quarantine.attempts + 1`,
		r.Stage, r.Seq, int64(r.Tx), r.MessageID, r.UserID, r.AccountID, r.Error, at)
	return err
}

// quarantineScores writes what a scoring batch quarantined and resolved.
func quarantineScores(ctx context.Context, q queryer, b ScoreBatch) error {
	for _, r := range b.Quarantined {
		if err := putQuarantined(ctx, q, r); err != nil {
			return err
		}
	}
	for _, r := range b.Recovered {
		if _, err := q.ExecContext(ctx, `UPDATE quarantine SET resolved_at = $1, last_at = $1
			WHERE stage = $2 AND seq = 0 AND tx = 0 AND user_id = $3 AND account_id = $4 AND resolved_at = 0`,
			ms(r.LastAt), r.Stage, r.UserID, r.AccountID); err != nil {
			return err
		}
	}
	return nil
}

// Quarantine records a message identity could not apply, in the pass's
// transaction: the cursor moves past it with the same commit.
func (t *idTx) Quarantine(ctx context.Context, r Quarantined) error {
	return putQuarantined(ctx, t, r)
}

// QuarantineEvent records an event a stage outside identity's transactions
// (the signal rollups, in memory) could not take.
func (db *DB) QuarantineEvent(ctx context.Context, r Quarantined) error {
	return putQuarantined(ctx, db.w, r)
}

// ResolveQuarantined marks a row applied at a retry.
func (t *idTx) ResolveQuarantined(ctx context.Context, id int64, at time.Time) error {
	_, err := t.ExecContext(ctx, `UPDATE quarantine SET resolved_at = $2, last_at = $2 WHERE id = $1`, id, ms(at))
	return err
}

// RetryFailed records that a retry of an open row failed again.
func (db *DB) RetryFailed(ctx context.Context, id int64, reason string, at time.Time) error {
	_, err := db.w.ExecContext(ctx, `UPDATE quarantine SET error = $2, last_at = $3, attempts = attempts + 1
		WHERE id = $1 AND resolved_at = 0`, id, reason, ms(at))
	return err
}

// ResolveScoring resolves the open rows of scoring and of the signal stage
// among ids (every one, if none), and bumps the identity epoch in the same
// transaction, so that a running scorer takes the events again and
// rescores everyone (recording again what still fails). It returns how
// many rows it resolved.
func (db *DB) ResolveScoring(ctx context.Context, epochName string, ids []int64, at time.Time) (int, error) {
	var n int64
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		resolve := `UPDATE quarantine SET resolved_at = $2, last_at = $2 WHERE stage IN ($1, $3) AND resolved_at = 0`
		for _, id := range ids {
			res, err := tx.ExecContext(ctx, resolve+` AND id = $4`, StageScoring, ms(at), StageSignals, id)
			if err != nil {
				return err
			}
			k, err := res.RowsAffected()
			if err != nil {
				return err
			}
			n += k
		}
		if len(ids) == 0 {
			res, err := tx.ExecContext(ctx, resolve, StageScoring, ms(at), StageSignals)
			if err != nil {
				return err
			}
			if n, err = res.RowsAffected(); err != nil {
				return err
			}
		}
		if n == 0 {
			return nil
		}
		id := db.prepared(tx)
		epoch, err := id.Cursor(ctx, epochName)
		if err != nil {
			return err
		}
		return id.SetCursor(ctx, epochName, Cursor{Seq: epoch.Seq + 1})
	})
	return int(n), err
}

// QuarantinedList lists quarantined messages, newest first.
func (db *DB) QuarantinedList(ctx context.Context, q QuarantineQuery) ([]Quarantined, error) {
	where, args := `WHERE 1 = 1`, []any{}
	add := func(cond string, v any) {
		args = append(args, v)
		where += ` AND ` + cond + ` = $` + strconv.Itoa(len(args))
	}
	if q.Open {
		add(`resolved_at`, 0)
	}
	if q.Stage != "" {
		add(`stage`, q.Stage)
	}
	if q.UserID != "" {
		add(`user_id`, q.UserID)
	}
	if q.AccountID != "" {
		add(`account_id`, q.AccountID)
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 100
	}
	args = append(args, limit)
	rows, err := db.r.QueryContext(ctx, `SELECT `+quarantineColumns+` FROM quarantine `+where+
		` ORDER BY id DESC LIMIT $`+strconv.Itoa(len(args)), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Quarantined
	for rows.Next() {
		var r Quarantined
		var tx, first, last, resolved int64
		if err := rows.Scan(&r.ID, &r.Stage, &r.Seq, &tx, &r.MessageID, &r.UserID, &r.AccountID, &r.Error,
			&r.Attempts, &first, &last, &resolved); err != nil {
			return nil, err
		}
		r.Tx, r.FirstAt, r.LastAt, r.Resolved = uint64(tx), fromMS(first), fromMS(last), fromMS(resolved)
		out = append(out, r)
	}
	return out, rows.Err()
}

package store

import (
	"context"
	"time"
)

// AuditEntry is one line of the audit log: who did what to what, when.
// Actor is a person's email, "cli:<user>" for the command line, "token
// <prefix>" for an admin token, or "signal" for a reload by SIGHUP.
type AuditEntry struct {
	ID                     int64
	At                     time.Time
	Actor, Action, Subject string
	Detail                 string
}

// Audit actions, as the log names them.
const (
	AuditKeyCreated      = "key created"
	AuditKeyRevoked      = "key revoked"
	AuditKeyRotated      = "key rotated"
	AuditPersonAdded     = "person added"
	AuditRulesReloaded   = "rules reloaded"
	AuditRulesRefused    = "rules refused"
	AuditQuarantineRetry = "quarantine retried"
	AuditDeliveriesRetry = "deliveries retried"
	AuditSignIn          = "signed in"
	AuditSignInFailed    = "sign-in failed"
	AuditSignInRefused   = "sign-in refused"
)

// Audit adds e to the log; a zero At is now.
func (db *DB) Audit(ctx context.Context, e AuditEntry) error {
	if e.At.IsZero() {
		e.At = time.Now()
	}
	_, err := db.w.ExecContext(ctx, `INSERT INTO audit_log (at, actor, action, subject, detail) VALUES ($1, $2, $3, $4, $5)`,
		ms(e.At), e.Actor, e.Action, e.Subject, e.Detail)
	return err
}

// AuditLog lists the log newest first: limit entries older than the entry
// before (0: from the newest).
func (db *DB) AuditLog(ctx context.Context, before int64, limit int) ([]AuditEntry, error) {
	if before <= 0 {
		before = 1<<63 - 1
	}
	rows, err := db.r.QueryContext(ctx, `SELECT id, at, actor, action, subject, detail FROM audit_log
		WHERE id < $1 ORDER BY id DESC LIMIT $2`, before, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []AuditEntry
	for rows.Next() {
		var e AuditEntry
		var at int64
		if err := rows.Scan(&e.ID, &at, &e.Actor, &e.Action, &e.Subject, &e.Detail); err != nil {
			return nil, err
		}
		e.At = fromMS(at)
		out = append(out, e)
	}
	return out, rows.Err()
}

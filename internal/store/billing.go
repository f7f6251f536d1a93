package store

import (
	"context"
	"encoding/json"
	"time"
)

// BillingEvent is one event of a billing system, as it sent it.
type BillingEvent struct {
	ID       string // the billing system's (Stripe's evt_…)
	Source   string // "stripe"
	Type     string // customer.subscription.updated, invoice.paid, …
	Customer string // the billing system's customer it is about, if any
	// Created is when the billing system made it; ReceivedAt when Beacon
	// stored it.
	Created, ReceivedAt time.Time
	Body                json.RawMessage
}

// AddBillingEvent stores e unless an event with its id is stored already
// (a retried webhook, an export loaded twice); it reports whether e was
// new.
func (db *DB) AddBillingEvent(ctx context.Context, e BillingEvent) (bool, error) {
	res, err := db.w.ExecContext(ctx, `INSERT INTO billing_events (id, source, type, created, customer, received_at, body)
		VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO NOTHING`,
		e.ID, e.Source, e.Type, ms(e.Created), e.Customer, ms(e.ReceivedAt), string(e.Body))
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// BillingEvents returns up to limit stored billing events in the order
// the billing system made them.
func (db *DB) BillingEvents(ctx context.Context, limit int) ([]BillingEvent, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT id, source, type, created, customer, received_at, body
		FROM billing_events ORDER BY created, id LIMIT $1`, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []BillingEvent
	for rows.Next() {
		var e BillingEvent
		var created, received int64
		var body string
		if err := rows.Scan(&e.ID, &e.Source, &e.Type, &created, &e.Customer, &received, &body); err != nil {
			return nil, err
		}
		e.Created, e.ReceivedAt, e.Body = fromMS(created), fromMS(received), json.RawMessage(body)
		out = append(out, e)
	}
	return out, rows.Err()
}

// BillingCount is how many billing events are stored: a reader that built
// something from them knows by it whether more came.
func (db *DB) BillingCount(ctx context.Context) (int, error) {
	var n int
	err := db.r.QueryRowContext(ctx, `SELECT count(*) FROM billing_events`).Scan(&n)
	return n, err
}

package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math"
	"time"

	"github.com/beaconplg/beacon/internal/event"
)

// eventRow is an event as its columns hold it.
type eventRow struct {
	messageID, typ, name, userID, anonymousID, groupID, previousID string
	ts, receivedAt                                                 int64
	originalTS, sentAt                                             sql.NullInt64
	body                                                           string
	digest                                                         digest // of messageID; SQLite only
}

func toRows(evs []event.Event) []eventRow {
	rows := make([]eventRow, len(evs))
	for i, e := range evs {
		rows[i] = eventRow{
			messageID: e.MessageID, typ: e.Type, name: e.Name, userID: e.UserID,
			anonymousID: e.AnonymousID, groupID: e.GroupID, previousID: e.PreviousID,
			ts: ms(e.Timestamp), receivedAt: ms(e.ReceivedAt),
			originalTS: nullMS(e.OriginalTimestamp), sentAt: nullMS(e.SentAt),
			body: string(e.Body),
		}
	}
	return rows
}

// AppendEvents stores the events whose messageId is new, in one transaction,
// and returns how many were new. A duplicate messageId is not an error: it is
// the retry of a message already stored.
func (db *DB) AppendEvents(ctx context.Context, evs []event.Event) (int, error) {
	if len(evs) == 0 {
		return 0, nil
	}
	return db.appends(ctx, toRows(evs))
}

const eventColumns = `seq, message_id, type, name, user_id, anonymous_id, group_id, previous_id, ts, original_ts, sent_at, received_at, body`

// EventsAfter returns up to limit committed events after c, in commit order,
// and the cursor of the last one.
func (db *DB) EventsAfter(ctx context.Context, c Cursor, limit int) ([]event.Event, Cursor, error) {
	return db.readEvents(ctx, c, db.d.eventsAfterSQL(eventColumns), append(db.d.cursorArgs(c), limit))
}

// identityColumns are what identity resolution reads of an event: a body
// only where it holds traits that it merges (identify and group calls). A
// track event's body is most of its row, and most events are track events.
const identityColumns = `seq, message_id, type, user_id, anonymous_id, group_id, previous_id, ts,
	CASE WHEN type IN ('identify', 'group') THEN body ELSE '' END`

// IdentityEventsAfter is EventsAfter with only what identity resolution
// reads: ids, type, timestamp and the traits of identify and group calls.
// Names, other times, bodies and properties are left empty. The events this
// process committed last come from memory (tail).
func (db *DB) IdentityEventsAfter(ctx context.Context, c Cursor, limit int) ([]event.Event, Cursor, error) {
	if rows, ok := db.tail.rows(c.Seq, math.MaxInt64, limit); ok {
		evs := make([]event.Event, len(rows))
		for i := range rows {
			evs[i] = rows[i].identityEvent(c.Seq + 1 + int64(i))
		}
		return evs, Cursor{Seq: evs[len(evs)-1].Seq}, nil
	}
	rows, err := db.r.QueryContext(ctx, db.d.eventsAfterSQL(identityColumns), append(db.d.cursorArgs(c), limit)...)
	if err != nil {
		return nil, c, err
	}
	defer rows.Close()
	var evs []event.Event
	var tx uint64
	for rows.Next() {
		var e event.Event
		var ts int64
		var body sql.RawBytes
		if err := rows.Scan(&e.Seq, &e.MessageID, &e.Type, &e.UserID, &e.AnonymousID, &e.GroupID, &e.PreviousID,
			&ts, &body, &tx); err != nil {
			return nil, c, err
		}
		e.Timestamp = fromMS(ts)
		if len(body) > 0 {
			e.Traits, _ = event.BodyParts(body) // copies: body is the driver's until the next row
		}
		evs = append(evs, e)
	}
	if err := rows.Err(); err != nil || len(evs) == 0 {
		return nil, c, err
	}
	return evs, Cursor{Tx: tx, Seq: evs[len(evs)-1].Seq}, nil
}

func (db *DB) readEvents(ctx context.Context, c Cursor, query string, args []any) ([]event.Event, Cursor, error) {
	rows, err := db.r.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, c, err
	}
	evs, lastTx, err := scanEvents(rows)
	if err != nil || len(evs) == 0 {
		return nil, c, err
	}
	return evs, Cursor{Tx: lastTx, Seq: evs[len(evs)-1].Seq}, nil
}

// Split cuts the stream between after and upTo into at most n parts of at
// least least events that can be read at once, as the cursors that bound
// them. Only SQLite's stream, where sequence order is commit order, is cut.
func (db *DB) Split(after, upTo Cursor, n int, least int64) []Cursor {
	span := upTo.Seq - after.Seq
	if db.d.name() != "sqlite" || n < 2 || span < 2*least {
		return []Cursor{after, upTo}
	}
	n = min(n, int(span/least))
	out := []Cursor{after}
	for i := 1; i < n; i++ {
		out = append(out, Cursor{Seq: after.Seq + span*int64(i)/int64(n)})
	}
	return append(out, upTo)
}

// Bodies says whose properties ScanLean must return: every event's, or
// those of track events with one of Names. Reading only the bodies a
// reader needs is much of what makes rescoring from all events fast.
type Bodies struct {
	All   bool
	Names []string
}

// ScanLean reads the events after c up to upTo in commit order and hands
// them to fn batch by batch with the cursor of each batch's last event.
// Events carry no timestamps other than their own, no body and no traits:
// only Properties, and only where bodies asks for them (or more). Where the
// stream is packed (Pack), a batch is a block; the events this process
// committed last come from memory (tail); the rest is read as rows.
func (db *DB) ScanLean(ctx context.Context, c, upTo Cursor, batch int, bodies Bodies, fn func([]event.Event, Cursor) error) error {
	for c != upTo {
		rows, ok := db.tail.rows(c.Seq, upTo.Seq, batch)
		if !ok {
			break
		}
		evs := make([]event.Event, len(rows))
		for i := range rows {
			evs[i] = rows[i].leanEvent(c.Seq+1+int64(i), bodies)
		}
		c = Cursor{Seq: evs[len(evs)-1].Seq}
		if err := fn(evs, c); err != nil {
			return err
		}
	}
	if c == upTo {
		return nil
	}
	blocks, err := db.blocksIn(ctx, c, upTo, bodies)
	if err != nil {
		return err
	}
	for _, b := range blocks {
		if b.after.less(c) {
			continue // overlaps what was read: not one chain
		}
		if c != b.after {
			if err := db.scanLeanRows(ctx, c, b.after, batch, bodies, fn); err != nil {
				return err
			}
		}
		evs, err := db.readBlock(ctx, b.after)
		if err != nil {
			return err
		}
		if err := fn(evs, b.last); err != nil {
			return err
		}
		c = b.last
	}
	if c == upTo {
		return nil
	}
	return db.scanLeanRows(ctx, c, upTo, batch, bodies, fn)
}

// scanLeanRows is ScanLean over the rows, batch events at a time.
func (db *DB) scanLeanRows(ctx context.Context, c, upTo Cursor, batch int, bodies Bodies, fn func([]event.Event, Cursor) error) error {
	evs := make([]event.Event, 0, batch)
	var last Cursor
	err := db.eachLeanRow(ctx, c, upTo, bodies, func(e event.Event, at Cursor) error {
		evs, last = append(evs, e), at
		if len(evs) < batch {
			return nil
		}
		err := fn(evs, at)
		evs = make([]event.Event, 0, batch)
		return err
	})
	if err != nil || len(evs) == 0 {
		return err
	}
	return fn(evs, last)
}

// eachLeanRow reads the events after c up to upTo in commit order, in one
// query, and hands each to fn with its cursor. One query rather than one
// per batch: planners estimate stream ranges badly, and PostgreSQL would
// sort the rest of the stream again for every batch.
func (db *DB) eachLeanRow(ctx context.Context, c, upTo Cursor, bodies Bodies, fn func(event.Event, Cursor) error) error {
	args := append(append(db.d.cursorArgs(c), db.d.cursorArgs(upTo)...), math.MaxInt64)
	body := "body"
	if !bodies.All {
		names, err := db.d.listArg(bodies.Names)
		if err != nil {
			return err
		}
		args = append(args, names)
		body = fmt.Sprintf(`CASE WHEN type = 'track' AND name IN (%s) THEN body ELSE '' END`, db.d.inList(fmt.Sprintf("$%d", len(args))))
	}
	rows, err := db.r.QueryContext(ctx, db.d.eventsRangeSQL(`seq, type, name, user_id, anonymous_id, group_id, previous_id, ts, `+body), args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	// A few types and names make up every event: one string each.
	names := map[string]string{}
	intern := func(b sql.RawBytes) string {
		s, ok := names[string(b)]
		if !ok {
			s = string(b)
			names[s] = s
		}
		return s
	}
	for rows.Next() {
		var e event.Event
		var ts int64
		var tx uint64
		var typ, name, b sql.RawBytes
		if err := rows.Scan(&e.Seq, &typ, &name, &e.UserID, &e.AnonymousID, &e.GroupID, &e.PreviousID, &ts, &b, &tx); err != nil {
			return err
		}
		e.Type, e.Name, e.Timestamp = intern(typ), intern(name), fromMS(ts)
		if len(b) > 0 {
			// The parts are copies: b is the driver's until the next row.
			_, e.Properties = event.BodyParts(b)
		}
		if err := fn(e, Cursor{Tx: tx, Seq: e.Seq}); err != nil {
			return err
		}
	}
	return rows.Err()
}

// UserEvents returns a user's latest events, newest first, including those sent
// under anonymous ids before the user was identified.
func (db *DB) UserEvents(ctx context.Context, userID string, limit int) ([]event.Event, error) {
	return db.UserEventsBefore(ctx, userID, EventPos{}, limit)
}

// EventPos is a place in a timeline: events before it are older. The zero
// EventPos is after every event.
type EventPos struct {
	TS  time.Time
	Seq int64
}

// UserEventsBefore is UserEvents for the events before pos, to page back.
func (db *DB) UserEventsBefore(ctx context.Context, userID string, pos EventPos, limit int) ([]event.Event, error) {
	ts, seq := int64(math.MaxInt64), int64(math.MaxInt64)
	if !pos.TS.IsZero() {
		ts, seq = pos.TS.UnixMilli(), pos.Seq
	}
	rows, err := db.r.QueryContext(ctx, db.d.timelineSQL(), userID, limit, ts, seq)
	if err != nil {
		return nil, err
	}
	evs, _, err := scanEvents(rows)
	return evs, err
}

// scanEvents reads event rows and the transaction id of the last one.
func scanEvents(rows *sql.Rows) ([]event.Event, uint64, error) {
	defer rows.Close()
	var evs []event.Event
	var tx uint64
	for rows.Next() {
		var e event.Event
		if err := scanEvent(rows, &e, &tx); err != nil {
			return nil, 0, err
		}
		evs = append(evs, e)
	}
	return evs, tx, rows.Err()
}

func scanEvent(rows *sql.Rows, e *event.Event, tx *uint64) error {
	var ts, received int64
	var orig, sent sql.NullInt64
	var body string
	err := rows.Scan(&e.Seq, &e.MessageID, &e.Type, &e.Name, &e.UserID, &e.AnonymousID, &e.GroupID,
		&e.PreviousID, &ts, &orig, &sent, &received, &body, tx)
	if err != nil {
		return err
	}
	e.Timestamp, e.ReceivedAt = fromMS(ts), fromMS(received)
	e.OriginalTimestamp, e.SentAt = fromMS(orig.Int64), fromMS(sent.Int64)
	e.Body = json.RawMessage(body)
	e.Traits, e.Properties = event.BodyParts(e.Body)
	return nil
}

package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math"
	"strconv"

	"github.com/beaconplg/beacon/internal/event"
)

// rowLog reads PostgreSQL's stream: a row an event. Several writers commit
// out of sequence order there, so a reader only passes rows of transactions
// older than the oldest one still running: nothing can later appear behind
// its cursor, which is a transaction id and a seq.
type rowLog struct {
	r *sql.DB
	d postgresDialect
}

func (rowLog) cursorArgs(c Cursor) []any { return []any{strconv.FormatUint(c.Tx, 10), c.Seq} }

// afterSQL selects columns and the tx of the committed events after
// cursorArgs(c), with a limit after those.
//
// The stream is ordered by events.tx, not tx: the output column
// tx::text::bigint is also named tx, an unqualified ORDER BY means it, and
// PostgreSQL then sorted every row after the cursor instead of reading
// events_stream in order (a second instead of 20 ms for 5,000 of 230,000).
func (rowLog) afterSQL(columns string) string {
	return `SELECT ` + columns + `, tx::text::bigint FROM events
		WHERE (tx, seq) > ($1::text::xid8, $2)
		  AND tx < pg_snapshot_xmin(pg_current_snapshot())
		ORDER BY events.tx, events.seq LIMIT $3`
}

// rangeSQL selects columns and the tx of the events after cursorArgs(after)
// up to cursorArgs(upTo), with a limit after those. A range ends at a cursor
// already handed out, so its rows are all visible.
func (rowLog) rangeSQL(columns string) string {
	return `SELECT ` + columns + `, tx::text::bigint FROM events
		WHERE (tx, seq) > ($1::text::xid8, $2) AND (tx, seq) <= ($3::text::xid8, $4)
		ORDER BY events.tx, events.seq LIMIT $5`
}

const eventColumns = `seq, message_id, type, name, user_id, anonymous_id, group_id, previous_id, ts, original_ts, sent_at, received_at, body`

// identityColumns are what identity resolution reads of an event, and what
// the stages after it read: a body only where it holds traits that identity
// merges (identify and group calls) or properties the signals read
// (bodyWanted). A track event's body is most of its row, and most events
// are track events.
const identityColumns = `seq, message_id, type, name, user_id, anonymous_id, group_id, previous_id, ts, `

// bodyWanted is the body column where bodies, or identity, want it, and
// the arguments it adds after args.
func (l rowLog) bodyWanted(bodies Bodies, args []any, identity bool) (string, []any, error) {
	if bodies.All {
		return "body", args, nil
	}
	names, err := l.d.listArg(bodies.Names)
	if err != nil {
		return "", nil, err
	}
	args = append(args, names)
	cond := fmt.Sprintf(`type = 'track' AND name IN (%s)`, l.d.inList(fmt.Sprintf("$%d", len(args))))
	if identity {
		cond = `type IN ('identify', 'group') OR (` + cond + `)`
	}
	return `CASE WHEN ` + cond + ` THEN body ELSE '' END`, args, nil
}

func (l rowLog) eventsAfter(ctx context.Context, c Cursor, limit int) ([]event.Event, Cursor, error) {
	rows, err := l.r.QueryContext(ctx, l.afterSQL(eventColumns), append(l.cursorArgs(c), limit)...)
	if err != nil {
		return nil, c, err
	}
	evs, lastTx, err := scanEvents(rows)
	if err != nil || len(evs) == 0 {
		return nil, c, err
	}
	return evs, Cursor{Tx: lastTx, Seq: evs[len(evs)-1].Seq}, nil
}

func (l rowLog) identityEventsAfter(ctx context.Context, c Cursor, limit int, bodies Bodies) ([]event.Event, Cursor, error) {
	body, args, err := l.bodyWanted(bodies, append(l.cursorArgs(c), limit), true)
	if err != nil {
		return nil, c, err
	}
	rows, err := l.r.QueryContext(ctx, l.afterSQL(identityColumns+body), args...)
	if err != nil {
		return nil, c, err
	}
	defer rows.Close()
	var evs []event.Event
	var tx uint64
	for rows.Next() {
		var e event.Event
		var ts int64
		var b sql.RawBytes
		if err := rows.Scan(&e.Seq, &e.MessageID, &e.Type, &e.Name, &e.UserID, &e.AnonymousID, &e.GroupID, &e.PreviousID,
			&ts, &b, &tx); err != nil {
			return nil, c, err
		}
		e.Timestamp, e.Tx = fromMS(ts), tx
		if len(b) > 0 {
			// The parts are copies: b is the driver's until the next row.
			traits, props := event.BodyParts(b)
			if e.Type == event.Identify || e.Type == event.Group {
				e.Traits = traits
			}
			if bodies.want(e.Type, e.Name) {
				e.Properties = props
			}
		}
		evs = append(evs, e)
	}
	if err := rows.Err(); err != nil || len(evs) == 0 {
		return nil, c, err
	}
	return evs, Cursor{Tx: tx, Seq: evs[len(evs)-1].Seq}, nil
}

// eachLean reads the range in one query, not one per batch: planners
// estimate stream ranges badly, and PostgreSQL would sort the rest of the
// stream again for every batch.
func (l rowLog) eachLean(ctx context.Context, c, upTo Cursor, bodies Bodies, fn func(event.Event, Cursor) error) error {
	args := append(append(l.cursorArgs(c), l.cursorArgs(upTo)...), math.MaxInt64)
	body, args, err := l.bodyWanted(bodies, args, false)
	if err != nil {
		return err
	}
	rows, err := l.r.QueryContext(ctx, l.rangeSQL(`seq, type, name, user_id, anonymous_id, group_id, previous_id, ts, `+body), args...)
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

func (l rowLog) timeline(ctx context.Context, userID string, limit int, ts, seq int64, after bool) ([]event.Event, error) {
	place, order := `(ts < $3 OR (ts = $3 AND seq < $4))`, `ts DESC, seq DESC`
	if after {
		place, order = `(ts > $3 OR (ts = $3 AND seq > $4))`, `ts, seq`
	}
	rows, err := l.r.QueryContext(ctx, `SELECT `+eventColumns+`, 0 FROM events WHERE seq IN (
			SELECT seq FROM (SELECT DISTINCT ts, seq FROM event_users
				WHERE (key = 'user:' || $1 OR key IN (SELECT 'anon:' || anonymous_id FROM aliases WHERE user_id = $1))
					AND `+place+`) mine
			ORDER BY `+order+` LIMIT $2)
		ORDER BY `+order, userID, limit, ts, seq)
	if err != nil {
		return nil, err
	}
	evs, _, err := scanEvents(rows)
	return evs, err
}

func (l rowLog) daily(ctx context.Context, users []string, from, to int64) ([]DayCount, error) {
	return scanDays(l.r.QueryContext(ctx, `WITH us AS (SELECT unnest($1::text[]) AS u),
		mykeys AS (SELECT 'user:' || u AS k, u FROM us
			UNION SELECT 'anon:' || a.anonymous_id, a.user_id FROM aliases a JOIN us ON a.user_id = us.u)
		SELECT e.ts / 86400000 AS day, count(DISTINCT e.seq), count(DISTINCT mykeys.u)
		FROM mykeys JOIN event_users e ON e.key = mykeys.k WHERE e.ts >= $2 AND e.ts < $3
		GROUP BY day ORDER BY day`, users, from, to))
}

func (l rowLog) firstTimes(ctx context.Context, keys []string) (map[string]int64, error) {
	return scanFirstTimes(l.r.QueryContext(ctx, `SELECT key, min(ts) FROM event_users WHERE key = ANY($1::text[]) GROUP BY key`, keys))
}

func (l rowLog) count(ctx context.Context) (int64, error) {
	var n int64
	err := l.r.QueryRowContext(ctx, `SELECT count(*) FROM events`).Scan(&n)
	return n, err
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
	e.Timestamp, e.ReceivedAt, e.Tx = fromMS(ts), fromMS(received), *tx
	e.OriginalTimestamp, e.SentAt = fromMS(orig.Int64), fromMS(sent.Int64)
	e.Body = json.RawMessage(body)
	e.Traits, e.Properties = event.BodyParts(e.Body)
	return nil
}

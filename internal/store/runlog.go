package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/beaconplg/beacon/internal/event"
)

// runLog reads SQLite's stream: from the tail where it holds the events
// asked for, else from the runs (runs.go). Seq order is commit order
// there, so a read needs no transaction ids.
type runLog struct {
	r    *sql.DB
	tail *tail
}

// each calls fn with the events after seq after, up to upTo and at most
// limit of them, in order.
func (l *runLog) each(ctx context.Context, after, upTo int64, limit int, fn func(seq int64, r *eventRow) error) error {
	for limit > 0 && after < upTo {
		rows, ok := l.tail.rows(after, upTo, limit)
		if !ok {
			break
		}
		for i := range rows {
			if err := fn(after+1+int64(i), &rows[i]); err != nil {
				return err
			}
		}
		after, limit = after+int64(len(rows)), limit-len(rows)
	}
	if limit <= 0 || after >= upTo {
		return nil
	}
	rows, err := l.r.QueryContext(ctx, runsAfterSQL, after)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() && limit > 0 {
		first, evs, err := scanRun(rows)
		if err != nil {
			return err
		}
		for i := range evs {
			seq := first + int64(i)
			if seq <= after {
				continue
			}
			if seq > upTo || limit == 0 {
				return nil
			}
			if err := fn(seq, &evs[i]); err != nil {
				return err
			}
			limit--
		}
	}
	return rows.Err()
}

// scanRun decodes the run a row of last_seq, n, data holds and returns the
// seq of its first event.
func scanRun(rows *sql.Rows) (int64, []eventRow, error) {
	var last int64
	var n int
	var data sql.RawBytes
	if err := rows.Scan(&last, &n, &data); err != nil {
		return 0, nil, err
	}
	evs, err := decodeRun(data, n)
	if err != nil {
		return 0, nil, fmt.Errorf("event run ending at %d: %w", last, err)
	}
	return last - int64(n) + 1, evs, nil
}

// at returns the events of seqs that the log holds, by seq: a run is read
// once however many of them it holds.
func (l *runLog) at(ctx context.Context, seqs []int64) (map[int64]eventRow, error) {
	found := make(map[int64]eventRow, len(seqs))
	seqs = slices.Sorted(slices.Values(seqs))
	for i := 0; i < len(seqs); {
		seq := seqs[i]
		if rows, ok := l.tail.rows(seq-1, seq, 1); ok {
			found[seq] = rows[0]
			i++
			continue
		}
		rows, err := l.r.QueryContext(ctx, runAtSQL, seq)
		if err != nil {
			return nil, err
		}
		first, evs, held := int64(0), []eventRow(nil), false
		if rows.Next() {
			held = true
			first, evs, err = scanRun(rows)
		}
		if err == nil {
			err = rows.Err()
		}
		rows.Close()
		if err != nil {
			return nil, err
		}
		if !held {
			return found, nil // no run holds seq or any after it
		}
		if seq < first {
			i++ // not stored
			continue
		}
		for ; i < len(seqs) && seqs[i] < first+int64(len(evs)); i++ {
			found[seqs[i]] = evs[seqs[i]-first].detached()
		}
	}
	return found, nil
}

// detached is r with strings of its own: a run's events share one string,
// which one of them taken alone would keep whole.
func (r eventRow) detached() eventRow {
	for _, s := range [...]*string{&r.messageID, &r.typ, &r.name, &r.userID, &r.anonymousID, &r.groupID, &r.previousID, &r.body} {
		*s = strings.Clone(*s)
	}
	return r
}

// The runs' reads, named for the plans a test checks (StreamPlans).
const (
	runsAfterSQL = `SELECT last_seq, n, data FROM event_runs WHERE last_seq > $1 ORDER BY last_seq`
	runAtSQL     = `SELECT last_seq, n, data FROM event_runs WHERE last_seq >= $1 ORDER BY last_seq LIMIT 1`
)

func (l *runLog) eventsAfter(ctx context.Context, c Cursor, limit int) ([]event.Event, Cursor, error) {
	return l.after(ctx, c, limit, (*eventRow).fullEvent)
}

func (l *runLog) identityEventsAfter(ctx context.Context, c Cursor, limit int, bodies Bodies) ([]event.Event, Cursor, error) {
	return l.after(ctx, c, limit, func(r *eventRow, seq int64) event.Event { return r.identityEvent(seq, bodies) })
}

func (l *runLog) after(ctx context.Context, c Cursor, limit int, conv func(*eventRow, int64) event.Event) ([]event.Event, Cursor, error) {
	var evs []event.Event
	err := l.each(ctx, c.Seq, math.MaxInt64, limit, func(seq int64, r *eventRow) error {
		evs = append(evs, conv(r, seq))
		return nil
	})
	if err != nil || len(evs) == 0 {
		return nil, c, err
	}
	return evs, Cursor{Seq: evs[len(evs)-1].Seq}, nil
}

func (l *runLog) eachLean(ctx context.Context, c, upTo Cursor, bodies Bodies, fn func(event.Event, Cursor) error) error {
	return l.each(ctx, c.Seq, upTo.Seq, math.MaxInt, func(seq int64, r *eventRow) error {
		return fn(r.leanEvent(seq, bodies), Cursor{Seq: seq})
	})
}

// timelineSQL selects the places of a user's events ($1), newest first,
// before the place ($3 ts, $4 seq), at most $2; timelineAfterSQL those
// after it, oldest first. They walk the parts from the newest down, seeking
// the user's keys in each.
const (
	timelineParts = `WITH RECURSIVE parts(p) AS (
		SELECT max(part) FROM event_users
		UNION ALL SELECT p - 1 FROM parts WHERE p > 0),
	mykeys(k) AS (SELECT 'user:' || $1 UNION SELECT 'anon:' || anonymous_id FROM aliases WHERE user_id = $1)
	SELECT ts, seq FROM (SELECT DISTINCT e.ts, e.seq FROM parts, mykeys, event_users e
		WHERE e.part = parts.p AND e.key = mykeys.k AND `
	timelineSQL      = timelineParts + `(e.ts < $3 OR (e.ts = $3 AND e.seq < $4))) mine ORDER BY ts DESC, seq DESC LIMIT $2`
	timelineAfterSQL = timelineParts + `(e.ts > $3 OR (e.ts = $3 AND e.seq > $4))) mine ORDER BY ts, seq LIMIT $2`
)

func (l *runLog) timeline(ctx context.Context, userID string, limit int, ts, seq int64, after bool) ([]event.Event, error) {
	query := timelineSQL
	if after {
		query = timelineAfterSQL
	}
	rows, err := l.r.QueryContext(ctx, query, userID, limit, ts, seq)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var seqs []int64
	for rows.Next() {
		var ts, seq int64
		if err := rows.Scan(&ts, &seq); err != nil {
			return nil, err
		}
		seqs = append(seqs, seq)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	found, err := l.at(ctx, seqs)
	if err != nil {
		return nil, err
	}
	evs := make([]event.Event, 0, len(seqs))
	for _, seq := range seqs {
		if r, ok := found[seq]; ok {
			evs = append(evs, r.fullEvent(seq))
		}
	}
	return evs, nil
}

// dailySQL counts the events of users ($1, a JSON list) and their visits
// between $2 and $3 a day, seeking their keys in every part.
const dailySQL = `WITH RECURSIVE parts(p) AS (
		SELECT max(part) FROM event_users
		UNION ALL SELECT p - 1 FROM parts WHERE p > 0),
	us(u) AS (SELECT value FROM json_each($1)),
	mykeys(k, u) AS (SELECT 'user:' || u, u FROM us
		UNION SELECT 'anon:' || a.anonymous_id, a.user_id FROM aliases a JOIN us ON a.user_id = us.u)
	SELECT e.ts / 86400000 AS day, count(DISTINCT e.seq), count(DISTINCT mykeys.u)
	FROM parts CROSS JOIN mykeys CROSS JOIN event_users e
	WHERE e.part = parts.p AND e.key = mykeys.k AND e.ts >= $2 AND e.ts < $3
	GROUP BY day ORDER BY day`

func (l *runLog) daily(ctx context.Context, users []string, from, to int64) ([]DayCount, error) {
	list, err := json.Marshal(users)
	if err != nil {
		return nil, err
	}
	return scanDays(l.r.QueryContext(ctx, dailySQL, string(list), from, to))
}

// firstTimesSQL seeks each key ($1, a JSON list) in every part.
const firstTimesSQL = `WITH RECURSIVE parts(p) AS (
		SELECT max(part) FROM event_users
		UNION ALL SELECT p - 1 FROM parts WHERE p > 0),
	keys(k) AS (SELECT value FROM json_each($1))
	SELECT e.key, min(e.ts) FROM parts CROSS JOIN keys CROSS JOIN event_users e
	WHERE e.part = parts.p AND e.key = keys.k GROUP BY e.key`

func (l *runLog) firstTimes(ctx context.Context, keys []string) (map[string]int64, error) {
	list, err := json.Marshal(keys)
	if err != nil {
		return nil, err
	}
	return scanFirstTimes(l.r.QueryContext(ctx, firstTimesSQL, string(list)))
}

func (l *runLog) count(ctx context.Context) (int64, error) {
	var n int64
	err := l.r.QueryRowContext(ctx, `SELECT coalesce(sum(n), 0) FROM event_runs`).Scan(&n)
	return n, err
}

// fullEvent is the whole event a row holds, as EventsAfter returns it.
func (r *eventRow) fullEvent(seq int64) event.Event {
	e := event.Event{Seq: seq, MessageID: r.messageID, Type: r.typ, Name: r.name, UserID: r.userID,
		AnonymousID: r.anonymousID, GroupID: r.groupID, PreviousID: r.previousID,
		Timestamp: fromMS(r.ts), ReceivedAt: fromMS(r.receivedAt),
		OriginalTimestamp: fromMS(r.originalTS.Int64), SentAt: fromMS(r.sentAt.Int64),
		Body: json.RawMessage(r.body)}
	e.Traits, e.Properties = event.BodyParts(e.Body)
	return e
}

package store

import (
	"context"
	"database/sql"
	"math"
	"slices"
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

// stream reads the committed event log in commit order: SQLite's runs
// (runLog) or PostgreSQL's rows (rowLog).
type stream interface {
	eventsAfter(ctx context.Context, c Cursor, limit int) ([]event.Event, Cursor, error)
	identityEventsAfter(ctx context.Context, c Cursor, limit int, bodies Bodies) ([]event.Event, Cursor, error)
	eachLean(ctx context.Context, c, upTo Cursor, bodies Bodies, fn func(event.Event, Cursor) error) error
	// timeline reads a user's events before the place (ts, seq), newest
	// first, or with after those after it, oldest first.
	timeline(ctx context.Context, userID string, limit int, ts, seq int64, after bool) ([]event.Event, error)
	// daily counts the events of users (their visits before sign-up
	// included) and how many of them were active, per day from from to to
	// (Unix milliseconds, to excluded).
	daily(ctx context.Context, users []string, from, to int64) ([]DayCount, error)
	// firstTimes finds the time of the earliest event of each timeline key
	// ("anon:<id>"); keys without one are absent.
	firstTimes(ctx context.Context, keys []string) (map[string]int64, error)
	count(ctx context.Context) (int64, error)
}

var (
	_ stream = (*runLog)(nil)
	_ stream = rowLog{}
)

// EventsAfter returns up to limit committed events after c, in commit order,
// and the cursor of the last one.
func (db *DB) EventsAfter(ctx context.Context, c Cursor, limit int) ([]event.Event, Cursor, error) {
	return db.log.eventsAfter(ctx, c, limit)
}

// IdentityEventsAfter is EventsAfter with only what identity resolution and
// the stages it hands events to read: ids, type, name, timestamp, the
// traits of identify and group calls, and the properties bodies asks for.
// Other times and bodies are left empty. The events this process committed
// last come from memory (tail).
func (db *DB) IdentityEventsAfter(ctx context.Context, c Cursor, limit int, bodies Bodies) ([]event.Event, Cursor, error) {
	return db.log.identityEventsAfter(ctx, c, limit, bodies)
}

// Split cuts the stream between after and upTo into at most n parts of at
// least least events that can be read at once, as the cursors that bound
// them. Only a stream whose sequence order is commit order (seqOrdered) is cut.
func (db *DB) Split(after, upTo Cursor, n int, least int64) []Cursor {
	span := upTo.Seq - after.Seq
	if !db.d.seqOrdered() || n < 2 || span < 2*least {
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

// want reports whether b asks for the properties of an event of type typ
// named name.
func (b Bodies) want(typ, name string) bool {
	return b.All || (typ == event.Track && slices.Contains(b.Names, name))
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
		if b.after.Before(c) {
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

// eachLeanRow reads the events after c up to upTo in commit order and
// hands each to fn with its cursor.
func (db *DB) eachLeanRow(ctx context.Context, c, upTo Cursor, bodies Bodies, fn func(event.Event, Cursor) error) error {
	return db.log.eachLean(ctx, c, upTo, bodies, fn)
}

// UserEvents returns a user's latest events, newest first, including those sent
// under anonymous ids before the user was identified.
func (db *DB) UserEvents(ctx context.Context, userID string, limit int) ([]event.Event, error) {
	return db.UserEventsBefore(ctx, userID, EventPos{}, limit)
}

// FirstEventTimes returns the time of the earliest event recorded under each
// timeline key ("user:<id>" or "anon:<id>"); keys without one are absent.
func (db *DB) FirstEventTimes(ctx context.Context, keys []string) (map[string]time.Time, error) {
	out := make(map[string]time.Time, len(keys))
	for len(keys) > 0 {
		n := min(len(keys), 500)
		found, err := db.log.firstTimes(ctx, keys[:n])
		if err != nil {
			return nil, err
		}
		for k, ms := range found {
			out[k] = fromMS(ms)
		}
		keys = keys[n:]
	}
	return out, nil
}

// DayCount is one day's activity of a set of users.
type DayCount struct {
	Day    time.Time // its midnight, UTC
	Events int
	Users  int // of them, active that day
}

// DailyActivity counts, per day from from to to (excluded), the events of
// users (their visits before they signed up included) and how many of them
// were active; days without any are absent.
func (db *DB) DailyActivity(ctx context.Context, users []string, from, to time.Time) ([]DayCount, error) {
	if len(users) == 0 {
		return nil, nil
	}
	return db.log.daily(ctx, users, from.UnixMilli(), to.UnixMilli())
}

// scanDays reads rows of a day number, events and users.
func scanDays(rows *sql.Rows, err error) ([]DayCount, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []DayCount
	for rows.Next() {
		var day int64
		var c DayCount
		if err := rows.Scan(&day, &c.Events, &c.Users); err != nil {
			return nil, err
		}
		c.Day = time.UnixMilli(day * 86_400_000).UTC()
		out = append(out, c)
	}
	return out, rows.Err()
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
	return db.log.timeline(ctx, userID, limit, ts, seq, false)
}

// UserEventsAfter returns a user's events after pos, to page forward: the
// limit oldest of them, newest first as every timeline reads.
func (db *DB) UserEventsAfter(ctx context.Context, userID string, pos EventPos, limit int) ([]event.Event, error) {
	evs, err := db.log.timeline(ctx, userID, limit, pos.TS.UnixMilli(), pos.Seq, true)
	slices.Reverse(evs)
	return evs, err
}

// scanFirstTimes reads rows of a key and a time in milliseconds.
func scanFirstTimes(rows *sql.Rows, err error) (map[string]int64, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var k string
		var ms int64
		if err := rows.Scan(&k, &ms); err != nil {
			return nil, err
		}
		out[k] = ms
	}
	return out, rows.Err()
}

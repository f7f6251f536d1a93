package store

import (
	"sync"

	"github.com/beaconplg/beacon/internal/event"
)

// tail keeps the events this process committed last, so that identity and
// scoring, which follow the stream a moment behind the collector, take them
// from memory instead of reading back the rows just written: under load
// that read was a tenth of the CPU. It holds one unbroken run of seqs, and
// a commit that does not continue the run (another process wrote between)
// starts it afresh; so what it holds of a range of seqs is exactly what the
// store holds there. Only SQLite fills it: there seq order is commit order.
type tail struct {
	mu    sync.RWMutex
	size  int        // most rows held
	ring  []eventRow // the row of seq s is at s % size; made at the first add
	first int64      // the oldest seq held; 0 when empty
	last  int64
	bytes int // of the bodies held
	limit int // most body bytes held
}

// tailEvents and tailBytes bound the tail: a few seconds of heavy ingest,
// more than identity and scoring run behind.
const (
	tailEvents = 1 << 16
	tailBytes  = 64 << 20
)

func newTail(events, bytes int) *tail {
	return &tail{size: events, limit: bytes}
}

// add takes rows just committed, numbered from first on.
func (t *tail) add(first int64, rows []eventRow) {
	if t == nil || len(rows) == 0 {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.ring == nil {
		// A store that never takes events (most commands) holds no ring.
		t.ring = make([]eventRow, t.size)
	}
	if t.first == 0 || first != t.last+1 {
		clear(t.ring)
		t.first, t.last, t.bytes = first, first-1, 0
	}
	for i := range rows {
		t.last++
		if t.last-t.first >= int64(t.size) {
			t.drop()
		}
		t.ring[t.slot(t.last)] = rows[i]
		t.bytes += len(rows[i].body)
		for t.bytes > t.limit && t.first < t.last {
			t.drop()
		}
	}
}

// drop lets go of the oldest row.
func (t *tail) drop() {
	r := &t.ring[t.slot(t.first)]
	t.bytes -= len(r.body)
	*r = eventRow{}
	t.first++
}

func (t *tail) slot(seq int64) int { return int(seq % int64(t.size)) }

// rows returns copies of the rows after seq after, up to seq upTo and at
// most limit of them; the first is after+1. ok is false unless the tail
// holds the row after after: then the store must be read. What lies beyond
// the tail's last row is left out, for the store to tell: another process
// may have written there.
func (t *tail) rows(after, upTo int64, limit int) (out []eventRow, ok bool) {
	if t == nil {
		return nil, false
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	if t.first == 0 || after < t.first-1 || after >= t.last || upTo <= after || limit <= 0 {
		return nil, false
	}
	n := min(t.last, upTo) - after
	n = min(n, int64(limit))
	out = make([]eventRow, n)
	for i := range out {
		out[i] = t.ring[t.slot(after+1+int64(i))]
	}
	return out, true
}

// identityEvent is what IdentityEventsAfter reads of a row (identityColumns).
func (r *eventRow) identityEvent(seq int64, bodies Bodies) event.Event {
	e := event.Event{Seq: seq, MessageID: r.messageID, Type: r.typ, Name: r.name, UserID: r.userID, AnonymousID: r.anonymousID,
		GroupID: r.groupID, PreviousID: r.previousID, Timestamp: fromMS(r.ts)}
	traits := r.typ == event.Identify || r.typ == event.Group
	if props := bodies.want(r.typ, r.name); traits || props {
		t, p := event.BodyParts([]byte(r.body))
		if traits {
			e.Traits = t
		}
		if props {
			e.Properties = p
		}
	}
	return e
}

// leanEvent is what ScanLean reads of a row (eachLeanRow).
func (r *eventRow) leanEvent(seq int64, bodies Bodies) event.Event {
	e := event.Event{Seq: seq, Type: r.typ, Name: r.name, UserID: r.userID, AnonymousID: r.anonymousID,
		GroupID: r.groupID, PreviousID: r.previousID, Timestamp: fromMS(r.ts)}
	if bodies.want(r.typ, r.name) {
		_, e.Properties = event.BodyParts([]byte(r.body))
	}
	return e
}

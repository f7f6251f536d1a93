package web

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/beaconplg/beacon/internal/event"
	"github.com/beaconplg/beacon/internal/store"
)

// timelineLength is how many events a timeline page shows.
const timelineLength = 50

// scanRounds bounds how many reads a filtered page makes of each user's
// timeline (scanBatch events each) before it shows what it found and
// offers to look further.
const (
	scanRounds = 5
	scanBatch  = 200
)

// timeline is a page of events of some users, newest first, with filters
// by user and event name and links to page either way.
type timeline struct {
	Path          string // the page it is on
	Events        []eventRow
	Users         []option // whom it may be filtered to
	User, Name    string   // the filters in force
	Older, Newer  string
	Newest        string
	Error         string
	Filtered      bool
	ScannedOlder  bool // a filtered page that stopped looking: Older looks further
	ScannedNewer  bool
	ShowUserLabel bool
}

type option struct{ Value, Label string }

type eventRow struct {
	At          time.Time
	User, Label string // the user's id ("" for a visitor) and how to name them
	Type, Name  string
	Props       []prop
}

type prop struct{ Key, Value string }

// timelineQuery is a timeline request: where to read from and what to keep.
type timelineQuery struct {
	pos   store.EventPos
	newer bool
	user  string
	name  string
}

// parseTimeline reads ?before= or ?after= (MS.SEQ), ?user= and ?event=,
// naming what it cannot take.
func parseTimeline(v url.Values, users []string) (timelineQuery, error) {
	var q timelineQuery
	before, after := v.Get("before"), v.Get("after")
	if before != "" && after != "" {
		return q, fmt.Errorf("page the timeline before or after an event, not both")
	}
	if at := cmp.Or(before, after); at != "" {
		pos, ok := eventPos(at)
		if !ok {
			return q, fmt.Errorf("the timeline place %q is not MILLISECONDS.SEQ", at)
		}
		q.pos, q.newer = pos, after != ""
	}
	if q.user = v.Get("user"); q.user != "" && !slices.Contains(users, q.user) {
		return q, fmt.Errorf("%q is not one of these users", q.user)
	}
	if q.name = strings.TrimSpace(v.Get("event")); len(q.name) > event.MaxIDBytes || !utf8.ValidString(q.name) {
		return q, fmt.Errorf("an event name is text of at most %d bytes", event.MaxIDBytes)
	}
	return q, nil
}

// eventPos reads MS.SEQ, the place of an event in a timeline.
func eventPos(v string) (store.EventPos, bool) {
	ms, seq, ok := strings.Cut(v, ".")
	t, err1 := strconv.ParseInt(ms, 10, 64)
	n, err2 := strconv.ParseInt(seq, 10, 64)
	if !ok || err1 != nil || err2 != nil || t <= 0 || n < 0 {
		return store.EventPos{}, false
	}
	return store.EventPos{TS: time.UnixMilli(t).UTC(), Seq: n}, true
}

func placeOf(e event.Event) string { return fmt.Sprintf("%d.%d", e.Timestamp.UnixMilli(), e.Seq) }

// timelineReader is what a timeline reads.
type timelineReader interface {
	UserEventsBefore(ctx context.Context, userID string, pos store.EventPos, limit int) ([]event.Event, error)
	UserEventsAfter(ctx context.Context, userID string, pos store.EventPos, limit int) ([]event.Event, error)
}

// readTimeline fills t with the page q asks of users' merged timelines.
func readTimeline(ctx context.Context, db timelineReader, t *timeline, users []string, q timelineQuery, label func(string) string) error {
	if q.user != "" {
		users = []string{q.user}
	}
	keep := func(e event.Event) bool { return q.name == "" || strings.EqualFold(e.Name, q.name) }
	per := timelineLength + 1
	if q.name != "" {
		per = scanBatch
	}
	pos, page, more, scanned := q.pos, []event.Event(nil), false, false
	for round := 0; ; round++ {
		exact, boundary, full, err := mergedRead(ctx, db, users, pos, q.newer, per)
		if err != nil {
			return err
		}
		for _, e := range exact {
			if keep(e) {
				page = append(page, e)
			}
		}
		if len(page) > timelineLength {
			page, more = page[:timelineLength], true
			break
		}
		if !full {
			break // every user's events are read
		}
		if pos = boundary; round == scanRounds-1 {
			more, scanned = true, true
			break
		}
	}
	if q.newer {
		slices.Reverse(page)
	}
	for _, e := range page {
		t.Events = append(t.Events, rowOf(e, label))
	}
	t.link(q, page, more, scanned, pos)
	return nil
}

// mergedRead reads per events of each user from pos either way, merged in
// reading order. exact is the run of them that no unread event can come
// before: up to boundary, the furthest point every user read in full
// reached; full says some user had more.
func mergedRead(ctx context.Context, db timelineReader, users []string, pos store.EventPos, newer bool, per int) (exact []event.Event, boundary store.EventPos, full bool, err error) {
	var all []event.Event
	var bound *event.Event
	for _, u := range users {
		var evs []event.Event
		if newer {
			evs, err = db.UserEventsAfter(ctx, u, pos, per)
		} else {
			evs, err = db.UserEventsBefore(ctx, u, pos, per)
		}
		if err != nil {
			return nil, pos, false, err
		}
		if len(evs) == per {
			full = true
			// The user's furthest read event: newest first, the last;
			// after pos, read oldest first and handed back newest first.
			last := evs[len(evs)-1]
			if newer {
				last = evs[0]
			}
			// The boundary is the nearest of those: the newest when paging
			// back, the oldest when paging forward.
			if bound == nil || before(*bound, last) == !newer {
				bound = &last
			}
		}
		all = append(all, evs...)
	}
	slices.SortFunc(all, func(a, b event.Event) int {
		c := cmp.Or(b.Timestamp.Compare(a.Timestamp), cmp.Compare(b.Seq, a.Seq))
		if newer {
			c = -c
		}
		return c
	})
	all = slices.CompactFunc(all, func(a, b event.Event) bool { return a.Seq == b.Seq }) // a user in twice
	if bound == nil {
		return all, pos, false, nil
	}
	for _, e := range all {
		if !newer && before(e, *bound) || newer && before(*bound, e) {
			break
		}
		exact = append(exact, e)
	}
	return exact, store.EventPos{TS: bound.Timestamp, Seq: bound.Seq}, true, nil
}

// before reports whether a comes before b in time (then in the stream).
func before(a, b event.Event) bool {
	return a.Timestamp.Before(b.Timestamp) || a.Timestamp.Equal(b.Timestamp) && a.Seq < b.Seq
}

// link sets the page's links: older and newer events, with the filters.
func (t *timeline) link(q timelineQuery, page []event.Event, more, scanned bool, scannedTo store.EventPos) {
	base := url.Values{}
	if q.user != "" {
		base.Set("user", q.user)
	}
	if q.name != "" {
		base.Set("event", q.name)
	}
	href := func(k, v string) string {
		p := url.Values{}
		for key, vals := range base {
			p[key] = vals
		}
		if k != "" {
			p.Set(k, v)
		}
		s := t.Path
		if enc := p.Encode(); enc != "" {
			s += "?" + enc
		}
		return s + "#timeline"
	}
	t.User, t.Name, t.Filtered = q.user, q.name, q.user != "" || q.name != ""
	scannedPlace := fmt.Sprintf("%d.%d", scannedTo.TS.UnixMilli(), scannedTo.Seq)
	switch {
	case q.newer:
		if len(page) > 0 {
			t.Older = href("before", placeOf(page[len(page)-1]))
		}
		if more {
			t.Newer = href("after", placeOf(page[0]))
			if scanned {
				t.Newer, t.ScannedNewer = href("after", scannedPlace), true
			}
		}
		t.Newest = href("", "")
	default:
		if more {
			t.Older = href("before", placeOf(page[len(page)-1]))
			if scanned {
				t.Older, t.ScannedOlder = href("before", scannedPlace), true
			}
		}
		if !q.pos.TS.IsZero() {
			if len(page) > 0 {
				t.Newer = href("after", placeOf(page[0]))
			}
			t.Newest = href("", "")
		}
	}
}

// rowOf lays an event out for a page: its properties (or traits) as short
// name = value pairs.
func rowOf(e event.Event, label func(string) string) eventRow {
	r := eventRow{At: e.Timestamp, User: e.UserID, Type: e.Type, Name: e.Name}
	if e.UserID == "" {
		r.Label = "visitor " + short(e.AnonymousID, 8)
	} else {
		r.Label = label(e.UserID)
	}
	body := e.Properties
	if e.Type == event.Identify || e.Type == event.Group {
		body = e.Traits
	}
	var m map[string]any
	if len(body) > 0 && json.Unmarshal(body, &m) == nil {
		keys := slices.Sorted(maps.Keys(m))
		for _, k := range keys[:min(len(keys), maxProps)] {
			r.Props = append(r.Props, prop{Key: short(k, 40), Value: short(propValue(m[k]), 80)})
		}
		if len(keys) > maxProps {
			r.Props = append(r.Props, prop{Key: "…", Value: fmt.Sprintf("%d more", len(keys)-maxProps)})
		}
	}
	return r
}

// maxProps is how many properties a timeline row shows.
const maxProps = 6

func propValue(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return number(x)
	case nil:
		return "null"
	}
	b, _ := json.Marshal(v) // decoded from JSON: it marshals
	return string(b)
}

// short cuts s to n runes, marking the cut.
func short(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

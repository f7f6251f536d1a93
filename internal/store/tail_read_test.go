package store_test

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/beaconplg/beacon/internal/event"
	"github.com/beaconplg/beacon/internal/store"
	"github.com/beaconplg/beacon/internal/store/storetest"
)

// mixed returns n events of every type, ids prefixed, bodies with traits
// and properties.
func mixed(prefix string, n int) []event.Event {
	at := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	types := []string{event.Track, event.Identify, event.Group, event.Page, event.Alias, event.Track}
	names := []string{"Report Viewed", "Pricing", "Invite Sent"}
	evs := make([]event.Event, n)
	for i := range evs {
		typ, id := types[i%len(types)], fmt.Sprintf("%s-%d", prefix, i)
		evs[i] = event.Event{MessageID: id, Type: typ, UserID: fmt.Sprintf("u%d", i%13), AnonymousID: fmt.Sprintf("a%d", i%17),
			GroupID: fmt.Sprintf("g%d", i%5), Timestamp: at.Add(time.Duration(i) * time.Second), ReceivedAt: at,
			Body: []byte(fmt.Sprintf(`{"type":%q,"traits":{"i":%d},"properties":{"n":%d}}`, typ, i, i))}
		switch typ {
		case event.Track, event.Page:
			evs[i].Name = names[(i/len(types))%len(names)]
		case event.Alias:
			evs[i].PreviousID, evs[i].AnonymousID = evs[i].AnonymousID, ""
		}
	}
	return evs
}

// What identity and scoring read of the events this process just wrote
// (from its tail) is what a process that did not write them reads (from
// the rows), for every kind of read.
func TestTailReadsAsTheRows(t *testing.T) {
	ctx := context.Background()
	db := storetest.SQLite(t)
	evs := mixed("m", 3000)
	for i := 0; i < len(evs); i += 700 {
		if _, err := db.AppendEvents(ctx, evs[i:min(i+700, len(evs))]); err != nil {
			t.Fatal(err)
		}
	}
	rows := another(t, db)
	for _, bodies := range []store.Bodies{{}, {All: true}, {Names: []string{"Pricing"}}} {
		for _, after := range []int64{0, 1, 1499, 2998, 2999, 3000} {
			for _, limit := range []int{1, 700, 5000} {
				got, gotNext, err := db.IdentityEventsAfter(ctx, store.Cursor{Seq: after}, limit, bodies)
				if err != nil {
					t.Fatal(err)
				}
				want, wantNext, err := rows.IdentityEventsAfter(ctx, store.Cursor{Seq: after}, limit, bodies)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(got, want) || gotNext != wantNext {
					t.Fatalf("identity read after %d, limit %d, %+v: %d events to %v, the rows' %d to %v", after, limit, bodies, len(got), gotNext, len(want), wantNext)
				}
			}
		}
	}
	for _, bodies := range []store.Bodies{{}, {All: true}, {Names: []string{"Pricing", "Page Only"}}} {
		for _, r := range [][2]int64{{0, 3000}, {100, 2500}, {2999, 3000}} {
			scan := func(db *store.DB) ([]event.Event, []store.Cursor) {
				var all []event.Event
				var at []store.Cursor
				err := db.ScanLean(ctx, store.Cursor{Seq: r[0]}, store.Cursor{Seq: r[1]}, 1000, bodies, func(evs []event.Event, c store.Cursor) error {
					all, at = append(all, evs...), append(at, c)
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
				return all, at
			}
			got, gotAt := scan(db)
			want, wantAt := scan(rows)
			if len(got) != int(r[1]-r[0]) || !reflect.DeepEqual(got, want) || !reflect.DeepEqual(gotAt, wantAt) {
				t.Fatalf("lean scan %v with %+v: %d events in batches ending %v; the rows: %d in %v", r, bodies, len(got), gotAt, len(want), wantAt)
			}
		}
	}
}

// Another process writing between this one's commits breaks the tail's
// run: readers still get every event, in order, theirs included.
func TestTailAfterAnotherWriter(t *testing.T) {
	ctx := context.Background()
	db := storetest.SQLite(t)
	other := another(t, db)
	var want []string
	read := func(c store.Cursor) (ids []string, next store.Cursor) {
		for {
			evs, n, err := db.IdentityEventsAfter(ctx, c, 4, store.Bodies{})
			if err != nil {
				t.Fatal(err)
			}
			if len(evs) == 0 {
				return ids, c
			}
			for _, e := range evs {
				ids = append(ids, e.MessageID)
			}
			c = n
		}
	}
	var got []string
	var c store.Cursor
	for i, h := range []*store.DB{db, other, db, other} {
		evs := mixed(fmt.Sprint("h", i), 6)
		if _, err := h.AppendEvents(ctx, evs); err != nil {
			t.Fatal(err)
		}
		for _, e := range evs {
			want = append(want, e.MessageID)
		}
		var more []string
		more, c = read(c)
		got = append(got, more...)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("after write %d read %v, want %v", i, got, want)
		}
	}
}

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

// streamOf appends n events of every kind replay reads and returns the
// settled cursor after the last.
func streamOf(t *testing.T, db *store.DB, n int) store.Cursor {
	t.Helper()
	at := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	names := []string{"A", "B", "C"}
	evs := make([]event.Event, 0, n)
	for i := range n {
		e := event.Event{MessageID: fmt.Sprintf("m%d", i), Type: event.Track, Name: names[i%3],
			UserID: fmt.Sprintf("u%d", i%50), GroupID: fmt.Sprintf("g%d", i%7),
			Timestamp: at.Add(time.Duration(i%90) * time.Minute), ReceivedAt: at,
			Body: []byte(fmt.Sprintf(`{"type":"track","properties":{"n":%d}}`, i))}
		switch i % 5 {
		case 1:
			e.Type, e.Name, e.UserID, e.AnonymousID = event.Page, "Pricing", "", fmt.Sprintf("anon-%d", i%40)
		case 2:
			e.Type, e.Name, e.PreviousID = event.Alias, "", fmt.Sprintf("anon-%d", i%40)
		}
		evs = append(evs, e)
	}
	ctx := context.Background()
	for len(evs) > 0 {
		k := min(len(evs), 1000)
		if _, err := db.AppendEvents(ctx, evs[:k]); err != nil {
			t.Fatal(err)
		}
		evs = evs[k:]
	}
	var c store.Cursor
	seen := 0
	for deadline := time.Now().Add(storetest.HangGuard); seen < n && time.Now().Before(deadline); {
		got, next, err := db.EventsAfter(ctx, c, 5000)
		if err != nil {
			t.Fatal(err)
		}
		seen, c = seen+len(got), next
	}
	if seen != n {
		t.Fatalf("stream settled %d of %d events", seen, n)
	}
	return c
}

// scan reads the stream lean, as replay does, and says how many batches
// were whole blocks.
func scan(t *testing.T, db *store.DB, after, upTo store.Cursor, bodies store.Bodies) ([]event.Event, int) {
	t.Helper()
	var all []event.Event
	blocks := 0
	err := db.ScanLean(context.Background(), after, upTo, 1000, bodies, func(evs []event.Event, next store.Cursor) error {
		if len(evs) == store.BlockEvents {
			blocks++
		}
		if next.Seq != evs[len(evs)-1].Seq {
			t.Errorf("batch ends at seq %d, cursor says %d", evs[len(evs)-1].Seq, next.Seq)
		}
		all = append(all, evs...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return all, blocks
}

// A packed stream reads back exactly as its rows do, from any cursor to any
// other, and is packed again when the rules read bodies it did not keep.
func TestPack(t *testing.T) {
	for _, eng := range storetest.Engines(t) {
		t.Run(eng.Name, func(t *testing.T) {
			writer := eng.Open(t)
			ctx := context.Background()
			n := 2*store.BlockEvents + 100
			end := streamOf(t, writer, n)
			// Replays run in a process that did not write the stream:
			// the writer's would read its tail of recent events instead.
			db := another(t, writer)
			onlyA := store.Bodies{Names: []string{"A"}}
			at := cursors(t, db, end)
			rows, blocks := scan(t, db, store.Cursor{}, end, onlyA)
			if len(rows) != n || blocks != 0 {
				t.Fatalf("before packing: %d events, %d blocks", len(rows), blocks)
			}
			if string(rows[0].Properties) != `{"n":0}` || rows[1].Properties != nil || rows[4].Properties != nil || rows[0].Body != nil {
				t.Fatalf("properties of A only were asked for: %q %q %q", rows[0].Properties, rows[1].Properties, rows[4].Properties)
			}
			if got, err := db.Pack(ctx, end, onlyA); err != nil || got != 2*store.BlockEvents {
				t.Fatalf("pack = %d, %v", got, err)
			}
			if got, err := db.Pack(ctx, end, onlyA); err != nil || got != 0 {
				t.Fatalf("packing again = %d, %v; want nothing new", got, err)
			}
			packed, blocks := scan(t, db, store.Cursor{}, end, onlyA)
			if blocks != 2 {
				t.Fatalf("read %d blocks, want 2", blocks)
			}
			sameEvents(t, packed, rows)

			// From inside the first block to inside the last: rows, a
			// block, rows.
			from, to := 100, store.BlockEvents+store.BlockEvents/2
			mid, blocks := scan(t, db, at[from], at[to], onlyA)
			if blocks != 0 {
				t.Errorf("a block only partly inside the range was used")
			}
			sameEvents(t, mid, rows[from+1:to+1])
			tail, blocks := scan(t, db, at[from], end, onlyA)
			if blocks != 1 {
				t.Errorf("from inside the first block: %d blocks read, want 1", blocks)
			}
			sameEvents(t, tail, rows[from+1:])

			// Rules that read B's bodies too: blocks lack them, so rows
			// are read until the stream is packed again with both.
			ab := store.Bodies{Names: []string{"A", "B"}}
			rowsAB, blocks := scan(t, db, store.Cursor{}, end, ab)
			if blocks != 0 || rowsAB[4].Properties == nil {
				t.Fatalf("blocks without B's bodies served a read of them (%d blocks)", blocks)
			}
			if got, err := db.Pack(ctx, end, store.Bodies{Names: []string{"B"}}); err != nil || got != 2*store.BlockEvents {
				t.Fatalf("pack for B = %d, %v; want the stream packed again", got, err)
			}
			packedAB, blocks := scan(t, db, store.Cursor{}, end, ab)
			if blocks != 2 {
				t.Fatalf("after packing for B: %d blocks", blocks)
			}
			sameEvents(t, packedAB, rowsAB)
			if _, blocks := scan(t, db, store.Cursor{}, end, store.Bodies{All: true}); blocks != 0 {
				t.Fatalf("blocks served a read of every body")
			}

			// Blocks of an older format are read as rows until a pack
			// replaces them.
			if err := db.AgeBlocks(ctx); err != nil {
				t.Fatal(err)
			}
			if got, blocks := scan(t, db, store.Cursor{}, end, ab); blocks != 0 {
				t.Fatalf("%d blocks of an older format were read", blocks)
			} else {
				sameEvents(t, got, rowsAB)
			}
			if got, err := db.Pack(ctx, end, ab); err != nil || got != 2*store.BlockEvents {
				t.Fatalf("pack over old blocks = %d, %v", got, err)
			}
			if _, blocks := scan(t, db, store.Cursor{}, end, ab); blocks != 2 {
				t.Fatalf("after packing again: %d blocks", blocks)
			}
		})
	}
}

// cursors returns the cursor of every event: PostgreSQL's hold the
// transaction too, so they come from reading rows one at a time.
func cursors(t *testing.T, db *store.DB, upTo store.Cursor) []store.Cursor {
	t.Helper()
	var out []store.Cursor
	err := db.ScanLean(context.Background(), store.Cursor{}, upTo, 1, store.Bodies{}, func(_ []event.Event, c store.Cursor) error {
		out = append(out, c)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func sameEvents(t *testing.T, got, want []event.Event) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d events, want %d", len(got), len(want))
	}
	for i := range got {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Fatalf("event %d:\n got %+v\nwant %+v", i, got[i], want[i])
		}
	}
}
